//! Candidate insights. The model-free span scores ([`spans`]) nominate the passages that make
//! a point, and the LLM writes each chosen passage up as a structured candidate: a
//! self-contained claim naming what it is about, and the reason or consequence the speaker
//! gives. Small local models are poor at *finding* the points of a long excerpt (measured:
//! Qwen2.5-Coder-0.5B asked to pick insights from 450-token chunks gave 2 verifiable ones out of
//! 12, often echoing its instructions), but writing up one paragraph they can do; the quote is
//! a sentence of the passage itself, so it is always the transcript's own words.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::llm::{ChatMessage, GenOptions, Llm, Sampling};
use crate::store;

use super::spans::{self, Span};
use super::{DistillError, Filler, Line, Progress};

/// The instructions the model gets (prompts/rewrite.md) and the request for each passage
/// (prompts/rewrite-user.md, with `{passage}`, `{speaker}` and `{context}` filled in).
pub const SYSTEM_PROMPT: &str = include_str!("../../prompts/rewrite.md");
pub const USER_PROMPT: &str = include_str!("../../prompts/rewrite-user.md");

/// The model's write-up of one passage: a title of a few words and a note of one or two
/// sentences with the point and its reason.
///
/// The reply is two plain lines (`Headline: …`, `Note: …`), not JSON: constrained to a JSON
/// schema, Qwen2.5-Coder-1.5B copied the transcript or wrote about "the passage", while asked a
/// plain question it wrote notes in its own words (measured on the real evaluation episodes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rewrite {
    pub headline: String,
    pub note: String,
}

/// Version of the reply format, part of the cache key.
const REPLY_FORMAT: &str = "headline-note-1";

impl Rewrite {
    /// The two lines of a reply; `None` when either is missing or empty.
    pub fn parse(reply: &str) -> Option<Rewrite> {
        let field = |name: &str| {
            reply.lines().find_map(|l| {
                let l = l.trim().trim_start_matches(['*', '#', '-', ' ']);
                let rest = l.get(..name.len()).filter(|h| h.eq_ignore_ascii_case(name))?;
                let value = l[rest.len()..].trim_start_matches(['*', ':', ' ']).trim();
                let value = unwrap_quotes(value.trim_matches('*').trim());
                (!value.is_empty()).then(|| value.to_string())
            })
        };
        Some(Rewrite { headline: field("headline")?, note: field("note")? })
    }
}

/// `text` without the quotation marks around the whole of it, if that is what they are: only a
/// pair that opens and closes the text, so a headline that ends on a quoted word ("…renamed to
/// "smoosh"") keeps its closing mark (blind readers took the bare `"smoosh` for a cut-off title).
fn unwrap_quotes(text: &str) -> &str {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => inner.trim(),
        _ => text,
    }
}

/// A sentence nominated as an insight (`line`) and the passage around it (`first..=last`).
#[derive(Debug, Clone, PartialEq)]
pub struct Nomination {
    pub line: usize,
    pub first: usize,
    pub last: usize,
}

/// The spans worth an entry: each episode's best third by score (at least eight), in
/// transcript order. Generous on purpose: a span not nominated is lost, while ranking and the
/// grounding rules decide what reaches the brief.
pub fn nominate(spans: &[Span], lines: &[Line]) -> Vec<usize> {
    let mut out = Vec::new();
    for mut order in spans_by_episode(spans, lines) {
        let keep = (order.len() / 3).max(8);
        order.sort_by(|&a, &b| spans[b].score.total_cmp(&spans[a].score).then(a.cmp(&b)));
        order.truncate(keep);
        out.extend(order);
    }
    out.sort_unstable();
    out
}

/// Indices of each episode's spans, episode by episode.
fn spans_by_episode(spans: &[Span], lines: &[Line]) -> Vec<Vec<usize>> {
    episode_ranges(lines)
        .into_iter()
        .map(|(start, end)| {
            (0..spans.len()).filter(|&i| (start..end).contains(&spans[i].first)).collect()
        })
        .collect()
}

