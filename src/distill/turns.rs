//! What the turns around a span say about it. A span that answers "who are you?" is an
//! introduction, and one in a short turn that ends by asking the next speaker something is the
//! preamble of a question: readers count neither as a point of the episode. Both need speaker
//! labels; a transcript without them is one turn and nothing here applies.

use super::spans::is_question;
use super::Line;

/// Questions that ask a guest who they are or how they came to the subject: the answer is an
/// introduction (a career, a first project), which readers never count as one of the episode's
/// points (judged: "guest background … an introduction rather than an insight").
const WHO_ARE_YOU: &[&str] = &[
    "introduce yourself",
    "about yourself",
    "your background",
    "who are you",
    "how did you become",
    "how did you end up",
    "how did you come to",
    "how did you get into",
    "how did you get involved",
    "how did you get started",
    "how'd you get into",
    "how'd you get involved",
    "how'd you get started",
];
/// A span answering such a question keeps this share of its score.
pub const INTRODUCTION: f32 = 0.4;
/// A span of a turn that ends by asking the next speaker something keeps this share of its
/// score: the turn sets up a question (a host's preamble), and its answer holds the point.
pub const SETUP: f32 = 0.5;
/// A closing question shorter than this is a tag ("right?", "you know?"), not a question put
/// to the next speaker; nor is an answer shorter than `ANSWER_WORDS` an answer to one.
const QUESTION_WORDS: usize = 6;
const ANSWER_WORDS: usize = 30;

/// Whether the turn holding line `first` answers a question of [`WHO_ARE_YOU`] among the last
/// three sentences of the turn before it (episode lines from `start`; never without speakers).
pub fn introduces(lines: &[Line], first: usize, start: usize) -> bool {
    let turn = |j: usize| lines[j].sentence.turn;
    // The first line of the turn (the search always ends at `start`).
    let opens = (start..=first).rev().find(|&j| j == start || turn(j - 1) != turn(first));
    let opens = opens.unwrap_or(start);
    if opens == start || lines[first].sentence.speaker.is_none() {
        return false;
    }
    let asked = turn(opens - 1);
    (opens.saturating_sub(3).max(start)..opens).filter(|&j| turn(j) == asked).any(|j| {
        let text = lines[j].sentence.text.to_lowercase().replace('’', "'");
        is_question(&text) && WHO_ARE_YOU.iter().any(|p| text.contains(p))
    })
}

/// Whether the turn holding line `last` ends by putting a question to the next speaker, who
/// then answers at length (episode lines before `end`; never without speakers).
pub fn sets_up(lines: &[Line], last: usize, end: usize) -> bool {
    let turn = lines[last].sentence.turn;
    if lines[last].sentence.speaker.is_none() {
        return false;
    }
    let next = (last..end).find(|&j| lines[j].sentence.turn != turn).unwrap_or(end);
    let closing = &lines[next - 1].sentence.text;
    let asks = is_question(closing)
        && closing.split_whitespace().count() >= QUESTION_WORDS
        && !closing.to_lowercase().contains("make sense");
    let answer = lines[next..end]
        .iter()
        .take_while(|l| l.sentence.turn == lines[next].sentence.turn)
        .map(|l| l.sentence.text.split_whitespace().count())
        .sum::<usize>();
    asks && answer >= ANSWER_WORDS
}
