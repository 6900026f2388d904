//! Grounding rules for a candidate insight, independent of any model: its quote must be found
//! in the transcript (after normalisation, allowing small transcription differences), and its
//! claim may not bring in a number or a proper name that its source span does not contain.
//! Small models invent exactly those; these checks are what keeps the brief honest.

use super::numbers::to_digits;
use crate::chunk::Sentence;

/// Lowercase alphanumeric words: punctuation, case and spacing do not count against a quote.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '.')
        .map(|w| w.trim_matches(|c: char| c == '\'' || c == '.').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct QuoteMatch {
    /// Sentence indices the quote spans (inclusive).
    pub first: usize,
    pub last: usize,
    /// Similarity of the quote to the best window of transcript words, 0..=1.
    pub score: f64,
}

/// Where `quote` occurs in `sentences`, if anywhere with similarity ≥ `min_score` (normalised
/// Levenshtein distance over words, so one misheard word in ten still matches).
pub fn find_quote(quote: &str, sentences: &[Sentence], min_score: f64) -> Option<QuoteMatch> {
    let q = words(quote);
    if q.len() < 3 {
        return None;
    }
    // The transcript's words, each remembering its sentence.
    let mut stream: Vec<(String, usize)> = Vec::new();
    for (i, s) in sentences.iter().enumerate() {
        stream.extend(words(&s.text).into_iter().map(|w| (w, i)));
    }
    if stream.is_empty() {
        return None;
    }
    let n = q.len();
    let mut best: Option<QuoteMatch> = None;
    // Windows a little shorter and longer than the quote absorb dropped or extra words.
    let lens = [n.saturating_sub(1).max(1), n, n + 1];
    for start in 0..stream.len() {
        // A window must share its first or second word with the quote to be worth scoring.
        if stream[start].0 != q[0] && q.get(1) != Some(&stream[start].0) {
            continue;
        }
        for &len in &lens {
            let end = (start + len).min(stream.len());
            let window: Vec<&str> = stream[start..end].iter().map(|(w, _)| w.as_str()).collect();
            let score = similarity(&q, &window);
            if best.as_ref().is_none_or(|b| score > b.score) {
                best = Some(QuoteMatch { first: stream[start].1, last: stream[end - 1].1, score });
            }
        }
    }
    best.filter(|b| b.score >= min_score)
}

fn similarity(a: &[String], b: &[&str]) -> f64 {
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let d = strsim::generic_levenshtein(&a, &b.to_vec());
    1.0 - d as f64 / a.len().max(b.len()).max(1) as f64
}

/// The numbers of a text by their digits ("forty percent" and "40%" both give "40").
pub fn numbers(text: &str) -> Vec<String> {
    digit_tokens(&to_digits(text))
}

/// Each number of a text already in digits: "3.5" and "3,5" agree; "20" is not "2010".
fn digit_tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|t| t.chars().filter(char::is_ascii_digit).collect::<String>())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Numbers and proper names in `claim` that `source` does not contain: the signs of an
/// invented detail. Proper names are capitalised words not at the start of a sentence.
pub fn unsupported_specifics(claim: &str, source: &str) -> Vec<String> {
    let (claim, source) = (to_digits(claim), to_digits(source));
    let (claim, source) = (claim.as_str(), source.as_str());
    let source_words: std::collections::HashSet<String> = words(source).into_iter().collect();
    let source_numbers: std::collections::HashSet<String> =
        digit_tokens(source).into_iter().collect();
    let mut out = Vec::new();
    let mut sentence_start = true;
    for raw in claim.split_whitespace() {
        let token = raw.trim_matches(|c: char| !c.is_alphanumeric());
        let ends = raw.ends_with(['.', '!', '?', ':']);
        if token.is_empty() {
            sentence_start |= ends;
            continue;
        }
        let digits: String = token.chars().filter(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            // "3.5" in the claim against "3.5" or "3,5" in the source: compare digits only.
            if !source_numbers.contains(&digits) {
                out.push(token.to_string());
            }
        } else if !sentence_start && token.chars().next().is_some_and(char::is_uppercase) {
            // "ECS/EKS" is two words; each must be in the source ("Moment's" as "Moment").
            let known = |w: &String| {
                let w = w.strip_suffix("'s").unwrap_or(w);
                source_words.contains(w) || COMMON_CAPS.contains(&w)
            };
            if !words(token).iter().all(known) {
                out.push(token.to_string());
            }
        }
        sentence_start = ends;
    }
    out
}

/// Words that open the clause in which a note gives its reason or consequence ("…, because…",
/// "…, allowing…", "…, highlighting…").
const REASON_MARKERS: &[&str] = &[
    "because",
    "since",
    "so that",
    "in order to",
    "to ensure",
    "ensuring",
    "allowing",
    "enabling",
    "leading to",
    "making it",
    "resulting in",
    "highlighting",
    "emphasizing",
    "as it",
    "as they",
    "as this",
    "which can",
    "which could",
    "which would",
    "which will",
    "which is",
    "which are",
    "which makes",
    "which allows",
    "which helps",
    "which leads",
    "which means",
];

