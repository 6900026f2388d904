//! The supporting quote of an entry: the few consecutive sentences of its span (or of the rest
//! of the speaker's turn) that carry the point, in the speaker's own (cleaned) words. A single
//! sentence of speech is usually a fragment ("So that's the layered cake."), and a small
//! model's paraphrase drifts (who did what, consequences nobody said), so the excerpt is what a
//! reader can trust: chosen by the note's meaning, it shows the claim and its reason as they
//! were said.

use super::spans::{is_statement, reasons};
use super::wording::self_contained;
use super::{dot, Line};

/// An excerpt stops before it would pass this many words, and holds at most this many
/// sentences. Judged on the real episodes (round 19), quotes of up to 130 words and five
/// sentences, reaching into the rest of the turn, conveyed more of the episodes' points than up
/// to 75 words and three: the reason often comes after the sentence that states the point.
const MAX_WORDS: usize = 130;
const MAX_SENTENCES: usize = 5;

/// The best run `(first, last)` of sentences of `first..=last` for a claim with embedding
/// `claim`: the closest in meaning, preferring runs that start a thought (not "It…", "And…")
/// and that say more than one sentence can; never a question or filler.
pub fn excerpt(lines: &[Line], first: usize, last: usize, claim: &[f32]) -> (usize, usize) {
    let last = turn_end(lines, last);
    let (a, b) = best_run(lines, first, last, claim, |_, _| true).unwrap_or((first, first));
    finish(lines, a, b)
}

/// The best run of `first..=last` for `claim` that can stand under a headline by itself
/// ([`stands_alone`]), for an entry whose note failed: the run the note pointed at may be the
/// middle of an argument ("Because at the end of the day…") while the span also states it.
pub fn standing(
    lines: &[Line],
    first: usize,
    last: usize,
    claim: &[f32],
) -> Option<(usize, usize)> {
    let last = turn_end(lines, last);
    let (a, b) = best_run(lines, first, last, claim, |a, b| stands_alone(lines, a, b))?;
    Some(finish(lines, a, b))
}

/// `last`, or a later sentence of the same turn: a speaker often gives the reason in the next
/// paragraph of the turn, after the span that states the point. Only where the transcript names
/// its speakers: without labels a whole recording is one turn, and the quote would run on into
/// the next speaker's words.
fn turn_end(lines: &[Line], last: usize) -> usize {
    if lines[last].sentence.speaker.is_none() {
        return last;
    }
    let mut end = last;
    while end + 1 < lines.len()
        && end < last + MAX_SENTENCES
        && same_turn(&lines[last], &lines[end + 1])
    {
        end += 1;
    }
    end
}

/// Whether two lines are of one speaker's turn in one episode.
fn same_turn(a: &Line, b: &Line) -> bool {
    a.episode == b.episode && a.sentence.turn == b.sentence.turn
}

/// The run of `first..=last` closest to `claim` among those `accept` allows.
fn best_run(
    lines: &[Line],
    first: usize,
    last: usize,
    claim: &[f32],
    accept: impl Fn(usize, usize) -> bool,
) -> Option<(usize, usize)> {
    let usable = |j: usize| is_statement(&lines[j]);
    let words = |j: usize| lines[j].sentence.text.split_whitespace().count();
    let mut best: Option<((usize, usize), f32)> = None;
    for a in (first..=last).filter(|&a| usable(a)) {
        let mut n = 0;
        for b in a..=last.min(a + MAX_SENTENCES - 1) {
            if !usable(b) || (b > a && n + words(b) > MAX_WORDS) {
                break;
            }
            n += words(b);
            // The run must hold the sentence closest to the claim; neighbours that stray from
            // it cost a little, and each extra sentence (the reason, the example) earns a little.
            let sims: Vec<f32> = (a..=b).map(|j| dot(claim, &lines[j].vector)).collect();
            let closest = sims.iter().copied().fold(f32::MIN, f32::max);
            let mean = sims.iter().sum::<f32>() / sims.len() as f32;
            let fuller = 0.04 * (b - a) as f32 + if n >= 30 { 0.04 } else { 0.0 };
            let opens = if self_contained(&lines[a].sentence.text) { 0.08 } else { 0.0 };
            let value = 0.5 * closest + 0.5 * mean + fuller + opens;
            if best.is_none_or(|(_, v)| value > v) && accept(a, b) {
                best = Some(((a, b), value));
            }
        }
    }
    best.map(|(run, _)| run)
}

