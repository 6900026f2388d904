//! The grounding rules that decide whether the model's wording may stand for a nominated
//! sentence. The rewrite is kept only if it does not repeat the model's own instructions,
//! brings in no number or name its passage lacks, and still says what the nominated sentence
//! says (embedding similarity); otherwise the sentence stands as it was said (an extractive
//! candidate) and the rejection is recorded. Nominations never come from ads, small talk or
//! lines addressed to an AI, so neither do quotes. The insight's time is its sentence's time.

use crate::embed::Embedder;

use super::candidates::{Nomination, Rewrite, SYSTEM_PROMPT, USER_PROMPT};
use super::verify::{numbers, unsupported_specifics};
use super::{dot, Candidate, DistillError, Line, Options, Origin, Rejection};

/// Rewrites less similar than this to their sentence are rejected. Faithful restatements of a
/// sentence score 0.6–0.95 against it with all-MiniLM-L6-v2; unrelated text under 0.3.
pub const DEFAULT_MIN_GROUNDING: f32 = 0.5;
/// Sentences either side of the passage that may also back a claim's numbers and names.
const SOURCE_CONTEXT: usize = 1;
/// An explanation's sentence stays only if it is this close to a sentence of its passage.
const WHY_MIN_SIMILARITY: f32 = 0.5;
/// At most this share of an explanation sentence's content words may be absent from its
/// passage: small models "explain" with confident general knowledge that is often wrong
/// ("…which means the price increases as more panels are made").
const MAX_WHY_NOVELTY: f32 = 0.15;
/// The same for the claim, which may rephrase more.
const MAX_CLAIM_NOVELTY: f32 = 0.4;
/// Runs of this many words shared with the prompt mark text copied from the instructions.
const ECHO_WORDS: usize = 5;

/// A rewrite that passed every rule: its headline sentence, explanation and their embedding.
#[derive(Clone)]
struct Accepted {
    claim: String,
    why: String,
    vector: Vec<f32>,
    grounding: f32,
}