/// `(start, end)` line ranges of each episode.
pub fn episode_ranges(lines: &[Line]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < lines.len() {
        let e = lines[start].episode;
        let end =
            lines[start..].iter().position(|l| l.episode != e).map_or(lines.len(), |p| start + p);
        out.push((start, end));
        start = end;
    }
    out
}

/// Which of the nominated spans the LLM writes up (indices into `spans`): each episode's
/// share of the budget (all of it with `per_episode`, which makes an episode's rewrites
/// independent of the rest of the run), chosen for value and coverage ([`spans::select`]); a
/// shared budget then keeps the best. Returned in transcript order.
pub fn select_for_llm(
    spans: &[Span],
    lines: &[Line],
    budget: usize,
    per_episode: bool,
) -> Vec<usize> {
    let episodes = spans_by_episode(spans, lines);
    let share = if per_episode { budget } else { budget.div_ceil(episodes.len().max(1)) };
    let mut chosen: Vec<usize> = Vec::new();
    for ids in episodes {
        let sub: Vec<Span> = ids.iter().map(|&i| spans[i].clone()).collect();
        chosen.extend(spans::select(&sub, lines, share).into_iter().map(|j| ids[j]));
    }
    if !per_episode && chosen.len() > budget {
        chosen.sort_by(|&a, &b| spans[b].score.total_cmp(&spans[a].score).then(a.cmp(&b)));
        chosen.truncate(budget);
    }
    chosen.sort_unstable();
    chosen
}

/// The passage as the model reads it: without ads or anything addressed to an AI, and with
/// chat-template markers defused so transcript text can never open or close a turn.
pub fn passage(lines: &[Line], n: &Nomination) -> String {
    lines[n.first..=n.last]
        .iter()
        .filter(|l| !matches!(l.filler, Some(Filler::Ad | Filler::Instruction)))
        .map(|l| defuse(&l.sentence.text))
        .collect::<Vec<_>>()
        .join(" ")
}

fn defuse(text: &str) -> String {
    text.replace("<|", "< |").replace("|>", "| >")
}

/// The request for one nomination.
pub fn user_prompt(lines: &[Line], n: &Nomination) -> String {
    let speaker = lines[n.line].sentence.speaker.as_deref().map(defuse);
    let before = context_before(lines, n);
    USER_PROMPT
        .trim()
        .replace("{speaker}", speaker.as_deref().unwrap_or("the speaker"))
        .replace("{context}", &before)
        .replace("{passage}", &passage(lines, n))
}

/// The question the passage answers, when the turn before it asked one: a little context
/// that names what is being talked about.
fn context_before(lines: &[Line], n: &Nomination) -> String {
    let prev = n.first.checked_sub(1).map(|i| &lines[i]);
    match prev {
        Some(p) if p.episode == lines[n.first].episode && spans::is_question(&p.sentence.text) => {
            let who = p.sentence.speaker.as_deref().map(defuse).unwrap_or_else(|| "Asked".into());
            format!("(Before it, {who}: \"{}\")\n", defuse(&p.sentence.text))
        }
        _ => String::new(),
    }
}

/// Passages written up side by side (`Llm::chat_many`). A token-by-token pass of the 1.5B
/// model streams about 0.9 GB of weights whatever its rows; a pass of four rows took 2.8 times
/// one row's time (candle's block kernels, this project's 2-core machine), so four replies
/// together cost 1.4 times less; each row of a pass is computed as it would be alone (`batch`).
const BATCH: usize = 4;

