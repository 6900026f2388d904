//! Where a conversation changes subject, from sentence embeddings and how hosts steer.
//!
//! Each place a new paragraph or turn begins (or a sentence that says it moves on: "let's talk
//! about", "speaking of", "another thing") is a candidate. Its score is how different the minute
//! and a half after it is from the minute and a half before (one minus the cosine of their mean
//! sentence vectors), plus what marks a host changing the subject: a transition phrase, a new
//! turn, a turn taken by someone other than the episode's main talker (in an interview, the
//! guest), a question from the same speaker right there. The best candidates win, one chapter
//! per five minutes or so, never two within `min_len` of each other. The weights were chosen on
//! `eval/real/` against human boundaries (`scripts/eval-chapters.py`). A four-minute window fit
//! those two shows (65 % of their boundaries found within 30 s, a second human 85 %) but found
//! 33 % on two others (`eval/heldout/`, a second human 87 %), whose hosts move on within a
//! turn or after a short exchange; 90 s finds 62 % and 52 %, and 52 % against 40 % on a fifth
//! show chosen after the window was (`eval/heldout/founders/`).

use std::collections::HashMap;

use crate::distill::{self, Line};

/// How chapters are cut.
#[derive(Debug, Clone)]
pub struct SegmentOptions {
    /// Seconds of speech on each side that a candidate boundary compares.
    pub window: f64,
    /// About one chapter per this many seconds …
    pub per_chapter: f64,
    /// … but at least this many and at most that many chapters.
    pub min_chapters: usize,
    pub max_chapters: usize,
    /// No two boundaries closer than this (seconds).
    pub min_len: f64,
    /// The first boundary no earlier than this, so a short opening still counts as one.
    pub first: f64,
}

impl Default for SegmentOptions {
    fn default() -> Self {
        SegmentOptions {
            window: 90.0,
            per_chapter: 300.0,
            min_chapters: 4,
            max_chapters: 15,
            min_len: 150.0,
            first: 60.0,
        }
    }
}

/// Phrases with which hosts move a conversation on.
const TRANSITIONS: &[&str] = &[
    "let's talk",
    "let's get",
    "let's start",
    "let's move",
    "let's dig",
    "let's switch",
    "let's jump",
    "let's turn",
    "let's go back",
    "let's shift",
    "let's dive",
    "speaking of",
    "moving on",
    "switch gears",
    "switching gears",
    "changing the subject",
    "another thing",
    "another question",
    "another interesting",
    "one more thing",
    "one other thing",
    "one last thing",
    "next topic",
    "next question",
    "tell us about",
    "tell me about",
    "tell us more",
    "let me ask",
    "i want to ask",
    "i wanted to ask",
    "i wanna ask",
    "i'm curious",
    "coming back",
    "back into it",
    "back to it",
    "unpopular opinion",
    "before we dig",
    "to wrap up",
    "wrapping up",
];

const WEIGHT_QUESTION: f32 = 0.05;
const WEIGHT_NOT_MAIN_TALKER: f32 = 0.1;
const WEIGHT_TRANSITION: f32 = 0.3;
const WEIGHT_TURN: f32 = 0.1;

/// The sentences (indices into `lines`, one episode's, in order) where chapters after the first
/// begin. `paragraph[i]` says whether sentence `i` opens a transcript segment.
pub fn boundaries(lines: &[Line], paragraph: &[bool], opts: &SegmentOptions) -> Vec<usize> {
    let Some(last) = lines.last() else { return Vec::new() };
    let duration = last.sentence.end - lines[0].sentence.start;
    let main_talker = main_talker(lines);
    let mut scored: Vec<(usize, f32)> = (1..lines.len())
        .filter(|&i| candidate(&lines[i], paragraph.get(i).copied().unwrap_or(false)))
        .filter_map(|i| {
            let sim = window_similarity(lines, i, opts.window)?;
            let s = &lines[i].sentence;
            let asks = lines[i..lines.len().min(i + 3)].iter().any(|l| {
                l.sentence.speaker == s.speaker && distill::spans::is_question(&l.sentence.text)
            });
            let steer = s.speaker.is_some() && s.speaker != main_talker;
            let turn = s.turn != lines[i - 1].sentence.turn;
            let score = (1.0 - sim)
                + WEIGHT_QUESTION * f32::from(asks)
                + WEIGHT_NOT_MAIN_TALKER * f32::from(steer)
                + WEIGHT_TRANSITION * f32::from(transition(&s.text))
                + WEIGHT_TURN * f32::from(turn);
            Some((i, score))
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    let wanted = ((duration / opts.per_chapter).round() as usize)
        .clamp(opts.min_chapters, opts.max_chapters)
        .saturating_sub(1);
    let start = lines[0].sentence.start;
    let mut chosen: Vec<usize> = Vec::new();
    for (i, _) in scored {
        if chosen.len() >= wanted {
            break;
        }
        let t = lines[i].sentence.start;
        let room = t - start >= opts.first && last.sentence.end - t >= opts.min_len / 2.0;
        if room && chosen.iter().all(|&j| (lines[j].sentence.start - t).abs() >= opts.min_len) {
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen
}

/// A sentence a chapter may start with: it opens a paragraph or says it moves on, and is a
/// question or has a few words (not "Okay, got it.").
fn candidate(line: &Line, paragraph: bool) -> bool {
    let text = &line.sentence.text;
    (paragraph || transition(text))
        && (text.split_whitespace().count() >= 5 || distill::spans::is_question(text))
}

fn transition(text: &str) -> bool {
    let t = text.to_lowercase().replace('’', "'");
    TRANSITIONS.iter().any(|p| t.contains(p))
}

/// Who talks most (by words): in an interview, the guest; the others steer.
fn main_talker(lines: &[Line]) -> Option<String> {
    let mut words: HashMap<&str, usize> = HashMap::new();
    for l in lines {
        if let Some(s) = &l.sentence.speaker {
            *words.entry(s).or_default() += l.sentence.text.split_whitespace().count();
        }
    }
    words.into_iter().max_by_key(|&(s, n)| (n, std::cmp::Reverse(s))).map(|(s, _)| s.to_string())
}

/// Cosine of the mean sentence vectors `window` seconds before and after sentence `i`; `None`
/// when either side has fewer than two sentences.
fn window_similarity(lines: &[Line], i: usize, window: f64) -> Option<f32> {
    let t = lines[i].sentence.start;
    let before: Vec<&[f32]> = lines[..i]
        .iter()
        .rev()
        .take_while(|l| l.sentence.start >= t - window)
        .map(|l| l.vector.as_slice())
        .collect();
    let after: Vec<&[f32]> = lines[i..]
        .iter()
        .take_while(|l| l.sentence.start < t + window)
        .map(|l| l.vector.as_slice())
        .collect();
    (before.len() >= 2 && after.len() >= 2)
        .then(|| distill::dot(&distill::mean_vector(&before), &distill::mean_vector(&after)))
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