/// `a..=b`, with a sentence the transcript broke off mid-clause finished from the same turn,
/// and a last sentence that announces what comes next ("…but there's a reason why you break
/// up a monolith...") followed by the sentence it announces, where the reason is.
fn finish(lines: &[Line], a: usize, mut b: usize) -> (usize, usize) {
    while b + 1 < lines.len() && b < a + MAX_SENTENCES + 1 && unfinished(&lines[b]) {
        if !same_turn(&lines[b], &lines[b + 1]) {
            break;
        }
        b += 1;
    }
    let next = b + 1;
    if next < lines.len()
        && announces(&lines[b].sentence.text)
        && same_turn(&lines[b], &lines[next])
        && is_statement(&lines[next])
    {
        b = next;
    }
    (a, b)
}

/// Whether a sentence ends by announcing what the next one says: "the thing is…", "for
/// example", a colon, or "there's a reason why X" that does not go on to give it. Judges
/// marked such quotes as stopping just before their point.
fn announces(text: &str) -> bool {
    const ENDINGS: &[&str] = &[
        "the reason is",
        "the thing is",
        "the problem is",
        "the point is",
        "the idea is",
        "what happens is",
        "here's the thing",
        "here's why",
        "for example",
        "for instance",
    ];
    let t = text.trim_end().to_lowercase().replace('’', "'");
    let t = t.trim_end_matches(['.', '…', ' ', ',', '-', '–']);
    if t.ends_with(':') {
        return true;
    }
    // What follows the phrase, in words: a setup ends within two words of it ("The thing is,
    // you know…"); "a reason why X" announces unless it goes on to give the reason.
    let after = |phrase: &str| t.rfind(phrase).map(|i| &t[i + phrase.len()..]);
    let words = |rest: &str| {
        rest.split_whitespace().filter(|w| w.chars().any(char::is_alphanumeric)).count()
    };
    let ends = ENDINGS.iter().filter_map(|p| after(p)).any(|rest| words(rest) <= 2);
    let why = ["reason why", "reasons why"].iter().filter_map(|p| after(p)).any(|rest| {
        let rest = format!(" {rest} ");
        !(rest.contains(" is ") || rest.contains(" was ") || rest.contains("because"))
    });
    ends || why
}

fn unfinished(l: &Line) -> bool {
    !l.sentence
        .text
        .trim_end()
        .trim_end_matches(['"', '\'', ')', '”', '’'])
        .ends_with(['.', '!', '?', '…'])
}

/// Whether a span can be shown as said under a headline when its note failed: blind readers
/// took a bare quote for a fragment unless it opens a thought, runs to more than one
/// sentence and argues (a reason, a consequence, a stance), so only such a span may.
pub fn stands_alone(lines: &[Line], first: usize, last: usize) -> bool {
    let statements: Vec<&str> = lines[first..=last]
        .iter()
        .filter(|l| is_statement(l))
        .map(|l| l.sentence.text.as_str())
        .collect();
    statements.len() >= 2
        && statements.first().is_some_and(|t| self_contained(t))
        && reasons(&statements.join(" ")) >= 1
}

