//! What the wording of a note may not be: the rules of grounding that need no model. Each
//! catches one way small models fail at writing about a conversation (copying their
//! instructions, copying the speech, naming a topic instead of a point, looping, a flipped
//! "not"), and each is a plain function of the text, tested on the failures it was written for.

use super::candidates::{SYSTEM_PROMPT, USER_PROMPT};

/// Runs of this many words shared with the prompt mark text copied from the instructions.
const ECHO_WORDS: usize = 5;

/// "Open Source Needs A Business Model" → "Open source needs a business model": when most words
/// are capitalised, the capitals mark a title, not names.
pub(super) fn sentence_case(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let caps = words.iter().filter(|w| w.chars().next().is_some_and(char::is_uppercase)).count();
    if words.len() < 3 || caps * 5 < words.len() * 3 {
        return text.to_string();
    }
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        // Acronyms and mixed case (NATS, TypeScript) stay as written.
        let rest_lower = w.chars().skip(1).all(|c| !c.is_uppercase());
        out.push(if i > 0 && rest_lower { w.to_lowercase() } else { w.to_string() });
    }
    out.join(" ")
}

/// Words of the task rather than of the passage: a claim that talks about "the passage" or
/// "the main point" describes the prompt, not the episode; "that's a great point" and "it's
/// important to…" are the platitudes small models fall back on.
pub(super) fn leaks_prompt(text: &str) -> bool {
    let t = text.to_lowercase();
    [
        "passage",
        "key sentence",
        "transcript",
        "the text says",
        "the speaker says",
        "this excerpt",
        "main point",
        "makes here",
        // Praise and platitudes say nothing about the episode.
        "great point",
        "great example",
        "it's important to",
        "it is important to",
    ]
    .iter()
    .any(|p| t.contains(p))
}

/// A note about a conversation is in the third person and starts with its subject; "I", "we",
/// "our" or a leading "But"/"So" mean the model copied the speech instead of writing about it.
pub(super) fn spoken(text: &str) -> bool {
    let words = super::verify::words(text);
    let first_person =
        ["i", "i'm", "i've", "i'd", "i'll", "me", "my", "we", "we're", "we've", "our", "us"];
    let leads = ["but", "and", "so", "because", "or", "well", "yeah", "like", "also"];
    words.iter().any(|w| first_person.contains(&w.as_str()))
        || words.first().is_some_and(|w| leads.contains(&w.as_str()))
}

/// "Nora and Ben talk about heat pumps" says what was talked about, not what was said about it.
pub(super) fn topic_only(text: &str) -> bool {
    let t = text.to_lowercase();
    ["talk about", "talks about", "talked about", "discuss", "the topic of", "conversation about"]
        .iter()
        .any(|p| t.contains(p))
}

/// Whether a run of five words occurs twice: a small model that loops ("… which means the
/// cache is slow, which means the cache is slow").
pub(super) fn repeats_itself(text: &str) -> bool {
    let w = super::verify::words(text);
    let grams: Vec<&[String]> = w.windows(5).collect();
    grams.iter().enumerate().any(|(i, g)| grams[i + 5.min(grams.len() - i)..].contains(g))
}

/// A spoken sentence that can stand as an entry by itself: a statement of some length that
/// does not lean on what came before ("That's why…", "It does.") or trail off ("… and").
pub(super) fn self_contained(text: &str) -> bool {
    let t = super::prose::tidy(text);
    let words: Vec<String> = super::verify::words(&t);
    let trails = ["and", "but", "or", "so", "because", "the", "a", "to", "of", "with"];
    words.len() >= 8
        && !super::spans::is_question(&t)
        && t.trim_end_matches(['"', '\'', ')']).ends_with(['.', '!'])
        && !points_back(&words)
        && !words.last().is_some_and(|w| trails.contains(&w.as_str()))
        && !t.contains('—')
        && !closes_a_quotation(&t)
}

/// First words that point back at what was said before them, and two-word openings that do.
const LEANS: &[&str] = &[
    "it", "that", "this", "they", "those", "these", "he", "she", "which", "there", "because",
    "that's", "it's", "they're", "there's", "this's", "or",
];
const OPENINGS: &[&str] = &["maybe even", "even more", "same thing", "same with", "as well"];

/// Whether a sentence opens by pointing back at what was said before it ("That's why…",
/// "Which is totally fine…", "Maybe even more, because…").
pub(super) fn leans_back(text: &str) -> bool {
    // `tidy` takes off a leading "So,"/"And" first, as the reader sees the sentence.
    points_back(&super::verify::words(&super::prose::tidy(text)))
}

