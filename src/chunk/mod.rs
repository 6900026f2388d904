//! Transcript → sentences with times → overlapping chunks sized in LLM tokens.
//!
//! Distillation asks the model about one chunk at a time and must be able to say *when* each
//! supporting sentence was spoken, so every sentence keeps its start and end. Sentences come
//! from Unicode sentence boundaries (UAX #29) with the usual abbreviation fixes; Whisper's long
//! unpunctuated runs are cut at segment boundaries, then at a word limit, so no "sentence" is
//! ever a whole paragraph.

pub mod clean;

use unicode_segmentation::UnicodeSegmentation;

use crate::asr::Segment;

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sentence {
    /// What was said, cleaned of fillers and false starts ([`clean`]).
    pub text: String,
    pub start: f64,
    pub end: f64,
    /// Who said it, when the transcript says (a `Name:` turn, a WebVTT voice, a JSON speaker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// The speaker turn it belongs to (a run of segments of one speaker), counted from 0; a
    /// transcript without speakers is one turn.
    #[serde(default)]
    pub turn: usize,
    /// Cleaning removed words, so a quote of it is lightly edited.
    #[serde(default)]
    pub edited: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Chunk {
    /// Indices of its sentences in the sentence list (consecutive).
    pub first: usize,
    pub last: usize,
    pub text: String,
    pub start: f64,
    pub end: f64,
    pub tokens: usize,
}

#[derive(Debug, Clone)]
pub struct ChunkOptions {
    /// Budget per chunk in LLM tokens; leaves room for the prompt and the answer.
    pub max_tokens: usize,
    /// Tokens of trailing sentences repeated at the start of the next chunk, so a point made
    /// across a chunk boundary is seen whole at least once.
    pub overlap_tokens: usize,
    /// Longest run of words kept as one sentence when the transcript has no punctuation.
    pub max_sentence_words: usize,
}

impl Default for ChunkOptions {
    fn default() -> Self {
        ChunkOptions { max_tokens: 700, overlap_tokens: 80, max_sentence_words: 40 }
    }
}

/// Words that end with a period without ending a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "etc.", "e.g.", "i.e.",
    "u.s.", "u.k.", "inc.", "ltd.", "co.", "no.", "approx.", "fig.", "jan.", "feb.", "mar.",
    "apr.", "aug.", "sept.", "oct.", "nov.", "dec.",
];

/// Segments joined into one text, with the time of every byte interpolated within its segment.
struct Timeline {
    text: String,
    /// (byte offset where the segment starts, byte end, start s, end s)
    spans: Vec<(usize, usize, f64, f64)>,
}

impl Timeline {
    fn new(segments: &[Segment]) -> Timeline {
        let mut text = String::new();
        let mut spans = Vec::new();
        for s in segments {
            let t = s.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if t.is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push(' ');
            }
            let a = text.len();
            text.push_str(&t);
            spans.push((a, text.len(), s.start, s.end.max(s.start)));
        }
        Timeline { text, spans }
    }

    fn time(&self, offset: usize) -> f64 {
        let i =
            self.spans.partition_point(|s| s.1 <= offset).min(self.spans.len().saturating_sub(1));
        match self.spans.get(i) {
            Some(&(a, b, t0, t1)) => {
                let f = (offset.saturating_sub(a)) as f64 / (b - a).max(1) as f64;
                t0 + (t1 - t0) * f.clamp(0.0, 1.0)
            }
            None => 0.0,
        }
    }

    /// Byte offsets where a segment ends: the cut points for unpunctuated runs.
    fn segment_ends(&self) -> Vec<usize> {
        self.spans.iter().map(|s| s.1).collect()
    }
}

/// Splits a transcript's segments into timed, cleaned sentences. A sentence never spans two
/// speakers: each run of one speaker's segments (a turn) is split on its own.
pub fn sentences(segments: &[Segment], opts: &ChunkOptions) -> Vec<Sentence> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < segments.len() {
        let speaker = &segments[start].speaker;
        let len = segments[start..].iter().take_while(|s| &s.speaker == speaker).count();
        let turn = out.last().map_or(0, |s: &Sentence| s.turn + 1);
        for mut s in turn_sentences(&segments[start..start + len], opts) {
            let (text, edited) = clean::clean(&s.text);
            if text.split_whitespace().next().is_none() {
                continue;
            }
            s.text = text;
            s.edited = edited;
            s.speaker = speaker.clone();
            s.turn = turn;
            out.push(s);
        }
        start += len;
    }
    out
}

fn turn_sentences(segments: &[Segment], opts: &ChunkOptions) -> Vec<Sentence> {
    let tl = Timeline::new(segments);
    let ends = tl.segment_ends();
    // (start, end) byte ranges of sentences, abbreviations merged with what follows.
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut merge_next = false;
    for (a, b) in tl
        .text
        .split_sentence_bound_indices()
        .flat_map(|(a, s)| split_before_digits(&tl.text, a, a + s.len()))
    {
        let s = &tl.text[a..b];
        match ranges.last_mut() {
            Some(last) if merge_next => last.1 = b,
            _ => ranges.push((a, b)),
        }
        let last_word = s.split_whitespace().last().unwrap_or("").to_lowercase();
        merge_next = ABBREVIATIONS.contains(&last_word.as_str());
    }
    let mut out = Vec::new();
    for (a, b) in ranges {
        for (x, y) in split_long(&tl.text, a, b, &ends, opts.max_sentence_words) {
            let raw = &tl.text[x..y];
            let text = raw.trim();
            if text.is_empty() {
                continue;
            }
            let lead = raw.len() - raw.trim_start().len();
            let (x, y) = (x + lead, x + lead + text.len());
            let (start, end) = (tl.time(x), tl.time(y));
            out.push(Sentence { text: text.to_string(), start, end, ..Sentence::default() });
        }
    }
    out
}

