//! Spoken text as written prose, adding nothing to the speaker's words: a sentence without the
//! "Yeah, so," that opens conversational turns, and without the "..." with which transcripts
//! mark a pause. Used for quotes and for sentences that stand as said.

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

/// A quoted sentence as written prose: the transcript marks a pause or a speaker trailing off
/// with "..." (mid-turn and at a turn's end), which a reader of a quote takes for words cut
/// off (judged on the real episodes, round 24). Where the words before it end a clause, the dots become a full stop
/// and a tail left hanging before them goes ("…but we do, so..." → "…but we do."); a sentence
/// that stops mid-phrase ("…to worry about...") is cut off indeed and keeps its dots.
pub fn settle_pause(text: &str) -> String {
    const TAILS: &[&str] = &[
        "and things",
        "and stuff",
        "and everything",
        "and all that",
        "or something",
        "or whatever",
        "type stuff",
        "kind of thing",
        "so",
        "and",
        "but",
        "or",
        "because",
        "like",
        "yeah",
        "um",
        "uh",
    ];
    const MID_PHRASE: &[&str] = &[
        "a", "about", "an", "are", "as", "at", "be", "by", "for", "from", "he", "i", "if", "in",
        "into", "is", "it's", "its", "my", "of", "on", "our", "she", "than", "that", "the",
        "their", "they", "this", "those", "to", "was", "we", "were", "which", "with", "you",
        "your",
    ];
    let t = text.trim_end();
    let Some(body) = t.strip_suffix("...").or_else(|| t.strip_suffix('…')) else {
        return t.to_string();
    };
    let trim = |b: &str| b.trim_end_matches([',', ';', ' ', '-', '—', '–']).len();
    let mut body = &body[..trim(body)];
    // `get`, not indexing: the cut may fall inside a character ("…ten €...").
    while let Some(tail) = TAILS.iter().find(|tail| {
        let at = body.len().saturating_sub(tail.len());
        at > 0
            && body.get(at..).is_some_and(|end| end.eq_ignore_ascii_case(tail))
            && body[..at].ends_with([' ', ','])
    }) {
        body = &body[..body.len() - tail.len()];
        body = &body[..trim(body)];
    }
    let last = body.rsplit(' ').next().unwrap_or("").to_lowercase();
    if body.split_whitespace().count() < 3 || MID_PHRASE.contains(&last.as_str()) {
        return t.to_string();
    }
    format!("{body}.")
}

#[cfg(test)]
mod tests {
    use super::{settle_pause, tidy};

    #[test]
    fn a_pause_at_a_clause_end_reads_as_a_full_stop() {
        assert_eq!(
            settle_pause("They don't care about that stuff, but we do, so..."),
            "They don't care about that stuff, but we do."
        );
        assert_eq!(
            settle_pause("You get help with the types of arguments, and things..."),
            "You get help with the types of arguments."
        );
        assert_eq!(
            settle_pause("All the network elements that we have..."),
            "All the network elements that we have."
        );
        // Cut off mid-phrase: the dots stay.
        let cut = "Run these apps, so that you don't have to worry about...";
        assert_eq!(settle_pause(cut), cut);
        assert_eq!(settle_pause("So..."), "So...");
        assert_eq!(settle_pause("It costs about ten €..."), "It costs about ten €.");
        assert_eq!(settle_pause("A sentence that ends."), "A sentence that ends.");
    }

    #[test]
    fn conversational_leads_are_trimmed() {
        assert_eq!(tidy("Yeah, so, heat pumps move heat."), "Heat pumps move heat.");
        assert_eq!(tidy("And I mean the grid is old."), "The grid is old.");
        assert_eq!(tidy("Solar is cheap."), "Solar is cheap.");
        assert_eq!(tidy("Songs are long."), "Songs are long.");
    }
}
