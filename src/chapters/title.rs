//! A chapter's title and one-line summary, from the section's own words.
//!
//! The model reads only the three sentences closest to the section's centre (a small model
//! titles a short passage well and a long one generically) and answers with a few words. The
//! title is checked like any rewrite: at most half its content words may be new to the section,
//! it may not echo the prompt, and it must be 1–8 words that name something (not "Yes" or "Great"). Otherwise, or without a model, the
//! title is the section's most distinctive words ("Introduction" where greetings and
//! talk about the show fill a quarter of it). The summary is never written by the model:
//! it is the section's most central statement, as said, so it cannot misstate the section.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::distill::{self, Filler, Line};
use crate::llm::{ChatMessage, GenOptions, Llm, LlmError};
use crate::store;

pub const SYSTEM_PROMPT: &str = include_str!("../../prompts/chapter-title.md");

/// Most words a title may have, and the largest share of its content words the section may lack.
const MAX_TITLE_WORDS: usize = 8;
const MAX_NOVELTY: f32 = 0.5;
/// Replies that are a reaction to the passage, not a name for it.
const REACTIONS: &[&str] = &[
    "great",
    "sure",
    "thanks",
    "hello",
    "cool",
    "awesome",
    "indeed",
    "absolutely",
    "exactly",
    "correct",
    "right",
    "agreed",
    "true",
    "totally",
    "definitely",
    "interesting",
    "nice",
    "funny",
];
/// Sentences of the section the model reads.
const READ_SENTENCES: usize = 3;

/// Words too common in talk to name a chapter, beyond the stop words.
const WEAK: &str = "\
    about actually again always anything basically being could doing every everything going \
    gonna gotta maybe other people pretty probably really should something sometimes sort stuff \
    thing things think those though wanna where while would yeah these there their kind make \
    much said says talk talking time want work good great little lot lots mean know like just \
    even also still then them they this that what when with your you're folks using first place \
    found felt behind looking seeing getting trying ones right different whole point part years \
    year today back here well made done come came goes went take took used thought start started \
    guess agree totally super stars";

/// Where a title came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleSource {
    /// The chat model, checked against the section.
    Model,
    /// The section's most distinctive words (no model, or its title failed the checks).
    Words,
    /// A sponsor read, named by what the read says.
    Sponsor,
    /// The publisher's own chapters, read from the file.
    File,
}