/// Writes up the selected nominations. A passage whose reply lacks either line is skipped
/// (counted in the returned number): its extractive candidate stands, if it can.
pub fn rewrite(
    llm: &mut Llm,
    model_name: &str,
    lines: &[Line],
    noms: &[Nomination],
    selected: &[usize],
    cache: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Vec<(usize, Rewrite)>, usize), DistillError> {
    let opts = GenOptions {
        max_tokens: 120,
        // Keeping the passage's own words is wanted here: no repetition penalty.
        sampling: Sampling { repeat_penalty: 1.0, ..Sampling::default() },
        ignore_eos: false,
    };
    progress.start("llm", selected.len() as u64);
    let mut replies: Vec<Option<Rewrite>> = vec![None; selected.len()];
    let mut asks = Vec::new();
    for (at, &i) in selected.iter().enumerate() {
        let user = user_prompt(lines, &noms[i]);
        // The exact request, for replaying prompts outside podbrief (`RUST_LOG=podbrief=trace`).
        tracing::trace!("prompt for passage {i}: {}", user.replace('\n', "\\n"));
        let key = cache.map(|dir| cache_path(dir, model_name, &user));
        match key.as_deref().and_then(read_cached) {
            Some(r) => {
                replies[at] = Some(r);
                progress.advance("llm");
            }
            None => asks.push((at, key, user)),
        }
    }
    let chats: Vec<Vec<ChatMessage>> = asks
        .iter()
        .map(|(_, _, user)| {
            vec![ChatMessage::system(SYSTEM_PROMPT.trim()), ChatMessage::user(user.clone())]
        })
        .collect();
    let written = llm.chat_many(&chats, &opts, BATCH, &mut |_| progress.advance("llm"));
    llm.release_slots();
    let mut failed = 0;
    for ((at, key, _), reply) in asks.into_iter().zip(written?) {
        match Rewrite::parse(&reply.text) {
            Some(r) => {
                if let Some(path) = &key {
                    write_cached(path, &r);
                }
                replies[at] = Some(r);
            }
            None => {
                let text = reply.text.replace('\n', " / ");
                tracing::warn!("passage {}: no usable reply ({text})", selected[at]);
                failed += 1;
            }
        }
    }
    progress.finish("llm");
    let out = selected.iter().zip(replies).filter_map(|(&i, r)| r.map(|r| (i, r))).collect();
    Ok((out, failed))
}

/// Replies are cached by model, prompt, reply format and passage: a second run over the same
/// episode (a new `--top`, other interests) costs no generation.
fn cache_path(dir: &Path, model: &str, user: &str) -> PathBuf {
    let format = REPLY_FORMAT;
    let key = store::sha256_bytes(format!("{model}\0{SYSTEM_PROMPT}\0{format}\0{user}").as_bytes());
    dir.join(&key[..2]).join(format!("{key}.json"))
}

fn read_cached(path: &Path) -> Option<Rewrite> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

fn write_cached(path: &Path, reply: &Rewrite) {
    let result = serde_json::to_vec(reply)
        .map_err(std::io::Error::other)
        .and_then(|json| store::atomic_write(path, &json));
    if let Err(e) = result {
        tracing::warn!("could not cache an LLM reply: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::Rewrite;

    #[test]
    fn replies_are_two_labelled_lines() {
        let r = Rewrite::parse(
            "**Headline:** Monoliths first\nNote: Johnny recommends a monolith on a PaaS, because a \
             small team cannot staff operations.\n",
        );
        let r = r.expect("parsed");
        assert_eq!(r.headline, "Monoliths first");
        assert!(r.note.starts_with("Johnny recommends") && r.note.ends_with("operations."));
        assert_eq!(Rewrite::parse("Johnny recommends a monolith."), None);
        assert_eq!(Rewrite::parse("Headline: x\nNote:"), None);
        // Quotation marks around a whole line go; those of a quoted word at its end stay.
        let r = Rewrite::parse("Headline: \"Flat\" was renamed to \"smoosh\"\nNote: \"A note.\"");
        assert_eq!(
            r.as_ref().map(|r| r.headline.as_str()),
            Some("\"Flat\" was renamed to \"smoosh\"")
        );
        assert_eq!(r.map(|r| r.note), Some("A note.".to_string()));
    }
}
