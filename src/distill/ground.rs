//! The grounding rules that decide how much of the model's wording may stand for a span. A
//! headline must ask no question, echo no instructions, bring in no name or number its passage
//! lacks, flip no negation and use mostly the passage's own words, or the rewrite is rejected.
//! The note must pass the same rules more strictly, and keep every negation and figure of what
//! it restates; when it fails, only the note goes and the entry is the headline over the
//! excerpt of the span that carries the point (the speaker's own words, see `excerpt`). Either
//! way the quote is that excerpt, never a paraphrase. Nominations never come from ads, small
//! talk or lines addressed to an AI, so neither do quotes. The word rules themselves are in
//! `checks`; this module applies them and the embedding checks, and builds the candidates.

use crate::embed::Embedder;

use super::candidates::{Nomination, Rewrite};
use super::checks::check;
use super::excerpt;
use super::prose::tidy;
use super::verify::reason_unsaid;
use super::wording::{restates, self_contained, shares_run};
use super::{dot, Candidate, DistillError, Line, Options, Origin, Rejection};

/// Rewrites less similar than this to their sentence are rejected. Faithful restatements of a
/// sentence score 0.6–0.95 against it with all-MiniLM-L6-v2; unrelated text under 0.3.
pub const DEFAULT_MIN_GROUNDING: f32 = 0.5;
/// Sentences of one span that may stand as said.
const AS_SAID_PER_SPAN: usize = 3;
/// Sentences either side of the passage that may also back a claim's numbers and names.
pub(super) const SOURCE_CONTEXT: usize = 1;
/// An explanation's sentence stays only if it is this close to a sentence of its passage.
const WHY_MIN_SIMILARITY: f32 = 0.5;
/// A note sentence sharing a run this long with the quote copies it.
const COPIED_WORDS: usize = 6;

/// A rewrite that passed every rule: its headline sentence, explanation and their embedding.
#[derive(Clone)]
struct Accepted {
    claim: String,
    why: String,
    vector: Vec<f32>,
    grounding: f32,
    /// The sentences of the span the entry quotes (see [`excerpt`]), and their text.
    quote: (usize, usize),
    quoted: String,
}