/// UAX #29 does not end a sentence before a digit ("in 10 weeks. 12,000 books…"), which
/// speech transcripts do all the time; cut there when the period ends an ordinary word.
fn split_before_digits(text: &str, a: usize, b: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = a;
    let piece = &text[a..b];
    for (i, _) in piece.match_indices(". ") {
        let after = piece[i + 2..].chars().next();
        let word = piece[..i].rsplit(' ').next().unwrap_or("");
        let ordinary = word.len() >= 2
            && word.chars().all(|c| c.is_alphanumeric() || c == ',' || c == '%')
            && !ABBREVIATIONS.contains(&format!("{}.", word.to_lowercase()).as_str());
        if after.is_some_and(|c| c.is_ascii_digit()) && ordinary {
            out.push((start, a + i + 2));
            start = a + i + 2;
        }
    }
    out.push((start, b));
    out
}

/// Cuts a too-long byte range at segment ends, or failing that at the latest clause break (after
/// ";", ":", a dash, else a comma), or failing that every `max_words` words; never just before
/// punctuation, so no piece starts with "; you wouldn't…" or ends mid-clause where a break was.
fn split_long(
    text: &str,
    a: usize,
    b: usize,
    seg_ends: &[usize],
    max_words: usize,
) -> Vec<(usize, usize)> {
    let words = |x: usize, y: usize| text[x..y].split_whitespace().count();
    if max_words == 0 || words(a, b) <= max_words {
        return vec![(a, b)];
    }
    let cuts: Vec<usize> = seg_ends.iter().copied().filter(|&e| e > a && e < b).collect();
    let (strong, weak) = clause_breaks(text, a, b);
    let mut out = Vec::new();
    let mut start = a;
    for (i, w) in text[a..b].split_word_bound_indices() {
        let w_at = a + i;
        let starts_word = w.chars().next().is_some_and(char::is_alphanumeric);
        if !starts_word || words(start, w_at) < max_words {
            continue;
        }
        // The latest break of each kind since this piece started, if it is not too early.
        let latest = |list: &[usize], min: usize| {
            list.iter().copied().rfind(|&c| c > start && c <= w_at && words(start, c) >= min)
        };
        let cut = latest(&cuts, max_words / 3)
            .or_else(|| latest(&strong, max_words / 3))
            .or_else(|| latest(&weak, max_words / 2))
            .unwrap_or(w_at);
        out.push((start, cut));
        start = cut;
    }
    out.push((start, b));
    out
}

/// Where the words after a clause break start in `text[a..b]`: after ";", ":" or a dash
/// (`strong`), and after a comma (`weak`).
fn clause_breaks(text: &str, a: usize, b: usize) -> (Vec<usize>, Vec<usize>) {
    let (mut strong, mut weak) = (Vec::new(), Vec::new());
    let piece = &text[a..b];
    for (i, c) in piece.char_indices() {
        let after = i + c.len_utf8();
        let spaced = piece[after..].starts_with(' ');
        let list = match c {
            ';' | ':' | '\u{2014}' if spaced => &mut strong,
            '-' if spaced && piece[..i].ends_with(" -") => &mut strong,
            ',' if spaced => &mut weak,
            _ => continue,
        };
        let next = after + piece[after..].len() - piece[after..].trim_start().len();
        if next < piece.len() {
            list.push(a + next);
        }
    }
    (strong, weak)
}

/// Packs sentences into chunks of at most `max_tokens` (a single longer sentence gets a chunk
/// of its own), each new chunk repeating up to `overlap_tokens` of the previous one's tail.
pub fn chunk(
    sentences: &[Sentence],
    opts: &ChunkOptions,
    count_tokens: &dyn Fn(&str) -> usize,
) -> Vec<Chunk> {
    let costs: Vec<usize> = sentences.iter().map(|s| count_tokens(&s.text) + 1).collect();
    let mut chunks = Vec::new();
    let mut first = 0;
    while first < sentences.len() {
        let mut last = first;
        let mut total = costs[first];
        while last + 1 < sentences.len() && total + costs[last + 1] <= opts.max_tokens {
            last += 1;
            total += costs[last];
        }
        let text = sentences[first..=last].iter().map(|s| s.text.as_str()).collect::<Vec<_>>();
        chunks.push(Chunk {
            first,
            last,
            text: text.join(" "),
            start: sentences[first].start,
            end: sentences[last].end,
            tokens: total,
        });
        if last + 1 >= sentences.len() {
            break;
        }
        // Step back over trailing sentences that fit in the overlap, but always move forward.
        let mut next = last + 1;
        let mut overlap = 0;
        while next > first + 1 && overlap + costs[next - 1] <= opts.overlap_tokens {
            next -= 1;
            overlap += costs[next];
        }
        first = next;
    }
    chunks
}

#[cfg(test)]
mod tests;