pub fn ground(
    rewrites: &[(usize, Rewrite)],
    noms: &[Nomination],
    lines: &[Line],
    embedder: &Embedder,
    opts: &Options,
) -> Result<(Vec<Candidate>, Vec<Rejection>), DistillError> {
    let mut rejected = Vec::new();
    let mut pending: Vec<(usize, String, String)> = Vec::new();
    for (i, r) in rewrites {
        let n = &noms[*i];
        match check(r, n, lines) {
            Ok((claim, why)) => pending.push((*i, claim, why)),
            Err(reason) => rejected.push(rejection(lines, n, &r.claim, reason)),
        }
    }
    // Every sentence of every claim and explanation, embedded in one batch.
    let split: Vec<(Vec<String>, Vec<String>)> =
        pending.iter().map(|(_, c, w)| (sentences(c), sentences(w))).collect();
    let texts: Vec<&str> =
        split.iter().flat_map(|(c, w)| c.iter().chain(w.iter()).map(String::as_str)).collect();
    let mut vectors = embedder.embed(&texts)?.into_iter();
    let mut accepted: Vec<Option<Accepted>> = vec![None; noms.len()];
    for ((i, claim, _), (claim_sents, why_sents)) in pending.into_iter().zip(split) {
        let n = &noms[i];
        let key = &lines[n.line].vector;
        let claim_vecs: Vec<Vec<f32>> = vectors.by_ref().take(claim_sents.len()).collect();
        let why_vecs: Vec<Vec<f32>> = vectors.by_ref().take(why_sents.len()).collect();
        // A claim of several sentences (small models copy the passage) is cut to the one
        // that states the nominated point.
        let best = (0..claim_sents.len())
            .filter(|&k| claim_sents.len() == 1 || is_statement(&claim_sents[k]))
            .max_by(|&a, &b| dot(&claim_vecs[a], key).total_cmp(&dot(&claim_vecs[b], key)));
        let Some(best) = best else {
            rejected.push(rejection(lines, n, &claim, "the claim states nothing".into()));
            continue;
        };
        let grounding = dot(&claim_vecs[best], key);
        if grounding < opts.min_grounding {
            let reason = format!(
                "the claim does not say what its sentence says (similarity {grounding:.2} < {:.2})",
                opts.min_grounding
            );
            rejected.push(rejection(lines, n, &claim, reason));
            continue;
        }
        // Each sentence of the explanation must be close to something the passage says;
        // generic filler ("This is crucial for understanding…") is not.
        let passage: Vec<&Vec<f32>> =
            context_lines(lines, n.first, n.last, SOURCE_CONTEXT).map(|l| &l.vector).collect();
        let source = context(lines, n.first, n.last, SOURCE_CONTEXT);
        let why: Vec<&str> = why_sents
            .iter()
            .zip(&why_vecs)
            .filter(|(s, v)| {
                passage.iter().any(|p| dot(v, p) >= WHY_MIN_SIMILARITY)
                    && novelty(s, &source) <= MAX_WHY_NOVELTY
                    // Not the headline again in other words, and not cut off by the length limit.
                    && dot(v, &claim_vecs[best]) < 0.9
                    && s.trim_end_matches(['"', '\'', ')']).ends_with(['.', '!', '?'])
            })
            .map(|(s, _)| s.as_str())
            .collect();
        let why = why.join(" ");
        let headline = claim_sents[best].clone();
        accepted[i] =
            Some(Accepted { claim: headline, why, vector: claim_vecs[best].clone(), grounding });
    }
    let cands = noms
        .iter()
        .zip(accepted)
        .map(|(n, acc)| {
            let l = &lines[n.line];
            let base = Candidate {
                episode: l.episode,
                first: n.line,
                last: n.line,
                claim: tidy(&l.sentence.text),
                explanation: context_after(lines, n.line),
                quote: l.sentence.text.clone(),
                origin: Origin::Extractive,
                grounding: 1.0,
                specificity: l.specificity,
                score: l.score,
                vector: l.vector.clone(),
            };
            match acc {
                Some(Accepted { claim, why, vector, grounding }) => Candidate {
                    specificity: super::signals::specificity(&claim).max(l.specificity),
                    explanation: if why.is_empty() { base.explanation.clone() } else { why },
                    claim,
                    origin: Origin::Llm,
                    grounding,
                    vector,
                    ..base
                },
                None => base,
            }
        })
        .collect();
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

/// The rules that need no model. Returns the claim and the explanation (empty when the
/// model's explanation broke a rule: the transcript's next sentence stands in for it).
fn check(r: &Rewrite, n: &Nomination, lines: &[Line]) -> Result<(String, String), String> {
    let claim = r.claim.split_whitespace().collect::<Vec<_>>().join(" ");
    let words = claim.split_whitespace().count();
    if words < 4 {
        return Err("the claim is too short to say anything".into());
    }
    if words > 60 {
        return Err("the claim is not one sentence".into());
    }
    // A claim that does not end a sentence was cut by the length limit mid-thought.
    if !claim.trim_end_matches(['"', '\'', ')']).ends_with(['.', '!', '?']) {
        return Err("the claim was cut off".into());
    }
    if echoes_prompt(&claim) {
        return Err("the model repeated its instructions".into());
    }
    let source = context(lines, n.first, n.last, SOURCE_CONTEXT);
    let novel = novelty(&claim, &source);
    if novel > MAX_CLAIM_NOVELTY {
        return Err(format!(
            "the claim says what its passage does not ({:.0} % new words)",
            novel * 100.0
        ));
    }
    // Embeddings barely notice a "not": "you do not need a lot of room" and "a tomato needs a
    // lot of room" are close. A rewrite must keep its sentence's negation and add none.
    let key_negated = negated(&lines[n.line].sentence.text);
    if key_negated != negated(&claim) && (key_negated || !negated(&source)) {
        return Err("the claim flips a negation of its sentence".into());
    }
    // The figures are usually the point: a rewrite that drops all of them says less.
    let key_numbers = numbers(&lines[n.line].sentence.text);
    let claim_numbers = numbers(&claim);
    if !key_numbers.is_empty() && key_numbers.iter().all(|k| !claim_numbers.contains(k)) {
        return Err(format!(
            "the claim drops the figures of its sentence ({})",
            key_numbers.join(", ")
        ));
    }
    let invented = unsupported_specifics(&claim, &source);
    if !invented.is_empty() {
        return Err(format!(
            "the claim adds what its source does not say: {}",
            invented.join(", ")
        ));
    }
    let why = r.why.split_whitespace().collect::<Vec<_>>().join(" ");
    let why_ok = why.split_whitespace().count() >= 4
        && !echoes_prompt(&why)
        && unsupported_specifics(&why, &source).is_empty();
    Ok((claim, if why_ok { why } else { String::new() }))
}

/// Whether `text` shares a run of `ECHO_WORDS` words with the prompts: small models copy
/// their instructions into the answer ("One or two sentences with the reason…").
pub fn echoes_prompt(text: &str) -> bool {
    let norm = |t: &str| super::verify::words(t);
    let t = norm(text);
    [SYSTEM_PROMPT, USER_PROMPT].iter().any(|p| {
        let p = norm(p);
        p.windows(ECHO_WORDS).any(|w| t.windows(ECHO_WORDS).any(|x| x == w))
    })
}

/// The share of `text`'s content words (not stop words) that `source` does not use, with
/// plurals folded.
pub fn novelty(text: &str, source: &str) -> f32 {
    let fold = |w: &str| w.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(w).to_string();
    let content = |t: &str| -> Vec<String> {
        super::verify::words(&super::to_digits(t))
            .into_iter()
            .filter(|w| !super::signals::STOP.contains(&w.as_str()))
            .map(|w| fold(&w))
            .collect()
    };
    let have: std::collections::HashSet<String> = content(source).into_iter().collect();
    let words = content(text);
    if words.is_empty() {
        return 0.0;
    }
    words.iter().filter(|w| !have.contains(*w)).count() as f32 / words.len() as f32
}

/// Whether a text says "not", "no", "never" or a contraction of "not".
fn negated(text: &str) -> bool {
    super::verify::words(text).iter().any(|w| {
        matches!(w.as_str(), "not" | "no" | "never" | "nothing" | "none" | "nobody" | "cannot")
            || w.ends_with("n't")
    })
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
fn context_lines(
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

fn context(lines: &[Line], first: usize, last: usize, n: usize) -> String {
    context_lines(lines, first, last, n)
        .map(|l| l.sentence.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Up to two following sentences of the same episode while they continue the point (content,
/// not questions); empty otherwise.
fn context_after(lines: &[Line], i: usize) -> String {
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
        .map(|n| tidy(&n.sentence.text))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A spoken sentence as a claim: without the leading "Yeah, so," of conversation.
pub fn tidy(text: &str) -> String {
    const LEADS: &[&str] = &[
        "yeah", "yes", "so", "and", "but", "well", "right", "okay", "oh", "um", "uh", "like",
        "i mean", "you know",
    ];
    let mut t = text.trim();
    let lead_of = |t: &str| {
        LEADS.iter().find(|l| {
            t.get(..l.len()).is_some_and(|h| h.eq_ignore_ascii_case(l))
                && t[l.len()..].starts_with([',', ' '])
        })
    };
    while let Some(lead) = lead_of(t) {
        t = t[lead.len()..].trim_start_matches([',', ' ']);
    }
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::{echoes_prompt, novelty, tidy};

    #[test]
    fn explanations_made_of_outside_knowledge_are_novel() {
        let src = "Every time the number of panels ever made doubles, the price falls by about \
                   20 percent, because factories keep getting better and bigger.";
        assert!(novelty("The price falls about 20 percent as factories get bigger.", src) < 0.25);
        assert!(novelty("This is a fundamental concept in economics and markets.", src) > 0.5);
    }

    #[test]
    fn a_dropped_not_is_a_flipped_claim() {
        assert!(super::negated("You do not need a lot of room."));
        assert!(super::negated("It doesn't help at all."));
        assert!(!super::negated("A tomato needs a lot of room."));
    }

    #[test]
    fn instructions_copied_into_an_answer_are_caught() {
        assert!(echoes_prompt("One or two sentences with the reason, mechanism or evidence."));
        assert!(!echoes_prompt(
            "Heat pumps move heat rather than making it, so they need less power."
        ));
    }

    #[test]
    fn conversational_leads_are_trimmed() {
        assert_eq!(tidy("Yeah, so, heat pumps move heat."), "Heat pumps move heat.");
        assert_eq!(tidy("And I mean the grid is old."), "The grid is old.");
        assert_eq!(tidy("Solar is cheap."), "Solar is cheap.");
        assert_eq!(tidy("Songs are long."), "Songs are long.");
    }
}
