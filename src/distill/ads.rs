//! Sponsor reads as spans: where an ad starts and ends, and whose it is.
//!
//! A sentence-level filler class ([`super::signals::filler`]) catches the lines that announce an
//! ad ("brought to you by", "use code"), but an ad read is a passage: the pitch between the
//! announcement and the promo code says nothing that marks it as an ad on its own. So each
//! marked sentence seeds a span that grows over its neighbours while they still read as a
//! pitch (the sponsor's name, a web address, a call to act) or lie between two marked
//! sentences, and stops at "back to the show" or at another speaker who does not pitch. A span
//! counts as a read when it lasts 10 s and holds a phrase that only ads use ("brought to you
//! by") or two weaker marks (a web address and "percent off"): a URL said in conversation is
//! not an ad. The sponsor is named only when the read names it after a sponsorship phrase,
//! never guessed (its web address only trims a name Whisper ran on).

use crate::asr::Segment;
use crate::chunk::{ChunkOptions, Sentence};

use super::Line;

use super::signals::{filler, Filler, AD_STRONG};

/// One sponsor read: sentences `first..=last` of the list it was found in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AdRead {
    pub start: f64,
    pub end: f64,
    /// The sponsor, as the read names it ("brought to you by Typewell").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    #[serde(skip)]
    pub first: usize,
    #[serde(skip)]
    pub last: usize,
}

/// Phrases after which a read names its sponsor.
const SPONSOR_AFTER: &[&str] = &[
    "brought to you by",
    "sponsored by",
    "supported by",
    "word from our sponsor",
    "word from our sponsors",
    "our sponsor",
    "our sponsors",
    "our friends at",
    "thanks to",
    "comes from",
    "made possible by",
];

/// Words of a pitch: what a read asks the listener to do, or offers.
const PITCH: &[&str] = &[
    "sign up",
    "signup",
    "get started",
    "visit",
    "head to",
    "head over to",
    "go to",
    "check out",
    "checkout",
    "try it",
    "for free",
    "free for",
    "discount",
    "offer",
    "promo",
    "coupon",
    "dot com",
    ".com",
    ".io",
    ".dev",
    "slash",
    "today at",
    "learn more",
    "plans start",
    "warranty",
    "customers",
];

/// The shortest passage reported as a read, in seconds.
const MIN_SECONDS: f64 = 10.0;

/// Where a read says it is over.
const CLOSE: &[&str] = &["back to the show", "and now back to", "back to our conversation"];

/// Every sponsor read among `sentences` (one episode's, in order).
pub fn find(sentences: &[Sentence]) -> Vec<AdRead> {
    reads(&sentences.iter().collect::<Vec<_>>())
}

fn reads(sentences: &[&Sentence]) -> Vec<AdRead> {
    let lower: Vec<String> = sentences.iter().map(|s| s.text.to_lowercase()).collect();
    let marked: Vec<bool> = sentences.iter().map(|s| filler(&s.text) == Some(Filler::Ad)).collect();
    let mut out: Vec<AdRead> = Vec::new();
    let mut i = 0;
    while i < sentences.len() {
        if !marked[i] {
            i += 1;
            continue;
        }
        let sponsor = (i..sentences.len())
            .take_while(|&k| k == i || marked[k] || pitch(&lower[k], &[]))
            .find_map(|k| sponsor(&sentences[k].text));
        // The read's web address names the sponsor too ("head to tidewater dot dev").
        let turn = (i..sentences.len()).take_while(|&k| sentences[k].turn == sentences[i].turn);
        let sites: Vec<String> =
            turn.take(6).filter(|&k| marked[k]).flat_map(|k| domains(&lower[k])).collect();
        let names: Vec<String> =
            sponsor.iter().map(|s| s.to_lowercase()).chain(sites.iter().cloned()).collect();
        // A name the web address confirms is cut to what it confirms: Whisper runs a sponsor
        // into the next words ("Tidewater Macron Jump" for "Tidewater, the job queue").
        let sponsor = sponsor.map(|s| {
            let first = s.split_whitespace().next().unwrap_or_default().to_string();
            if sites.contains(&first.to_lowercase()) {
                first
            } else {
                s
            }
        });
        let belongs = |k: usize| marked[k] || pitch(&lower[k], &names);
        // Backwards: the same speaker's pitch before the first marked sentence.
        let mut first = i;
        while first > 0
            && sentences[first - 1].turn == sentences[i].turn
            && belongs(first - 1)
            && !closes(&lower[first - 1])
        {
            first -= 1;
        }
        // Forwards: pitch sentences, and anything up to the next marked sentence of the turn.
        let mut last = i;
        while last + 1 < sentences.len() && !closes(&lower[last]) {
            let k = last + 1;
            let same_turn = sentences[k].turn == sentences[i].turn;
            let next_mark = (k..sentences.len())
                .take_while(|&j| sentences[j].turn == sentences[i].turn)
                .take(4)
                .any(|j| marked[j]);
            // Another speaker continues the read only by naming the sponsor or closing it.
            let other = marked[k]
                || names.iter().any(|n| lower[k].contains(n.as_str()))
                || closes(&lower[k]);
            if (same_turn && (belongs(k) || next_mark)) || (!same_turn && other) {
                last = k;
            } else {
                break;
            }
        }
        let strong = (first..=last).any(|k| AD_STRONG.iter().any(|p| lower[k].contains(p)));
        let marks = (first..=last).filter(|&k| marked[k]).count();
        let long = sentences[last].end - sentences[first].start >= MIN_SECONDS;
        if !((strong || marks >= 2) && long) {
            i = last + 1;
            continue;
        }
        out.push(AdRead {
            start: sentences[first].start,
            end: sentences[last].end,
            sponsor,
            first,
            last,
        });
        i = last + 1;
    }
    out
}

