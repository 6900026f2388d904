//! The brief: the pipeline's final, typed result and its three renderings.
//!
//! This module is deliberately pure data plus string rendering, with no dependency on the
//! stages that fill it, so a brief saved as JSON can be re-rendered (or read by other tools)
//! without models, audio or caches. The JSON form is the stable interface; its schema is
//! written out by hand in `docs/brief.schema.json` and bumps [`SCHEMA_VERSION`] when it
//! changes incompatibly.

use std::collections::BTreeMap;

mod email;
mod html;
mod markdown;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;

/// Version of the JSON layout; readers refuse other versions rather than guess at fields.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Brief {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub version: u32,
    pub title: String,
    /// RFC 3339 UTC timestamp; supplied by the caller so rendering stays deterministic.
    pub created: String,
    pub episodes: Vec<EpisodeInfo>,
    pub interests: Vec<String>,
    pub models: ModelsUsed,
    /// The top entries, in rank order; the same values as the first entries of `clusters`.
    pub brief: Vec<Entry>,
    /// Every cluster in rank order, so a reader can look past the cut without re-running.
    pub clusters: Vec<Entry>,
    pub stats: Stats,
    /// Candidates the grounding checks refused; only filled when the user asks why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<Rejected>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EpisodeInfo {
    pub title: String,
    /// File name of the input, so an entry can be traced back to audio on disk.
    pub source: String,
    /// Hex SHA-256 of the input; identifies the episode even if the file is renamed.
    pub sha256: String,
    /// Seconds.
    pub duration: f64,
    /// Sponsor reads found in it (never used as insights).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ads: Vec<AdSpan>,
    /// Its outline: chapters in time order (sponsor reads among them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chapters: Vec<ChapterInfo>,
}

/// One chapter of an episode's outline.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChapterInfo {
    pub start: f64,
    pub end: f64,
    pub title: String,
    /// A sponsor read.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sponsor: bool,
}

/// One episode's outline as the renderers show it: each chapter with the brief's entries
/// that come from it.
pub type Outline<'a> = (&'a EpisodeInfo, Vec<(&'a ChapterInfo, Vec<&'a Entry>)>);

/// The outline of every episode that has chapters, each entry of the brief under the chapter
/// its quote is from.
pub fn outline(brief: &Brief) -> Vec<Outline<'_>> {
    let at = |e: &EpisodeInfo, t: f64| e.chapters.iter().rposition(|c| c.start <= t + 1e-6);
    brief
        .episodes
        .iter()
        .enumerate()
        .filter(|(_, e)| !e.chapters.is_empty())
        .map(|(i, e)| {
            let mut under: Vec<Vec<&Entry>> = vec![Vec::new(); e.chapters.len()];
            for entry in brief.brief.iter().filter(|x| x.episode_index == i) {
                if let Some(c) = at(e, entry.start) {
                    under[c].push(entry);
                }
            }
            (e, e.chapters.iter().zip(under).collect())
        })
        .collect()
}

/// A sponsor read: where it is, and whose, when the read names its sponsor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AdSpan {
    pub start: f64,
    pub end: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ModelsUsed {
    /// `None` when the input was already a transcript and no speech recognition ran.
    pub asr: Option<String>,
    pub embed: String,
    pub llm: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// 1-based.
    pub rank: usize,
    pub headline: String,
    pub text: String,
    /// Transcript words, so the reader can check the claim against what was said; only
    /// fillers and false starts may have been removed (`edited`).
    pub quote: String,
    /// Who said the quote, when the transcript names speakers (never guessed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// The quote is lightly edited: fillers ("you know", "um") or a false start were removed.
    #[serde(default)]
    pub edited: bool,
    /// Episode title, or file name when the episode has no title.
    pub episode: String,
    /// Index into [`Brief::episodes`].
    pub episode_index: usize,
    /// Seconds, of the quoted span.
    pub start: f64,
    pub end: f64,
    /// Higher is better; the sort key of the ranking.
    pub score: f64,
    pub scores: ScoreParts,
    pub origin: Origin,
    pub related: Vec<Related>,
}

/// The components `score` is made from, kept so a ranking can be explained.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScoreParts {
    pub support: f64,
    pub specificity: f64,
    pub episodes: f64,
    pub interest: f64,
    pub quality: f64,
}