/// At most this share of the content words of a note's reason clause may be absent from the
/// quote shown beside it. Judged: notes whose reason clause left at most 30 % of its content
/// words out of the quote were faithful 92 % of the time, the others 36 % (278 judged notes of
/// rounds 19-24); a small model that is asked for a reason supplies one.
const MAX_REASON_NOVELTY: f32 = 0.3;

/// Where the reason clause of `note` has more than `MAX_REASON_NOVELTY` new words against
/// `quoted` (a reason the reader's quote does not give): the byte at which the clause starts, and
/// the share.
pub fn reason_unsaid(note: &str, quoted: &str) -> Option<(usize, f32)> {
    let clause = reason_clause(note)?;
    let novel = super::novelty(clause, quoted);
    (novel > MAX_REASON_NOVELTY).then_some((note.len() - clause.len(), novel))
}

/// The clause of `note` that gives its reason or consequence: from the first marker on.
fn reason_clause(note: &str) -> Option<&str> {
    // ASCII case only, so that a byte of `lower` is the same byte of `note`.
    let lower = note.to_ascii_lowercase();
    REASON_MARKERS
        .iter()
        .filter_map(|m| {
            lower.match_indices(m).map(|(i, _)| i).find(|&i| {
                let before = lower[..i].ends_with(' ');
                let after = lower[i + m.len()..].starts_with([' ', ',']);
                before && after && i > 0
            })
        })
        .min()
        .and_then(|i| note.get(i..))
}

/// Capitalised words that are not names.
const COMMON_CAPS: &[&str] = &["i", "i'm", "i've", "i'd", "i'll", "ai"];

#[cfg(test)]
mod tests {
    use super::*;

    fn sents(texts: &[&str]) -> Vec<Sentence> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Sentence {
                text: t.to_string(),
                start: i as f64,
                end: i as f64 + 1.0,
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn quotes_are_found_despite_case_punctuation_and_a_misheard_word() {
        let s = sents(&[
            "Welcome back to the show.",
            "Battery prices fell by ninety percent over the last decade, which changes everything.",
            "Anyway, thanks for listening.",
        ]);
        let m = find_quote("battery prices fell by 90 percent over the last decade", &s, 0.8)
            .expect("found");
        assert_eq!((m.first, m.last), (1, 1));
        assert!(m.score >= 0.8 && m.score < 1.0, "{m:?}");
        let exact = find_quote("Battery prices fell by ninety percent", &s, 0.8).unwrap();
        assert_eq!(exact.score, 1.0);
        // Across a sentence boundary.
        let m = find_quote("changes everything. Anyway, thanks", &s, 0.8).unwrap();
        assert_eq!((m.first, m.last), (1, 2));
        // Made-up quotes and too-short ones are not found.
        assert!(find_quote("solar panels are now free for everyone", &s, 0.8).is_none());
        assert!(find_quote("the show", &s, 0.8).is_none());
    }

    #[test]
    fn invented_numbers_and_names_are_flagged() {
        let src = "Maria Lopez said battery prices fell 90 percent since 2010 in Germany.";
        assert!(unsupported_specifics("Battery prices fell 90 percent since 2010.", src).is_empty());
        assert!(unsupported_specifics("In Germany, Lopez saw prices fall.", src).is_empty());
        assert_eq!(
            unsupported_specifics("Prices fell 95 percent, says Tesla.", src),
            ["95", "Tesla"]
        );
        // Sentence-initial capitals and "I" are not names.
        assert!(unsupported_specifics("Prices fell. Batteries got cheap. I agree.", src).is_empty());
        // Spelled-out numbers count the same as digits, on either side.
        assert!(unsupported_specifics("Prices fell ninety percent.", src).is_empty());
        assert_eq!(unsupported_specifics("About two thousand people.", src), ["2000"]);
    }

    #[test]
    fn a_reason_the_quote_does_not_give_is_found() {
        let quote = "We keep the year in the directory names. Every year we stand up a new \
                     Kubernetes cluster and move everything over, so the names tell them apart.";
        let invented = "Gerhard explains that the year in the names matters because it keeps \
                        the setup compatible with the latest version of Fly.";
        assert!(reason_unsaid(invented, quote)
            .is_some_and(|(at, _)| invented[at..].starts_with("because")));
        let said = "Gerhard keeps the year in directory names because every year a new \
                    Kubernetes cluster is stood up.";
        assert_eq!(reason_unsaid(said, quote), None);
        // No reason clause, nothing to check.
        assert_eq!(reason_unsaid("Gerhard keeps the year in the names.", quote), None);
        assert_eq!(reason_clause("Because of it, X."), None);
    }
}
