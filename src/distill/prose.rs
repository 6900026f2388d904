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
/// off (judged on the real episodes, round 24). Where the words before it end a clause, the dots
/// become a full stop and a tail left hanging before them goes ("…but we do, so..." → "…but we
/// do."), as does a last clause left unfinished; a sentence that stops mid-phrase with nothing
/// before it to stand ("You don't have to worry about...") is cut off indeed and keeps its dots.
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
    let mid_phrase = |b: &str| {
        let last = b.rsplit(' ').next().unwrap_or("").to_lowercase();
        MID_PHRASE.contains(&last.as_str())
    };
    // A last clause the speaker trailed off in before finishing it goes, where enough of the
    // sentence stands before it: one cut mid-phrase ("…to run these apps, so that you don't
    // have to worry about...") or one still waiting for its main clause ("…in a day or two,
    // because once you understand the sideways tree..."). "…, so we rewrote it..." is finished.
    if let Some((head, clause)) = body.rsplit_once(", ") {
        let opens: Vec<String> = clause.split_whitespace().take(2).map(str::to_lowercase).collect();
        let waiting = opens.len() == 2 && opens.iter().all(|w| HANGING.contains(&w.as_str()));
        let head = &head[..trim(head)];
        if (waiting || mid_phrase(body))
            && head.split_whitespace().count() >= 5
            && !mid_phrase(head)
        {
            return format!("{head}.");
        }
    }
    if body.split_whitespace().count() < 3 || mid_phrase(body) {
        return t.to_string();
    }
    format!("{body}.")
}

/// Words that open a clause that needs another to finish it; two in a row ("because once…",
/// "so if…") leave the sentence waiting for its main clause.
const HANGING: &[&str] = &[
    "because", "cause", "so", "once", "if", "when", "whenever", "since", "until", "unless",
    "while", "where", "which", "although", "though", "whereas",
];

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
        // A clause left unfinished goes; cut off mid-phrase with nothing to stand, the dots stay.
        assert_eq!(
            settle_pause("Use Heroku to run these apps, so that you don't have to worry about..."),
            "Use Heroku to run these apps."
        );
        assert_eq!(
            settle_pause(
                "HTML you can pick up in a day or two, because once you understand the tree..."
            ),
            "HTML you can pick up in a day or two."
        );
        assert_eq!(
            settle_pause("We saw hubs, and switches, and all the network elements that we have..."),
            "We saw hubs, and switches, and all the network elements that we have."
        );
        let cut = "Run these apps, so you don't have to worry about...";
        assert_eq!(settle_pause(cut), cut);
        assert_eq!(
            settle_pause("It was far too slow for us, so we rewrote it in Rust..."),
            "It was far too slow for us, so we rewrote it in Rust."
        );
        let cut = "You don't have to worry about...";
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
