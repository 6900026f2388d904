//! The rules on the model's wording that need no model: what a headline and a note may say
//! about their passage (see `ground` for how a failure is handled). Small models add names,
//! numbers, directions ("more", "faster") and negations their passage lacks; these checks find
//! them by comparing words, since embeddings barely notice a "not".

use super::candidates::{Nomination, Rewrite};
use super::ground::{context, SOURCE_CONTEXT};
use super::verify::{numbers, unsupported_specifics};
use super::wording::{
    added_direction, drops_negation, echoes_prompt, leaks_prompt, negated, novelty, repeats_itself,
    sentence_case, spoken, topic_only,
};
use super::Line;

/// At most this share of a note's content words may be absent from its passage: small
/// models "explain" with confident general knowledge that is often wrong.
const MAX_CLAIM_NOVELTY: f32 = 0.45;
/// A headline is a few words and may name the point in its own terms.
const MAX_HEADLINE_NOVELTY: f32 = 0.5;
/// How notes report speech ("X argues that…"): never counted as words the passage lacks.
const REPORTING: &str =
    "argue argues argued recommend recommends suggest suggests explain explains \
                         explained say says said believe believes note notes warn warns think \
                         thinks point points out describe describes emphasize emphasizes \
                         stress stresses advise advises";

/// The rules that need no model. A headline that fails any is fatal to the rewrite; a note that
/// fails is dropped and the entry keeps the headline over its excerpt (the speaker's own words),
/// the fallback the reader can trust. Returns the headline and the note (when it holds, else
/// why not), whitespace normalised.
pub(super) fn check(
    r: &Rewrite,
    n: &Nomination,
    lines: &[Line],
) -> Result<(String, Result<String, String>), String> {
    let norm = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let headline = closed(norm(r.headline.trim_end_matches('.')));
    let note = norm(&r.note);
    if !(2..=16).contains(&headline.split_whitespace().count()) {
        return Err("the headline is not a short title".into());
    }
    // A question names a topic; the brief promises what was said about it.
    if headline.ends_with('?') {
        return Err("the headline asks a question instead of stating the point".into());
    }
    // The speakers' names are given with the passage, so a note may use them.
    let names: Vec<&str> = (n.first.saturating_sub(1)..=n.last)
        .filter_map(|j| lines[j].sentence.speaker.as_deref())
        .collect();
    // The verbs a note reports with are not new content either.
    let source = format!(
        "{} {REPORTING} {}",
        names.join(" "),
        context(lines, n.first, n.last, SOURCE_CONTEXT)
    );
    // A Title Case headline capitalises ordinary words: read it in sentence case for names.
    wording_holds(&sentence_case(&headline), "headline", MAX_HEADLINE_NOVELTY, &source)?;
    if negated(&headline) && !negated(&source) {
        return Err("the headline flips a negation of its passage".into());
    }
    Ok((headline, check_note(&note, n, lines, &source)))
}

/// `text` with a quotation it leaves open at its end closed: a reply cut at its last quotation
/// mark (`…changed to "smoosh`) read to blind judges as a cut-off title.
fn closed(mut text: String) -> String {
    if text.matches('"').count() % 2 == 1 && !text.ends_with('"') {
        text.push('"');
    }
    text
}

/// The checks every shown line of model text passes: no prompt talk, no copied speech, no
/// topic mention, few words its passage lacks and no invented name or figure.
fn wording_holds(text: &str, what: &str, limit: f32, source: &str) -> Result<(), String> {
    if echoes_prompt(text) || leaks_prompt(text) {
        return Err("the model repeated its instructions".into());
    }
    if spoken(text) {
        return Err("speech copied from the transcript, not a note about it".into());
    }
    if topic_only(text) {
        return Err("a topic mention (\"they discuss X\"), not a point".into());
    }
    let novel = novelty(text, source);
    if novel > limit {
        return Err(format!(
            "the {what} says what its passage does not ({:.0} % new words)",
            novel * 100.0
        ));
    }
    let invented = unsupported_specifics(text, source);
    if !invented.is_empty() {
        return Err(format!(
            "the {what} adds what its source does not say: {}",
            invented.join(", ")
        ));
    }
    if let Some(word) = added_direction(text, source) {
        return Err(format!("the {what} says \"{word}\" where its passage does not"));
    }
    Ok(())
}

fn check_note(note: &str, n: &Nomination, lines: &[Line], source: &str) -> Result<String, String> {
    let words = note.split_whitespace().count();
    if words < 6 {
        return Err("the note is too short to say anything".into());
    }
    if words > 80 {
        return Err("the note is not one or two sentences".into());
    }
    // A note that does not end a sentence was cut by the length limit mid-thought.
    if !note.trim_end_matches(['"', '\'', ')']).ends_with(['.', '!', '?']) {
        return Err("the note was cut off".into());
    }
    wording_holds(note, "note", MAX_CLAIM_NOVELTY, source)?;
    if repeats_itself(note) {
        return Err("the note repeats a clause".into());
    }
    // Embeddings barely notice a "not": "you do not need a lot of room" and "a tomato needs a
    // lot of room" are close. The note must keep the negation of the sentence it restates,
    // and may not add one the passage lacks.
    let key = &lines[anchor_by_words(note, lines, n)].sentence.text;
    let restates = novelty(note, key) < 0.5;
    // Any sentence of the span that denies what the note states counts, not only the anchor.
    let denies = (n.first..=n.last).any(|j| drops_negation(&lines[j].sentence.text, note));
    let dropped = !negated(note) && ((restates && negated(key)) || denies);
    if dropped || (negated(note) && !negated(source)) {
        return Err("the note flips a negation of its passage".into());
    }
    // Shares and amounts are usually the point: a note that drops all of them says less.
    // (Other figures in a passage are often just examples: "1,000 VMs or two".)
    let key_numbers = numbers(key);
    let note_numbers = numbers(note);
    let measured =
        ["%", "percent", "$", "€", "£", "dollars", "euros"].iter().any(|m| key.contains(m));
    if measured && !key_numbers.is_empty() && key_numbers.iter().all(|k| !note_numbers.contains(k))
    {
        return Err(format!(
            "the note drops the figures of its sentence ({})",
            key_numbers.join(", ")
        ));
    }
    Ok(note.to_string())
}

/// The sentence of the span that shares the most content words with `claim` (ties: the
/// nominated sentence): what a negation or a figure of the claim is checked against.
fn anchor_by_words(claim: &str, lines: &[Line], n: &Nomination) -> usize {
    let overlap = |j: usize| 1.0 - novelty(claim, &lines[j].sentence.text);
    (n.first..=n.last)
        .max_by(|&a, &b| {
            overlap(a).total_cmp(&overlap(b)).then((b == n.line).cmp(&(a == n.line)).reverse())
        })
        .unwrap_or(n.line)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_quotation_left_open_at_the_end_is_closed() {
        let closed = |t: &str| super::closed(t.to_string());
        assert_eq!(closed("Rename \"flatten\" to \"smoosh"), "Rename \"flatten\" to \"smoosh\"");
        assert_eq!(closed("Rename \"flatten\" to smoosh"), "Rename \"flatten\" to smoosh");
        assert_eq!(closed("Keep \"it\" as it is"), "Keep \"it\" as it is");
    }
}