/// [`leans_back`] on a tidied sentence's words.
fn points_back(words: &[String]) -> bool {
    let head = words.iter().take(2).map(String::as_str).collect::<Vec<_>>().join(" ");
    words.first().is_some_and(|w| LEANS.contains(&w.as_str()))
        || OPENINGS.iter().any(|o| head == *o)
}

/// `It's spam", it would see…`: the sentence starts inside a quotation that opened in the
/// sentence before (its first straight quote closes one), so it reads as cut off.
fn closes_a_quotation(text: &str) -> bool {
    let first = text.find('"');
    text.matches('"').count() % 2 == 1
        && first.is_some_and(|i| text[..i].ends_with(|c: char| !c.is_whitespace()))
}

/// Whether `text` shares a run of `ECHO_WORDS` words with the prompts: small models copy
/// their instructions into the answer ("One or two sentences with the reason…").
pub fn echoes_prompt(text: &str) -> bool {
    [SYSTEM_PROMPT, USER_PROMPT].iter().any(|p| shares_run(text, p, ECHO_WORDS))
}

/// Whether `a` and `b` share a run of `n` words (case and punctuation aside).
pub fn shares_run(a: &str, b: &str, n: usize) -> bool {
    let (a, b) = (super::verify::words(a), super::verify::words(b));
    b.windows(n).any(|w| a.windows(n).any(|x| x == w))
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

/// Verbs a note uses to say who said it ("Mat explains that …"): they add nothing to a headline.
const REPORTING: &[&str] = &[
    "explain",
    "argue",
    "say",
    "suggest",
    "emphasiz",
    "believ",
    "note",
    "mention",
    "recommend",
    "advocat",
    "warn",
    "think",
    "point",
    "stat",
    "highlight",
    "discuss",
    "describ",
    "share",
];

/// Whether `note` only says its headline again: every content word it uses (stems of up to
/// five letters, so "importance" is "important") is the headline's, the speaker's name or a
/// verb of saying. Judged: "the summary line repeats the title" ("Gerhard Lazu explains that
/// using the year in Fly setup is important." under "… explains the importance of using the
/// year in Fly setup").
pub(super) fn restates(note: &str, headline: &str, speaker: Option<&str>) -> bool {
    let stem = |w: &str| w.chars().take(5).collect::<String>();
    let content = |t: &str| -> Vec<String> {
        super::verify::words(t)
            .into_iter()
            .filter(|w| !super::signals::STOP.contains(&w.as_str()))
            .map(|w| stem(&w))
            .collect()
    };
    let mut known: std::collections::HashSet<String> = content(headline).into_iter().collect();
    known.extend(content(speaker.unwrap_or("")));
    known.extend(REPORTING.iter().map(|v| stem(v)));
    let words = content(note);
    !words.is_empty() && words.iter().all(|w| known.contains(w))
}

/// Whether `note` says what `key` negates without the negation: "you do not need a lot of room"
/// against "tomatoes require a lot of room". The content words after the key's "not" (up to
/// six words on) are what it denies; a note that uses two of them (or the only one) states it.
pub(super) fn drops_negation(key: &str, note: &str) -> bool {
    let key_words = super::verify::words(key);
    let Some(at) = key_words.iter().position(|w| is_negation(w)) else { return false };
    let denied: Vec<&String> = key_words[at + 1..]
        .iter()
        .take(6)
        .filter(|w| !super::signals::STOP.contains(&w.as_str()) && !is_negation(w))
        .collect();
    let note_words = super::verify::words(note);
    let used = denied.iter().filter(|w| note_words.contains(w)).count();
    !denied.is_empty() && used >= denied.len().min(2)
}

fn is_negation(w: &str) -> bool {
    matches!(w, "not" | "no" | "never" | "nothing" | "none" | "nobody" | "cannot")
        || w.ends_with("n't")
}

/// Whether a text says "not", "no", "never" or a contraction of "not".
pub(super) fn negated(text: &str) -> bool {
    super::verify::words(text).iter().any(|w| is_negation(w))
}

/// Words that set the direction of a claim (more or less, up or down, better or worse).
/// Embeddings and word overlap barely see them: "panels got 90 % cheaper" and "panels cost more
/// than ever" share most words.
const DIRECTIONS: &[&str] = &[
    "more",
    "less",
    "fewer",
    "cheaper",
    "costlier",
    "higher",
    "lower",
    "increase",
    "increases",
    "increased",
    "decrease",
    "decreases",
    "decreased",
    "rise",
    "rises",
    "rose",
    "fall",
    "falls",
    "fell",
    "better",
    "worse",
    "faster",
    "slower",
    "bigger",
    "smaller",
    "larger",
    "easier",
    "harder",
    "grow",
    "grows",
    "grew",
    "shrink",
    "shrinks",
    "shrank",
    "gain",
    "lose",
    "loses",
];

/// The direction words of `text` that `source` never uses: a claim that adds one may have
/// turned its passage around ("got 90 % cheaper" → "cost more than ever before").
pub(super) fn added_direction(text: &str, source: &str) -> Option<String> {
    let have = super::verify::words(source);
    super::verify::words(text)
        .into_iter()
        .find(|w| DIRECTIONS.contains(&w.as_str()) && !have.contains(w))
}

#[cfg(test)]
mod tests {
    use super::{echoes_prompt, novelty, shares_run};

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
        let key = "The first thing I tell people is that you do not need a lot of room.";
        let flipped = "The speaker explains that tomatoes require a lot of room and patience.";
        assert!(super::drops_negation(key, flipped));
        assert!(!super::drops_negation(key, "Tomatoes grow well in a few large containers."));
        let src = "Solar panels got about 90% cheaper over the last 10 years.";
        assert_eq!(
            super::added_direction("Solar panels cost more than ever before", src),
            Some("more".into())
        );
        assert_eq!(super::added_direction("Solar panels got much cheaper", src), None);
    }

    #[test]
    fn instructions_copied_into_an_answer_are_caught() {
        assert!(echoes_prompt("One sentence in the third person with the point."));
        assert!(shares_run(
            "He says: you already have a nice, clean separation.",
            "So you already have a nice clean separation",
            6
        ));
        assert!(!shares_run(
            "Monoliths keep a clean separation.",
            "you already have a nice, clean separation",
            6
        ));
        assert!(!echoes_prompt(
            "Heat pumps move heat rather than making it, so they need less power."
        ));
    }

    #[test]
    fn notes_that_copy_speech_talk_about_the_prompt_or_loop_are_caught() {
        use super::{leaks_prompt, repeats_itself, spoken};
        assert!(spoken("But we're talking about a mistake like deploying service A."));
        assert!(spoken("I think the cache is slow."));
        assert!(!spoken(
            "Johnny recommends a monolith on a PaaS until the team can staff operations."
        ));
        assert!(leaks_prompt("The key sentence claims that caches are slow."));
        assert!(leaks_prompt("One of the main points Aaron makes here is that YAML is hard."));
        assert!(!leaks_prompt("Aaron argues that declarative APIs replace deploy scripts."));
        assert!(super::topic_only("Nora and Ben talk about heat pumps"));
        assert!(super::topic_only("Jordan discusses the benefits of Temporal."));
        assert!(!super::topic_only("Heat pumps deliver three units of heat per unit of power."));
        assert!(repeats_itself(
            "The cache is slow because the disk is full, so the cache is slow because the disk is full."
        ));
        assert!(!repeats_itself("The cache is slow because the disk is full."));
    }

    #[test]
    fn a_note_that_only_says_its_headline_again_is_found() {
        use super::restates;
        let who = Some("Gerhard Lazu");
        assert!(restates(
            "Gerhard Lazu explains that using the year in Fly setup is important.",
            "Gerhard Lazu explains the importance of using the year in Fly setup",
            who,
        ));
        // A stance or a reason the headline lacks is something to say.
        assert!(!restates(
            "Derek argues that paying for spam signals is not a fair trade.",
            "The trade-off between paying for spam signals and collecting them",
            Some("Derek Collison"),
        ));
        assert!(!restates("Small teams ship faster because nothing waits.", "Small teams", who));
    }

    #[test]
    fn only_sentences_that_stand_alone_can_be_entries_as_said() {
        use super::self_contained;
        assert!(self_contained(
            "Reviewers catch far fewer defects once a change passes 400 lines."
        ));
        assert!(!self_contained("That's why we moved everything to one repository last year."));
        assert!(!self_contained("Because when you're a developer and you're looking to build it."));
        assert!(!self_contained("What do you think about microservices for small teams, then?"));
        assert!(!self_contained("We split the service into three parts and"));
        assert!(!self_contained("Or you sell them the phone and charge them for the battery."));
        assert!(!self_contained("Spam\", it would see all the signals and move it off at once."));
        assert!(self_contained("Gmail saw \"It's spam\" from a thousand people and moved it off."));
    }
}
