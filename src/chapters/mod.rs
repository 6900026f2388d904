//! Chapters: an episode's outline, with a title and a one-line summary per section.
//!
//! Boundaries come from the sentences distillation already prepared ([`segment`]: embedding
//! shift plus how hosts steer a conversation), sponsor reads ([`crate::distill::ads`]) become
//! chapters of their own ("Sponsor: Name") so a listener can skip them, and each topic section
//! gets a short title from the chat model, checked against its words, and a summary sentence
//! quoted from it ([`title`]). [`format`](mod@format) writes the Podcasting 2.0 chapters JSON that podcast
//! apps read, YouTube-style `MM:SS Title` lines, or Markdown. Chapters the publisher already
//! made (a `chapters.json` beside the episode, ID3 `CHAP` frames, MP4 chapters) are shown as
//! they are ([`from_file`]); [`outline`] gives every episode of a brief its chapters.

pub mod format;
pub mod segment;
pub mod title;

use std::path::Path;

use crate::asr::Segment;
use crate::distill::ads::AdRead;
use crate::distill::Line;
use crate::llm::{Llm, LlmError};

pub use segment::SegmentOptions;
pub use title::TitleSource;

/// One chapter of an episode.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Chapter {
    /// Seconds from the start of the episode.
    pub start: f64,
    pub end: f64,
    pub title: String,
    /// The section's most central statement, as said; none for sponsor reads.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub title_source: TitleSource,
    /// Set for a sponsor read: who sponsors it, when the read says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ad: Option<AdRead>,
}

/// The chapters of every episode in `lines` (all episodes' sentences as distillation prepared
/// them, sponsor reads marked), as `(episode index, chapters)`; `segments[e]` are episode `e`'s
/// transcript segments and `reads[e]` its sponsor reads (indexing `lines`). Only the episodes
/// `wanted` are done (the others may have their publisher's chapters). One episode's failure
/// (a model error) does not stop the others.
pub fn outline(
    lines: &[Line],
    segments: &[&[Segment]],
    reads: &[Vec<AdRead>],
    mut titler: Option<Titler>,
    opts: &SegmentOptions,
    wanted: &dyn Fn(usize) -> bool,
) -> Vec<(usize, Result<Vec<Chapter>, LlmError>)> {
    let mut out = Vec::new();
    for (start, end) in crate::distill::candidates::episode_ranges(lines) {
        let (lines, e) = (&lines[start..end], lines[start].episode);
        if !wanted(e) {
            continue;
        }
        let paragraph = paragraph_starts(segments.get(e).copied().unwrap_or_default(), lines);
        // The reads as positions in this episode's lines.
        let local: Vec<AdRead> = reads
            .get(e)
            .into_iter()
            .flatten()
            .map(|a| AdRead { first: a.first - start, last: a.last - start, ..a.clone() })
            .collect();
        out.push((e, chapters(lines, &paragraph, &local, titler.as_mut(), opts)));
    }
    out
}

/// Which sentences open a transcript segment (a paragraph of a Markdown transcript, a cue, a
/// Whisper window): the places a chapter may start without a transition phrase.
fn paragraph_starts(segments: &[Segment], lines: &[Line]) -> Vec<bool> {
    let mut starts: Vec<f64> = segments.iter().map(|s| s.start).collect();
    starts.sort_by(f64::total_cmp);
    lines
        .iter()
        .map(|l| {
            let i = starts.partition_point(|&s| s < l.sentence.start - 1e-3);
            starts.get(i).is_some_and(|&s| (s - l.sentence.start).abs() <= 1e-3)
        })
        .collect()
}

/// Chapters the publisher put in the file, as they are (no summaries).
pub fn from_file(given: Vec<crate::audio::chapters::FileChapter>) -> Vec<Chapter> {
    given
        .into_iter()
        .map(|c| Chapter {
            start: c.start,
            end: c.end,
            title: c.title,
            summary: None,
            title_source: TitleSource::File,
            ad: None,
        })
        .collect()
}

impl Chapter {
    /// The chapter as the brief's outline shows it.
    pub fn info(&self) -> crate::brief::ChapterInfo {
        crate::brief::ChapterInfo {
            start: self.start,
            end: self.end,
            title: self.title.clone(),
            sponsor: self.ad.is_some(),
        }
    }
}

/// The chat model that titles chapters, its registry name (for the cache) and where replies
/// are cached.
pub struct Titler<'a> {
    pub llm: &'a mut Llm,
    pub name: &'a str,
    pub cache: Option<&'a Path>,
}

/// The chapters of one episode whose sentences are `lines` (in order; `paragraph[i]` marks a
/// sentence that opens a transcript segment) and whose sponsor reads are `ads`.
pub fn chapters(
    lines: &[Line],
    paragraph: &[bool],
    ads: &[AdRead],
    mut titler: Option<&mut Titler>,
    opts: &SegmentOptions,
) -> Result<Vec<Chapter>, LlmError> {
    let Some(last) = lines.last() else { return Ok(Vec::new()) };
    let cuts = cuts(segment::boundaries(lines, paragraph, opts), ads, opts.min_len / 5.0, lines);
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let starts: Vec<usize> = std::iter::once(0).chain(cuts).collect();
    for (k, &first) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let section = &lines[first..end];
        let start = if k == 0 { 0.0 } else { section[0].sentence.start };
        let end_t = section.last().map_or(last.sentence.end, |l| l.sentence.end);
        let ad = ads.iter().find(|a| a.first == first).cloned();
        let chapter = match ad {
            Some(ad) => Chapter {
                start,
                end: end_t,
                title: ad.sponsor.as_ref().map_or("Sponsor".into(), |s| format!("Sponsor: {s}")),
                summary: None,
                title_source: TitleSource::Sponsor,
                ad: Some(ad),
            },
            None => {
                let used: Vec<String> = out.iter().map(|c: &Chapter| c.title.clone()).collect();
                let model = match titler.as_mut() {
                    Some(t) => title::model_title(t.llm, t.name, section, &used, t.cache)?,
                    None => None,
                };
                let (title, title_source) = match model {
                    Some(t) => (t, TitleSource::Model),
                    None => (title::word_title(section, lines), TitleSource::Words),
                };
                let summary = title::summary(section);
                Chapter { start, end: end_t, title, summary, title_source, ad: None }
            }
        };
        out.push(chapter);
    }
    Ok(out)
}

/// Topic boundaries merged with the edges of sponsor reads: a read starts a chapter and the
/// sentence after it starts the next; topic boundaries inside a read, or within `near`
/// seconds of its edges, give way to them.
fn cuts(topic: Vec<usize>, ads: &[AdRead], near: f64, lines: &[Line]) -> Vec<usize> {
    let t = |i: usize| lines.get(i).map_or(f64::MAX, |l| l.sentence.start);
    let mut out: Vec<usize> = topic
        .into_iter()
        .filter(|&i| {
            ads.iter().all(|a| {
                let inside = i >= a.first && i <= a.last + 1;
                !inside && (t(i) - a.start).abs() > near && (t(i) - a.end).abs() > near
            })
        })
        .collect();
    for a in ads {
        out.extend([a.first, a.last + 1].into_iter().filter(|&i| i > 0 && i < lines.len()));
    }
    out.sort_unstable();
    out.dedup();
    out
}
