//! The supporting quote of an entry: the few consecutive sentences of its span (or of the rest
//! of the speaker's turn) that carry the point, in the speaker's own (cleaned) words. A single
//! sentence of speech is usually a fragment ("So that's the layered cake."), and a small
//! model's paraphrase drifts (who did what, consequences nobody said), so the excerpt is what a
//! reader can trust: chosen by the note's meaning, it shows the claim and its reason as they
//! were said.

use super::spans::{is_statement, reasons};
use super::wording::{leans_back, negated, self_contained};
use super::{dot, Line};

/// An excerpt stops before it would pass this many words, and holds at most this many
/// sentences. Judged on the real episodes (round 19), quotes of up to 130 words and five
/// sentences, reaching into the rest of the turn, conveyed more of the episodes' points than up
/// to 75 words and three: the reason often comes after the sentence that states the point.
const MAX_WORDS: usize = 130;
const MAX_SENTENCES: usize = 5;
/// A quote's opening sentence less similar to the claim than this share of the quote's closest
/// sentence is the end of another thought ([`trim_lead`]).
const STRAY: f32 = 0.5;
/// Sentences shorter than this may be left out of a quote as asides ([`asides`]).
const ASIDE_WORDS: usize = 7;

/// The best run `(first, last)` of sentences of `first..=last` for a claim with embedding
/// `claim`: the closest in meaning, preferring runs that start a thought (not "It…", "And…")
/// and that say more than one sentence can; never a question or filler.
pub fn excerpt(lines: &[Line], first: usize, last: usize, claim: &[f32]) -> (usize, usize) {
    let last = turn_end(lines, last);
    let run = best_run(lines, first, last, claim, |_, _| true).unwrap_or((first, first));
    let (a, b) = trim_lead(lines, run, claim, |_, _| true);
    finish(lines, lead_in(lines, (a, b), claim), b)
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
    let accept = |a, b| stands_alone(lines, a, b);
    let run = best_run(lines, first, last, claim, accept)?;
    let (a, b) = trim_lead(lines, run, claim, accept);
    Some(finish(lines, lead_in(lines, (a, b), claim), b))
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
    let words = |j: usize| words(&lines[j]);
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

/// `run` without the sentences at its start that are far from the claim (less similar than
/// `STRAY` times its closest sentence), while what is left is still a run `accept` allows. A
/// run is chosen partly for its length and opening, so it can take in the end of another
/// thought before the point ("Jon, if you had it, of course, you could add more Linux
/// boxes…", "For example, last Friday we shipped it. It's an experimental feature…"); blind
/// readers marked such quotes as opening mid-thought. Its end stays: a reason or outcome often
/// shares few words with the claim and still belongs.
fn trim_lead(
    lines: &[Line],
    (mut a, b): (usize, usize),
    claim: &[f32],
    accept: impl Fn(usize, usize) -> bool,
) -> (usize, usize) {
    let sim = |j: usize| dot(claim, &lines[j].vector);
    let closest = closest(lines, (a, b), claim);
    let opens = |j: usize| self_contained(&lines[j].sentence.text);
    // Never trade an opening that reads on its own for one that leans on what came before.
    let must_open = opens(a);
    let mut k = a;
    while k < b && sim(k) < STRAY * closest {
        k += 1;
        if accept(k, b) && !continues(lines, k) && (opens(k) || !must_open) {
            a = k;
        }
    }
    (a, b)
}

/// The start of `run`, moved back over up to two sentences while its first sentence points
/// back at the one before ("Which is totally fine…", "Maybe even more, because…"), that one
/// is the same speaker's, a statement, on the claim's subject (not less similar to it than
/// `STRAY` times the run's closest sentence, so what [`trim_lead`] left out stays out) and
/// the quote stays within `MAX_WORDS`. A span can begin in the middle of a turn, and blind
/// readers marked quotes that open on such a sentence as starting mid-thought.
fn lead_in(lines: &[Line], (mut a, b): (usize, usize), claim: &[f32]) -> usize {
    let sim = |j: usize| dot(claim, &lines[j].vector);
    let closest = closest(lines, (a, b), claim);
    let words = |j: usize| words(&lines[j]);
    let mut n: usize = (a..=b).map(words).sum();
    for _ in 0..2 {
        let leans = leans_back(&lines[a].sentence.text) || continues(lines, a);
        let Some(p) = a.checked_sub(1).filter(|_| leans) else { break };
        if !same_turn(&lines[p], &lines[a])
            || !is_statement(&lines[p])
            || sim(p) < STRAY * closest
            || n + words(p) > MAX_WORDS
        {
            break;
        }
        n += words(p);
        a = p;
    }
    a
}

/// The similarity to `claim` of the closest sentence of `a..=b`, the yardstick of [`STRAY`].
fn closest(lines: &[Line], (a, b): (usize, usize), claim: &[f32]) -> f32 {
    lines[a..=b].iter().map(|l| dot(claim, &l.vector)).fold(f32::MIN, f32::max)
}

/// A line's words, as the quote's limits count them.
fn words(l: &Line) -> usize {
    l.sentence.text.split_whitespace().count()
}

/// Whether line `j` goes on with a sentence the transcript broke off before it.
fn continues(lines: &[Line], j: usize) -> bool {
    j > 0 && unfinished(&lines[j - 1]) && same_turn(&lines[j - 1], &lines[j])
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

/// The lines inside `run` (neither its first nor its last) that a quote leaves out: short
/// asides far from the claim ("Stuff like that.", "That was November 2021."), which blind
/// readers marked as fragments inside otherwise clear quotes. Only a finished sentence of fewer
/// than `ASIDE_WORDS` words, less similar to the claim than `STRAY` times the quote's closest
/// sentence, with no negation (leaving out "It doesn't." would flip what is said), and not the
/// start of a sentence the next line finishes. A quote's last sentence stays even then: judged,
/// "…start copy-pasting the snippets. In a step, in a file." lost where the snippets go.
pub fn asides(lines: &[Line], (first, last): (usize, usize), claim: &[f32]) -> Vec<usize> {
    let sim = |j: usize| dot(claim, &lines[j].vector);
    let closest = closest(lines, (first, last), claim);
    (first + 1..last)
        .filter(|&j| {
            let t = &lines[j].sentence.text;
            t.split_whitespace().count() < ASIDE_WORDS
                && sim(j) < STRAY * closest
                && !unfinished(&lines[j])
                && !continues(lines, j)
                && !negated(t)
        })
        .collect()
}

/// The excerpt's text: its sentences joined, each cleaned of a leading "So,"/"And" and
/// capitalised, so it reads as written prose while every word stays the speaker's. A piece
/// that continues a sentence the transcript broke off is joined as it is. The lines of `skip`
/// ([`asides`]) are left out, each run of them marked "[…]".
pub fn text(lines: &[Line], (first, last): (usize, usize), skip: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    for j in first..=last {
        if skip.contains(&j) {
            if out.last().is_some_and(|s| s != "[…]") {
                out.push("[…]".into());
            }
            continue;
        }
        out.push({
            let t = &lines[j].sentence.text;
            let t = if j > first && unfinished(&lines[j - 1]) {
                continuation(t.trim())
            } else {
                super::prose::tidy(t)
            };
            super::prose::settle_pause(&t)
        });
    }
    out.join(" ")
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
#[path = "excerpt_tests.rs"]
mod tests;