/// Who wrote an entry's headline and text: the LLM, or the model-free sentence scorer used
/// when the LLM proposed nothing grounded for that part of the transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Llm,
    Extractive,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Related {
    pub text: String,
    pub quote: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    pub episode: String,
    pub episode_index: usize,
    /// Seconds.
    pub start: f64,
    pub end: f64,
    pub kind: RelatedKind,
    /// Cosine similarity of the embeddings, -1 to 1.
    pub similarity: f64,
}

/// `Merged`: a near-duplicate folded into the entry; `Nearby`: a distinct but similar point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelatedKind {
    Merged,
    Nearby,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub sentences: usize,
    /// Sentences nominated as insights by the model-free scores.
    pub nominated: usize,
    /// Nominations the LLM was asked to rewrite.
    pub llm_passages: usize,
    /// Rewrites that passed the grounding rules.
    pub verified: usize,
    pub rejected: usize,
    pub clusters: usize,
    /// Wall-clock seconds per stage name; a map so new stages need no schema change.
    pub seconds: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Rejected {
    pub claim: String,
    pub quote: String,
    pub episode: String,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Md,
    Json,
    Html,
}

impl Format {
    /// File extension without the dot, for naming output files after the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Md => "md",
            Format::Json => "json",
            Format::Html => "html",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BriefError {
    #[error("not a podbrief brief: {0}")]
    Json(#[from] serde_json::Error),
    #[error("brief has schema version {found}; this podbrief reads version {SCHEMA_VERSION}")]
    Version { found: u32 },
}

impl Brief {
    /// Reads a brief written as JSON (for re-rendering in another format). The version is
    /// checked first so a future layout fails with a clear message instead of a missing-field
    /// error.
    pub fn from_json(json: &str) -> Result<Brief, BriefError> {
        #[derive(serde::Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let VersionOnly { version } = serde_json::from_str(json)?;
        if version != SCHEMA_VERSION {
            return Err(BriefError::Version { found: version });
        }
        Ok(serde_json::from_str(json)?)
    }
}

/// Renders the whole brief as one document in `format`.
/// The HTML brief for a mail body: the same content as [`Format::Html`] with inline styles only.
pub fn render_email(brief: &Brief) -> String {
    email::render(brief)
}

pub fn render(brief: &Brief, format: Format) -> String {
    match format {
        Format::Md => markdown::render(brief),
        Format::Html => html::render(brief),
        Format::Json => {
            // Serialising these types cannot fail (plain structs, string map keys); the fallback
            // only keeps a future custom `Serialize` from turning into a panic.
            let mut out = serde_json::to_string_pretty(brief)
                .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string());
            out.push('\n');
            out
        }
    }
}

/// `m:ss` under an hour and `h:mm:ss` from an hour on, as podcast players show positions.
///
/// Seconds are truncated, not rounded, so seeking to the shown time lands at or just before
/// the quote rather than after its first word. Negative, NaN and infinite inputs (bad
/// timings from upstream) show as `0:00` instead of panicking or printing nonsense.
/// The line under a quote: "— Speaker, Episode, 12:34 (lightly edited)"; the speaker only
/// when the transcript named one. Plain text: each renderer escapes it.
pub fn citation(entry: &Entry) -> String {
    let (who, edited) = (speaker_prefix(entry), edited_suffix(entry));
    format!("— {who}{}, {}{edited}", entry.episode, timestamp(entry.start))
}

/// Whether the headline already is the quote (an entry that stands as it was said): then the
/// renderers give only the citation, so no entry says one sentence twice. Compared word by word,
/// ignoring case and punctuation, since the headline is the quote tidied.
pub fn quote_is_headline(entry: &Entry) -> bool {
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '%')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (h, q) = (words(&entry.headline), words(&entry.quote));
    // The tidied headline may have lost a leading "So"/"And".
    !h.is_empty() && q.len() >= h.len() && q.len() <= h.len() + 2 && q.ends_with(&h)
}

/// "Name, " when the transcript names the quote's speaker, else nothing.
pub fn speaker_prefix(entry: &Entry) -> String {
    entry.speaker.as_deref().map(|s| format!("{s}, ")).unwrap_or_default()
}

/// " (lightly edited)" when fillers or a false start were removed from the quote.
pub fn edited_suffix(entry: &Entry) -> &'static str {
    if entry.edited {
        " (lightly edited)"
    } else {
        ""
    }
}

pub fn timestamp(secs: f64) -> String {
    let total = if secs.is_finite() && secs > 0.0 { secs as u64 } else { 0 };
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}