/// The excerpt's text: its sentences joined, each cleaned of a leading "So,"/"And" and
/// capitalised, so it reads as written prose while every word stays the speaker's. A piece
/// that continues a sentence the transcript broke off is joined as it is.
pub fn text(lines: &[Line], (first, last): (usize, usize)) -> String {
    (first..=last)
        .map(|j| {
            let t = &lines[j].sentence.text;
            let t = if j > first && unfinished(&lines[j - 1]) {
                continuation(t.trim())
            } else {
                super::prose::tidy(t)
            };
            super::prose::settle_pause(&t)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A piece that goes on with the sentence before it ("…who is this representative of, and if
/// you come in…"): the sentence splitter capitalised it as if it began a sentence, so a
/// function word at its start goes back to lower case (a name or "I" stays as it is).
fn continuation(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let lower = first.to_lowercase();
    if first != lower && lower != "i" && !lower.starts_with("i'") && super::is_stop_word(&lower) {
        format!("{lower}{}", &text[first.len()..])
    } else {
        text.to_string()
    }
}

/// Up to two following sentences of the same episode while they continue the point (content,
/// not questions); empty otherwise.
pub fn after(lines: &[Line], i: usize) -> String {
    let continues = |n: &Line| {
        n.episode == lines[i].episode
            && n.filler.is_none()
            && !n.sentence.text.trim_end().ends_with('?')
            && n.sentence.text.split_whitespace().count() >= 5
    };
    lines[i + 1..]
        .iter()
        .take(2)
        .take_while(|n| continues(n))
        .map(|n| super::prose::tidy(&n.sentence.text))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::Sentence;

    fn line(text: &str, vector: Vec<f32>) -> Line {
        Line {
            episode: 0,
            sentence: Sentence { text: text.into(), ..Default::default() },
            filler: None,
            specificity: 0.5,
            centrality: 0.5,
            score: 0.5,
            vector,
        }
    }

    #[test]
    fn the_excerpt_is_the_run_that_carries_the_claim_and_skips_questions() {
        let lines = vec![
            line("What do you think about the weather these days, honestly?", vec![1.0, 0.0]),
            line("We ran the whole build in one repository for three years.", vec![0.0, 1.0]),
            line("Releases took a day instead of a week because nothing waited.", vec![0.1, 1.0]),
            line("Anyway, I had a sandwich that afternoon, which was nice enough.", vec![1.0, 0.1]),
        ];
        let claim = [0.0, 1.0];
        assert_eq!(excerpt(&lines, 0, 3, &claim), (1, 2));
        assert!(text(&lines, (1, 2)).starts_with("We ran"));
    }

    #[test]
    fn a_failed_note_finds_the_run_of_its_span_that_stands_alone() {
        let lines = vec![
            line("Because at the end of the day, nobody splits services for fun.", vec![0.0, 1.0]),
            line("It was about flexibility, and shipping faster.", vec![0.2, 1.0]),
            line(
                "Small teams should keep one repository because the overhead wins.",
                vec![0.3, 1.0],
            ),
            line("That overhead costs them months of YAML instead of features.", vec![1.0, 0.3]),
        ];
        let claim = [0.0, 1.0];
        let closest = excerpt(&lines, 0, 3, &claim);
        assert!(!stands_alone(&lines, closest.0, closest.1), "{closest:?}");
        let run = standing(&lines, 0, 3, &claim).expect("a run that stands alone");
        assert!(stands_alone(&lines, run.0, run.1) && run.0 == 2, "{run:?}");
        assert_eq!(standing(&lines, 0, 1, &claim), None, "no run of the first two stands alone");
    }

    #[test]
    fn the_quote_may_go_on_into_the_rest_of_the_turn_for_its_reason() {
        let mut lines = vec![
            line("We split the billing service out of the monolith last year.", vec![0.0, 1.0]),
            line(
                "It had to scale on its own, because invoices spike at month end.",
                vec![0.1, 1.0],
            ),
            line("What did that cost you in operations, would you say?", vec![1.0, 0.0]),
        ];
        for l in &mut lines[..2] {
            l.sentence.speaker = Some("Johnny".into());
            l.sentence.turn = 1;
        }
        lines[2].sentence.speaker = Some("Mat".into());
        lines[2].sentence.turn = 2;
        // The span is the first paragraph; the reason is the turn's next one.
        assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 1));
        // Never into the next speaker's turn, and never without speakers to tell turns apart.
        assert_eq!(turn_end(&lines, 1), 1);
        lines.iter_mut().for_each(|l| l.sentence.speaker = None);
        assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 0));
    }

    #[test]
    fn a_sentence_broken_off_mid_clause_is_finished_and_joined_as_is() {
        let mut lines = vec![
            line("Moment is still large, because of all the timezone data it has", vec![0.0, 1.0]),
            line("to hold in memory for every calendar.", vec![1.0, 0.0]),
        ];
        lines[1].sentence.turn = lines[0].sentence.turn;
        let run = excerpt(&lines, 0, 0, &[0.0, 1.0]);
        assert_eq!(run, (0, 1));
        assert!(text(&lines, run).ends_with("data it has to hold in memory for every calendar."));
        // The splitter capitalises a piece it cut off; joined back, it reads in lower case.
        lines[1].sentence.text = "And it has to hold all of it in memory.".into();
        assert!(text(&lines, run).ends_with("data it has and it has to hold all of it in memory."));
        lines[1].sentence.text = "Google has to hold it in memory.".into();
        assert!(text(&lines, run).ends_with("data it has Google has to hold it in memory."));
    }

    #[test]
    fn a_quote_that_announces_a_reason_goes_on_to_give_it() {
        let mut lines = vec![
            line(
                "It's trendy to have microservices, but there's a reason why you break up a monolith...",
                vec![0.0, 1.0],
            ),
            line("One of the reasons being to scale the busiest piece on its own.", vec![1.0, 0.0]),
            line("Anyway, that's enough from me about monoliths and services.", vec![1.0, 0.0]),
        ];
        lines.iter_mut().for_each(|l| l.sentence.turn = 1);
        assert_eq!(excerpt(&lines, 0, 2, &[0.0, 1.0]), (0, 1));
        assert!(announces("The thing is:") && announces("Here's the thing, you know..."));
        assert!(!announces("For example, we shard by customer."));
        assert!(!announces("The reason why it failed is that nobody owned the service."));
        // Not into another speaker's turn.
        lines[1].sentence.turn = 2;
        assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 0));
    }
}