/// Finds every episode's sponsor reads among `lines` (all episodes, as prepared) and marks
/// their sentences as ads, so no insight quotes or draws on one. Returns the reads per episode
/// (`n_episodes` lists), with `first`/`last` indexing `lines`.
pub fn mark(lines: &mut [Line], n_episodes: usize) -> Vec<Vec<AdRead>> {
    let mut out = vec![Vec::new(); n_episodes];
    for (start, end) in super::candidates::episode_ranges(lines) {
        let sentences: Vec<&Sentence> = lines[start..end].iter().map(|l| &l.sentence).collect();
        for mut read in reads(&sentences) {
            (read.first, read.last) = (read.first + start, read.last + start);
            for l in &mut lines[read.first..=read.last] {
                l.filler = Some(Filler::Ad);
                l.score = 0.0;
            }
            if let Some(list) = out.get_mut(lines[start].episode) {
                list.push(read);
            }
        }
    }
    out
}

/// Flags the segments of a transcript that lie mostly inside a sponsor read, and returns the
/// reads (`first`/`last` index the transcript's sentences).
pub fn mark_segments(segments: &mut [Segment], chunk: &ChunkOptions) -> Vec<AdRead> {
    let reads = find(&crate::chunk::sentences(segments, chunk));
    for s in segments.iter_mut() {
        let inside: f64 =
            reads.iter().map(|r| (s.end.min(r.end) - s.start.max(r.start)).max(0.0)).sum();
        s.ad = inside > 0.5 * (s.end - s.start).max(0.0);
    }
    reads
}

fn closes(lower: &str) -> bool {
    CLOSE.iter().any(|c| lower.contains(c))
}

/// A sentence that reads as part of a pitch: it names the sponsor, or asks or offers.
fn pitch(lower: &str, names: &[String]) -> bool {
    names.iter().any(|n| lower.contains(n.as_str())) || PITCH.iter().any(|p| lower.contains(p))
}

/// The names in a sentence's web addresses: "tidewater.dev", "tidewater dot dev" → "tidewater".
fn domains(lower: &str) -> Vec<String> {
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut out = Vec::new();
    for (k, w) in words.iter().enumerate() {
        let spoken = words.get(k + 1) == Some(&"dot");
        let written =
            [".com", ".dev", ".io", ".fm", ".org", ".net", ".app"].iter().any(|t| w.contains(t));
        let host = if written {
            w.split('.').next().unwrap_or("")
        } else if spoken {
            w
        } else {
            ""
        };
        let host: String = host.chars().filter(|c| c.is_alphanumeric()).collect();
        if host.len() >= 4 {
            out.push(host);
        }
    }
    out
}

/// The sponsor a sentence names: the capitalised words right after a sponsorship phrase.
fn sponsor(text: &str) -> Option<String> {
    let lower = text.to_lowercase();
    SPONSOR_AFTER.iter().find_map(|p| {
        let at = lower.find(p)? + p.len();
        let rest = text.get(at..)?.trim_start_matches([' ', ',', ':']);
        let words: Vec<&str> = rest
            .split_whitespace()
            .map(|w| w.trim_end_matches([',', '.', '!', '?', ';', ':']))
            .take_while(|w| w.chars().next().is_some_and(|c| c.is_uppercase() || c.is_numeric()))
            .take(3)
            .collect();
        let name = words.join(" ");
        let name = name.trim_end_matches("'s").trim_end_matches("’s");
        (!name.is_empty()).then(|| name.to_string())
    })
}

#[cfg(test)]
#[path = "ads_tests.rs"]
mod tests;
