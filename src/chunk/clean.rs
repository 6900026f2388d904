//! Spoken English as a reader wants it: fillers, stutters and false starts removed, nothing
//! else touched. A brief quotes what was said, so cleaning is deliberately narrow: it removes
//! words that carry no content ("you know", "um", a repeated "the the", a restart such as
//! "we've -- we've"), never changes or reorders the words that remain, and reports whether it
//! changed anything, so a cleaned quote can be marked as lightly edited.

/// Hesitation sounds, removed wherever they stand as words.
const HESITATIONS: &[&str] = &["um", "uh", "erm", "er", "uhm", "hmm", "mm", "ah"];

/// Fillers removed only where commas set them off (or at a sentence's start), since the same
/// words carry meaning elsewhere ("I like it", "you know the answer").
const SET_OFF: &[&str] = &[
    "you know",
    "i mean",
    "like",
    "sort of",
    "kind of",
    "basically",
    "you know what i mean",
    "right",
    "okay",
    "ok",
    "so yeah",
    "yeah",
];

/// Words too common to mark a restart on their own.
const MINOR: &[&str] =
    &["so", "and", "but", "the", "a", "an", "of", "to", "well", "like", "or", "um", "uh"];

/// Hedges removed inside a clause when they precede a word they soften ("it's kind of slow"),
/// but not when they name a kind ("what kind of database", "this sort of thing").
const HEDGES: &[&str] = &["kind of", "sort of"];
const KIND_OWNERS: &[&str] = &[
    "what",
    "this",
    "that",
    "the",
    "a",
    "any",
    "some",
    "which",
    "one",
    "every",
    "each",
    "same",
    "these",
    "those",
    "other",
    "different",
    "all",
    "no",
];

/// The sentence cleaned, and whether anything was removed.
pub fn clean(text: &str) -> (String, bool) {
    let mut s = restarts(text);
    s = drop_words(&s);
    s = drop_set_off(&s);
    s = drop_hedges(&s);
    s = drop_repeats(&s);
    let s = tidy(&s);
    let changed = normal(&s) != normal(text);
    (s, changed)
}

fn normal(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn word_key(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'').to_lowercase()
}

/// "so we've -- I mean, we've done" → "we've done": a short fragment broken off with a dash and
/// started again is a false start. A dash that opens an aside ("the fix -- and it was hard --
/// shipped") does not restart, so it stays (as an em dash).
fn restarts(text: &str) -> String {
    let pieces: Vec<&str> = text.split(" -- ").collect();
    if pieces.len() == 1 {
        return text.replace("--", "—");
    }
    let mut out: Vec<String> = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        let next = pieces.get(i + 1);
        // The fragment: what this piece says after its last clause break.
        let cut = piece.rfind([',', '.', ';', '?', '!']).map_or(0, |p| p + 1);
        let fragment = &piece[cut..];
        let frag_words: Vec<String> = fragment.split_whitespace().map(word_key).collect();
        // Restarted: a word of the fragment (not a mere "so" or "the") comes back within the
        // first words after the dash ("we've -- I mean, as a reminder, we've …").
        let restarted = next.is_some_and(|n| {
            let ahead: Vec<String> = n.split_whitespace().map(word_key).take(7).collect();
            frag_words.len() <= 6
                && frag_words
                    .iter()
                    .filter(|w| w.len() >= 2 && !MINOR.contains(&w.as_str()))
                    .any(|w| ahead.contains(w))
        });
        if restarted {
            let kept = piece[..cut].trim_end();
            if !kept.is_empty() {
                out.push(kept.to_string());
            }
        } else if next.is_some() {
            out.push(format!("{} —", piece.trim_end()));
        } else {
            out.push(piece.to_string());
        }
    }
    let joined = out.join(" ");
    // "I mean, " left at the start of a restart.
    joined.replace("— I mean, ", "— ")
}