pub fn ground(
    rewrites: &[(usize, Rewrite)],
    noms: &[Nomination],
    lines: &[Line],
    embedder: &Embedder,
    opts: &Options,
) -> Result<(Vec<Candidate>, Vec<Rejection>), DistillError> {
    let mut rejected = Vec::new();
    // (nomination, its rewrite, headline, note or why it was dropped)
    let mut pending: Vec<(usize, &Rewrite, String, Result<String, String>)> = Vec::new();
    for (i, r) in rewrites {
        let n = &noms[*i];
        match check(r, n, lines) {
            Ok((headline, note)) => pending.push((*i, r, headline, note)),
            Err(reason) => rejected.push(rejection(lines, n, &r.note, reason)),
        }
    }
    // Every sentence of every note (or the headline, where the note was dropped), embedded in
    // one batch.
    let split: Vec<Vec<String>> = pending
        .iter()
        .map(|(_, _, headline, note)| match note {
            Ok(note) => sentences(note),
            Err(_) => vec![headline.clone()],
        })
        .collect();
    let texts: Vec<&str> = split.iter().flatten().map(String::as_str).collect();
    let mut vectors = embedder.embed(&texts)?.into_iter();
    let mut accepted: Vec<Option<Accepted>> = vec![None; noms.len()];
    for ((i, rewrite, headline, note), note_sents) in pending.into_iter().zip(split) {
        let n = &noms[i];
        let vecs: Vec<Vec<f32>> = vectors.by_ref().take(note_sents.len()).collect();
        // A sentence's anchor: the sentence of the span it is closest to.
        let anchor_of = |v: &[f32]| {
            (n.first..=n.last)
                .map(|j| (j, dot(v, &lines[j].vector)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .unwrap_or((n.line, 0.0))
        };
        // The note's main sentence: the statement closest to something the span says.
        let best = (0..note_sents.len())
            .filter(|&k| note_sents.len() == 1 || is_statement(&note_sents[k]))
            .map(|k| (k, anchor_of(&vecs[k])))
            .max_by(|a, b| a.1 .1.total_cmp(&b.1 .1));
        let shown = note.as_deref().unwrap_or(&headline).to_string();
        let Some((best, (_, to_sentence))) = best else {
            rejected.push(rejection(lines, n, &shown, "the note states nothing".into()));
            continue;
        };
        // A note may sum up several sentences: the span as a whole counts as well.
        let span: Vec<&[f32]> =
            lines[n.first..=n.last].iter().map(|l| l.vector.as_slice()).collect();
        let grounding = to_sentence.max(dot(&vecs[best], &super::mean_vector(&span)));
        if grounding < opts.min_grounding {
            let reason = format!(
                "the note does not say what its passage says (similarity {grounding:.2} < {:.2})",
                opts.min_grounding
            );
            rejected.push(rejection(lines, n, &shown, reason));
            continue;
        }
        // Each other sentence must be close to something the passage says; generic filler
        // ("This is crucial for understanding…") is not, and is left out.
        let passage: Vec<&Vec<f32>> =
            context_lines(lines, n.first, n.last, SOURCE_CONTEXT).map(|l| &l.vector).collect();
        let kept: Vec<&str> = note_sents
            .iter()
            .zip(&vecs)
            .enumerate()
            .filter(|(k, (_, v))| {
                *k == best || passage.iter().any(|p| dot(v, p) >= WHY_MIN_SIMILARITY)
            })
            .map(|(_, (s, _))| s.as_str())
            .collect();
        let vector = vecs[best].clone();
        let excerpt = excerpt::excerpt(lines, n.first, n.last, &vector);
        // A quote must read on its own (a quote that leans on what came before or stops at the
        // setup reads as a fragment; judged, round 7): the note's excerpt, else the span's best
        // run that does. Under a verified note the excerpt stays when there is none; without
        // its note, the headline stands only over such a quote.
        let standing = if excerpt::stands_alone(lines, excerpt.0, excerpt.1) {
            Some(excerpt)
        } else {
            excerpt::standing(lines, n.first, n.last, &vector)
        };
        // A reason the quote beside it does not give is the model's own (`verify::reason_unsaid`):
        // the note keeps what it says before it, or goes when that is too short to say anything.
        let quote = standing.unwrap_or(excerpt);
        let asides = excerpt::asides(lines, quote, &vector);
        let quoted = excerpt::text(lines, quote, &asides);
        let mut cut = None;
        let note = note.and_then(|n| match reason_unsaid(&n, &quoted) {
            Some((at, _)) if n[..at].split_whitespace().count() >= 6 => {
                cut = Some(format!("{}.", n[..at].trim_end_matches([',', ';', ' '])));
                Ok(n)
            }
            Some((_, novel)) => Err(format!(
                "the note gives a reason its quote does not ({:.0} % new words)",
                novel * 100.0
            )),
            None => Ok(n),
        });
        if let Err(reason) = &note {
            let outcome =
                if standing.is_some() { "the headline stands over a quote" } else { "dropped" };
            rejected.push(rejection(lines, n, &rewrite.note, format!("{reason}; {outcome}")));
            if standing.is_none() {
                continue;
            }
        }
        // A note sentence that copies the quote would show the reader one sentence twice.
        let kept: Vec<&str> =
            kept.into_iter().filter(|s| !shares_run(s, &quoted, COPIED_WORDS)).collect();
        let mut why = match (&note, cut) {
            (Ok(_), Some(cut)) if !shares_run(&cut, &quoted, COPIED_WORDS) => cut,
            (Ok(_), Some(_)) => String::new(),
            (Ok(_), None) => kept.join(" "),
            (Err(_), _) => String::new(),
        };
        // A note that only says the headline again shows the reader one point twice.
        if restates(&why, &headline, lines[n.line].sentence.speaker.as_deref()) {
            why.clear();
        }
        // A sentence split inside a quotation leaves its other half behind.
        if why.matches('"').count() % 2 == 1 {
            why = why.replace('"', "");
        }
        accepted[i] = Some(Accepted { claim: headline, why, vector, grounding, quote, quoted });
    }
    let mut cands = Vec::new();
    for (n, acc) in noms.iter().zip(accepted) {
        if let Some(Accepted { claim, why, vector, grounding, quote, quoted }) = acc {
            let a = &lines[quote.0];
            let said: Vec<&str> =
                lines[quote.0..=quote.1].iter().map(|l| l.sentence.text.as_str()).collect();
            cands.push(Candidate {
                episode: a.episode,
                first: quote.0,
                last: quote.1,
                specificity: super::signals::specificity(&claim).max(a.specificity),
                claim,
                explanation: why,
                edited: lines[quote.0..=quote.1].iter().any(|l| l.sentence.edited)
                    || quoted != said.join(" "),
                quote: quoted,
                speaker: a.sentence.speaker.clone(),
                origin: Origin::Llm,
                grounding,
                score: lines[n.line].score,
                vector,
            });
        }
        // The span's sentences that read as points on their own stand as said too (at most
        // `AS_SAID_PER_SPAN`): they let the same point merge across episodes, and they are the
        // brief when no note holds. A fragment is never one of them.
        let mut said: Vec<usize> = (n.first..=n.last)
            .filter(|&j| {
                let l = &lines[j];
                l.filler.is_none() && l.specificity >= 0.35 && self_contained(&l.sentence.text)
            })
            .collect();
        said.sort_by(|&a, &b| lines[b].score.total_cmp(&lines[a].score).then(a.cmp(&b)));
        for j in said.into_iter().take(AS_SAID_PER_SPAN) {
            let l = &lines[j];
            cands.push(Candidate {
                episode: l.episode,
                first: j,
                last: j,
                claim: tidy(&l.sentence.text),
                explanation: excerpt::after(lines, j),
                quote: l.sentence.text.clone(),
                speaker: l.sentence.speaker.clone(),
                edited: l.sentence.edited,
                origin: Origin::Extractive,
                grounding: 1.0,
                specificity: l.specificity,
                score: l.score,
                vector: l.vector.clone(),
            });
        }
    }
    Ok((cands, rejected))
}

fn rejection(lines: &[Line], n: &Nomination, claim: &str, reason: String) -> Rejection {
    Rejection {
        episode: lines[n.line].episode,
        claim: claim.to_string(),
        quote: lines[n.line].sentence.text.clone(),
        reason,
    }
}

fn sentences(text: &str) -> Vec<String> {
    use unicode_segmentation::UnicodeSegmentation;
    text.unicode_sentences().map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// A sentence that asserts something: not a question, not a two-word reaction.
fn is_statement(s: &str) -> bool {
    !s.ends_with('?') && s.split_whitespace().count() >= 5
}

/// The span with up to `n` sentences of the same episode either side.
pub(super) fn context_lines(
    lines: &[Line],
    first: usize,
    last: usize,
    n: usize,
) -> impl Iterator<Item = &Line> {
    let e = lines[first].episode;
    let a = first.saturating_sub(n);
    let b = (last + n).min(lines.len() - 1);
    lines[a..=b].iter().filter(move |l| l.episode == e)
}

pub(super) fn context(lines: &[Line], first: usize, last: usize, n: usize) -> String {
    context_lines(lines, first, last, n)
        .map(|l| l.sentence.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
#[path = "ground_tests.rs"]
mod tests;