/// The model's title for `section` (lines of one chapter), when it passes the checks and is
/// not one of the episode's earlier titles (`used`). A failed or repeated title gets one more
/// try on the next most central sentences, with the earlier titles named.
pub fn model_title(
    llm: &mut Llm,
    model_name: &str,
    section: &[Line],
    used: &[String],
    cache: Option<&Path>,
) -> Result<Option<String>, LlmError> {
    let section_text: Vec<&str> = section.iter().map(|l| l.sentence.text.as_str()).collect();
    let section_text = section_text.join(" ");
    let order = central(section);
    for attempt in 0..2 {
        let Some(user) = request(section, &order, attempt, used) else { break };
        let reply = reply(llm, model_name, &user, cache)?;
        let repeated = |t: &str| used.iter().any(|u| u.eq_ignore_ascii_case(t));
        if let Some(t) = checked(&reply, &section_text).filter(|t| !repeated(t)) {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// The request for attempt `attempt` (0 or 1) at a title of `section`: the attempt's share of
/// its sentences by centrality (`order`, from [`central`]), in transcript order; a second attempt
/// names the earlier titles. `None` when the section has no sentences left for it.
fn request(section: &[Line], order: &[usize], attempt: usize, used: &[String]) -> Option<String> {
    let mut ids = order.chunks(READ_SENTENCES).nth(attempt)?.to_vec();
    ids.sort_unstable();
    let passage: Vec<&str> = ids.iter().map(|&i| section[i].sentence.text.as_str()).collect();
    let mut user = format!("Passage:\n{}\n\n", passage.join(" "));
    if attempt > 0 && !used.is_empty() {
        user.push_str(&format!(
            "Earlier chapters: {}. Name what is new in this passage.\n\n",
            used.join("; ")
        ));
    }
    user.push_str("Title:");
    Some(user)
}

/// The model's reply to one title request, from the cache when it was asked before.
fn reply(
    llm: &mut Llm,
    model_name: &str,
    user: &str,
    cache: Option<&Path>,
) -> Result<String, LlmError> {
    let path = cache.map(|dir| cache_path(dir, model_name, user));
    if let Some(r) = path.as_deref().and_then(|p| std::fs::read_to_string(p).ok()) {
        return Ok(r);
    }
    let msgs = [ChatMessage::system(SYSTEM_PROMPT), ChatMessage::user(user)];
    let opts = GenOptions { max_tokens: 24, ..GenOptions::default() };
    let reply = llm.chat(&msgs, &opts, &mut |_| {})?.text;
    if let Some(p) = &path {
        if let Err(e) = store::atomic_write(p, reply.as_bytes()) {
            tracing::warn!("could not cache a chapter title: {e}");
        }
    }
    Ok(reply)
}

/// The reply's first line as a title, when it passes the checks against `source`.
pub fn checked(reply: &str, source: &str) -> Option<String> {
    let line = reply.lines().map(str::trim).find(|l| !l.is_empty())?;
    let line = line.strip_prefix("Title:").unwrap_or(line).trim();
    let title =
        line.trim_matches(['"', '\'', '*', '#', ' ', '“', '”']).trim_end_matches(['.', ':']);
    let words = title.split_whitespace().count();
    let lower = title.to_lowercase();
    let says_something = crate::distill::verify::words(&lower)
        .iter()
        .any(|w| w.len() >= 4 && !distill::is_stop_word(w) && !REACTIONS.contains(&w.as_str()));
    // "Firewall, group, solution, balancing" is the key-word list handed back, not a title.
    let list = title.matches(',').count() >= 2;
    let fine = (1..=MAX_TITLE_WORDS).contains(&words)
        && !list
        && says_something
        && distill::novelty(title, source) <= MAX_NOVELTY
        && !lower.contains("title")
        && !lower.contains("passage")
        && !lower.contains("podcast")
        && !lower.contains("episode");
    fine.then(|| title.to_string())
}

/// Title from the words the section uses more than the rest of the episode: its two most
/// distinctive content words, in the form the transcript writes them.
pub fn word_title(section: &[Line], episode: &[Line]) -> String {
    let chatter = section.iter().filter(|l| l.filler == Some(Filler::Chatter)).count();
    if chatter * 4 >= section.len() {
        let first = std::ptr::eq(section.as_ptr(), episode.as_ptr());
        return if first { "Introduction" } else { "Chat and wrap-up" }.to_string();
    }
    let ranked = distinctive(section, episode);
    let best_pair = ranked.iter().find(|r| r.1);
    let words: Vec<&(f32, bool, String)> = ranked.iter().filter(|r| !r.1).collect();
    match (best_pair, words.as_slice()) {
        // A two-word phrase the section repeats reads as a title ("custom properties").
        (Some(p), w) if w.first().is_none_or(|u| p.0 >= 0.5 * u.0) => capitalise(&p.2),
        (_, []) => "Conversation".to_string(),
        (_, [a]) => capitalise(&a.2),
        (_, [a, b, ..]) => format!("{} and {}", capitalise(&a.2), b.2),
    }
}

/// The section's repeated words and two-word phrases, most distinctive first (how often the
/// section uses them, times the share of the episode's uses that fall in it), with whether
/// each is a phrase and its form as written.
fn distinctive(section: &[Line], episode: &[Line]) -> Vec<(f32, bool, String)> {
    let (here, all) = (phrases(section), phrases(episode));
    let distinct = |(k, (n, shown)): (&String, &(usize, String))| {
        let total = all.get(k).map_or(*n, |e| e.0);
        (*n as f32 * (*n as f32 / total as f32), k.contains(' '), shown.clone())
    };
    let mut ranked: Vec<(f32, bool, String)> =
        here.iter().filter(|(_, (n, _))| *n >= 2).map(distinct).collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    ranked
}

/// Content words (5+ letters) and pairs of adjacent content words (4+ letters each) of the
/// non-filler lines, lower-cased, with how often each occurs and its form as written
/// (capitalised when the transcript ever capitalises it mid-sentence, e.g. a name).
fn phrases(lines: &[Line]) -> HashMap<String, (usize, String)> {
    let mut n: HashMap<String, (usize, String)> = HashMap::new();
    let content = |w: &str| !distill::is_stop_word(w) && !WEAK.split_whitespace().any(|x| x == w);
    for l in lines.iter().filter(|l| l.filler.is_none()) {
        let mut prev: Option<(String, String)> = None;
        for (i, raw) in l.sentence.text.split_whitespace().enumerate() {
            let w = raw.trim_matches(|c: char| !c.is_alphanumeric());
            let key = w.to_lowercase();
            if key.contains(['\'', '’']) {
                prev = None;
                continue;
            }
            let mut add = |k: String, shown: String| {
                let e = n.entry(k).or_insert((0, shown.clone()));
                e.0 += 1;
                if i > 0 && shown.chars().next().is_some_and(char::is_uppercase) {
                    e.1 = shown;
                }
            };
            if key.len() >= 5 && content(&key) {
                add(key.clone(), w.to_string());
            }
            let ok = key.len() >= 4 && content(&key);
            if let (true, Some((pk, pw))) = (ok, &prev) {
                add(format!("{pk} {key}"), format!("{pw} {w}"));
            }
            let ends = raw.ends_with([',', '.', ';', ':', '?', '!']);
            prev = (ok && !ends).then(|| (key, w.to_string()));
        }
    }
    n
}

/// The section's most central statement (≥ 8 words, not a question, not filler), as said.
pub fn summary(section: &[Line]) -> Option<String> {
    let fits = |l: &Line| {
        let n = l.sentence.text.split_whitespace().count();
        distill::spans::is_statement(l) && (8..=40).contains(&n)
    };
    let ok: Vec<usize> = (0..section.len()).filter(|&i| fits(&section[i])).collect();
    let centre = centre(section);
    let best = ok.into_iter().max_by(|&a, &b| {
        distill::dot(&section[a].vector, &centre)
            .total_cmp(&distill::dot(&section[b].vector, &centre))
    })?;
    Some(distill::tidy(&section[best].sentence.text))
}

/// The section's non-filler statements (≤ 40 words), closest to its centre first.
fn central(section: &[Line]) -> Vec<usize> {
    let centre = centre(section);
    let mut ids: Vec<usize> = (0..section.len())
        .filter(|&i| {
            distill::spans::is_statement(&section[i])
                && section[i].sentence.text.split_whitespace().count() <= 40
        })
        .collect();
    ids.sort_by(|&a, &b| {
        distill::dot(&section[b].vector, &centre)
            .total_cmp(&distill::dot(&section[a].vector, &centre))
    });
    ids
}

/// The mean direction of the section's non-filler sentences.
fn centre(section: &[Line]) -> Vec<f32> {
    let v: Vec<&[f32]> =
        section.iter().filter(|l| l.filler.is_none()).map(|l| l.vector.as_slice()).collect();
    distill::mean_vector(&v)
}

fn capitalise(w: &str) -> String {
    let mut c = w.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Titles are cached by model, prompt and passage, like rewrites.
fn cache_path(dir: &Path, model: &str, user: &str) -> PathBuf {
    let key =
        store::sha256_bytes(format!("chapter-title\0{model}\0{SYSTEM_PROMPT}\0{user}").as_bytes());
    dir.join(&key[..2]).join(format!("{key}.txt"))
}

#[cfg(test)]
#[path = "title_tests.rs"]
mod tests;