fn drop_words(s: &str) -> String {
    s.split(' ')
        .filter(|w| {
            let k = word_key(w);
            !(HESITATIONS.contains(&k.as_str()) && w.len() <= k.len() + 1)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Removes fillers at the start of the sentence (", " after) or between commas.
fn drop_set_off(s: &str) -> String {
    let mut s = s.to_string();
    let mut changed = true;
    while changed {
        changed = false;
        let lower = s.to_lowercase();
        for f in SET_OFF {
            // At the start: "You know, the cache…"
            let lead = format!("{f}, ");
            if lower.starts_with(&lead) {
                s = capitalise(&s[lead.len()..]);
                changed = true;
                break;
            }
            // Inside: "the cache, you know, was slow" → "the cache was slow"; at the end: ", you know."
            for (pat, keep) in
                [(format!(", {f}, "), " "), (format!(", {f}."), "."), (format!(", {f}?"), "?")]
            {
                if let Some(p) = lower.find(&pat) {
                    s = format!("{}{keep}{}", &s[..p], &s[p + pat.len()..]);
                    changed = true;
                    break;
                }
            }
            if changed {
                break;
            }
        }
    }
    s
}

/// "it's kind of slow" → "it's slow"; "what kind of cache" stays.
fn drop_hedges(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if i + 2 < words.len() {
            let pair = format!("{} {}", word_key(words[i]), word_key(words[i + 1]));
            let owner = out.last().map(|w| word_key(w)).unwrap_or_default();
            let plain = !words[i + 1].ends_with([',', '.', '?', '!']);
            if HEDGES.contains(&pair.as_str())
                && plain
                && !KIND_OWNERS.contains(&owner.as_str())
                && i > 0
            {
                i += 2;
                continue;
            }
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

/// Words a speaker stutters on: "the the cache", "I I think", "we we shipped".
const STUTTERED: &[&str] = &[
    "the", "a", "an", "i", "we", "you", "it", "it's", "is", "to", "and", "but", "so", "that",
    "this", "of", "in", "they", "he", "she", "my", "our", "was", "if", "for", "on", "with",
];

/// "the the cache" → "the cache"; "I I think" → "I think": a short function word said twice
/// with no punctuation between. Content words are left alone ("very very", "no no").
fn drop_repeats(s: &str) -> String {
    let words: Vec<&str> = s.split(' ').collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    for w in words {
        if let Some(prev) = out.last() {
            let k = word_key(w);
            let same = word_key(prev) == k && STUTTERED.contains(&k.as_str());
            if same && !prev.ends_with([',', '.', '?', '!', ';', ':']) {
                out.pop();
            }
        }
        out.push(w);
    }
    out.join(" ")
}

fn tidy(s: &str) -> String {
    let mut t = normal(s);
    for (a, b) in [(" ,", ","), (",,", ","), (" .", "."), (", .", "."), (" ?", "?")] {
        t = t.replace(a, b);
    }
    let t = t.trim_start_matches([',', ' ', '—']).trim().to_string();
    capitalise(&t)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn fillers_stutters_and_false_starts_go() {
        for (said, want) in [
            (
                "So we've -- I mean, just as a reminder, we've shipped it.",
                "Just as a reminder, we've shipped it.",
            ),
            ("You know, the the cache was, like, really slow.", "The cache was really slow."),
            ("It's kind of slow, you know.", "It's slow."),
            ("Um, I I think that tests matter.", "I think that tests matter."),
        ] {
            assert_eq!(clean(said), (want.to_string(), true), "{said}");
        }
    }

    #[test]
    fn meaning_is_left_alone() {
        for said in [
            "What kind of database do you use?",
            "I like Go because it compiles fast.",
            "You know the answer already.",
            "This sort of thing happens.",
            "The fix — and it was hard — shipped in May.",
        ] {
            assert_eq!(clean(said), (said.to_string(), false), "{said}");
        }
    }
}
