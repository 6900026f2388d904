//! Candidate insights. The model-free scores nominate the transcript sentences that carry a
//! point (specific, central, not filler), and the LLM rewrites each nominated passage into a
//! structured candidate: a self-contained claim and why it holds. Small local models are
//! poor at *finding* the points of a long excerpt (measured: Qwen2.5-Coder-0.5B asked to pick
//! insights from 450-token chunks gave 2 verifiable ones out of 12, often echoing its
//! instructions), but rewriting one passage they can do; the quote is the nominated sentence
//! itself, so it is always the transcript's own words.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::llm::{ChatMessage, GenOptions, Llm, LlmError, Sampling, Schema};
use crate::store;

use super::{DistillError, Filler, Line, Progress};

/// The instructions the model gets (prompts/rewrite.md) and the request for each passage
/// (prompts/rewrite-user.md, with `{passage}` and `{key}` filled in).
pub const SYSTEM_PROMPT: &str = include_str!("../../prompts/rewrite.md");
pub const USER_PROMPT: &str = include_str!("../../prompts/rewrite-user.md");

/// The model's note on one passage. Length limits keep a rambling model short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rewrite {
    #[schemars(length(max = 280))]
    pub claim: String,
    #[schemars(length(max = 240))]
    pub why: String,
}

/// A sentence nominated as an insight (`line`) and the passage around it (`first..=last`).
#[derive(Debug, Clone, PartialEq)]
pub struct Nomination {
    pub line: usize,
    pub first: usize,
    pub last: usize,
}

/// Sentences worth an entry: specific and not filler; the best few per episode (one per eight
/// sentences, at least eight). Generous on purpose: ranking decides what reaches the brief, and
/// a point not nominated is lost. Neighbours may both be nominated (a point often takes two
/// sentences); clustering merges them and keeps the better as the representative.
pub fn nominate(lines: &[Line]) -> Vec<Nomination> {
    let mut out = Vec::new();
    for (start, end) in episode_ranges(lines) {
        let keep = ((end - start) / 8).max(8);
        let mut order: Vec<usize> = (start..end)
            .filter(|&i| lines[i].filler.is_none() && lines[i].specificity >= 0.35)
            .collect();
        order.sort_by(|&a, &b| lines[b].score.total_cmp(&lines[a].score).then(a.cmp(&b)));
        let mut chosen: Vec<usize> = order.into_iter().take(keep).collect();
        chosen.sort_unstable();
        out.extend(chosen.into_iter().map(|i| Nomination {
            line: i,
            first: if i > start { i - 1 } else { i },
            last: if i + 1 < end { i + 1 } else { i },
        }));
    }
    out
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

/// Which nominations the LLM rewrites when it cannot do all: each episode's best first (no
/// episode goes without), then the best of the rest. Returned in transcript order.
pub fn select_for_llm(noms: &[Nomination], lines: &[Line], budget: usize) -> Vec<usize> {
    let score = |i: usize| lines[noms[i].line].score;
    let mut order: Vec<usize> = (0..noms.len()).collect();
    order.sort_by(|&a, &b| score(b).total_cmp(&score(a)).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &i in &order {
        if chosen.len() < budget && seen.insert(lines[noms[i].line].episode) {
            chosen.push(i);
        }
    }
    for &i in &order {
        if chosen.len() < budget && !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen.sort_unstable();
    chosen
}

/// Each episode's `per_episode` best nominations, whatever the other episodes hold: the same
/// choice as a run over that episode alone would make. Returned in transcript order.
pub fn select_per_episode(noms: &[Nomination], lines: &[Line], per_episode: usize) -> Vec<usize> {
    let mut by_episode: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for i in 0..noms.len() {
        by_episode.entry(lines[noms[i].line].episode).or_default().push(i);
    }
    let mut chosen: Vec<usize> = Vec::new();
    for (_, ids) in by_episode {
        // A one-episode run of select_for_llm with this budget.
        let sub: Vec<Nomination> = ids.iter().map(|&i| noms[i].clone()).collect();
        chosen.extend(select_for_llm(&sub, lines, per_episode).into_iter().map(|j| ids[j]));
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
    USER_PROMPT
        .trim()
        .replace("{key}", &defuse(&lines[n.line].sentence.text))
        .replace("{passage}", &passage(lines, n))
}

/// Rewrites the selected nominations. A passage whose reply never parses is skipped (counted
/// in the returned number): its extractive candidate stands.
pub fn rewrite(
    llm: &mut Llm,
    model_name: &str,
    lines: &[Line],
    noms: &[Nomination],
    selected: &[usize],
    cache: Option<&Path>,
    progress: &dyn Progress,
) -> Result<(Vec<(usize, Rewrite)>, usize), DistillError> {
    let schema = Schema::for_type::<Rewrite>()?;
    let opts = GenOptions {
        max_tokens: 200,
        // Keeping the passage's own words is wanted here: no repetition penalty.
        sampling: Sampling { repeat_penalty: 1.0, ..Sampling::default() },
        ignore_eos: false,
    };
    let mut out = Vec::new();
    let mut failed = 0;
    progress.start("llm", selected.len() as u64);
    for &i in selected {
        let user = user_prompt(lines, &noms[i]);
        let key = cache.map(|dir| cache_path(dir, model_name, &user));
        let cached = key.as_deref().and_then(read_cached);
        let reply = match cached {
            Some(r) => Some(r),
            None => {
                let msgs = [ChatMessage::system(SYSTEM_PROMPT.trim()), ChatMessage::user(user)];
                match llm.chat_json::<Rewrite>(&msgs, &schema, &opts, 2) {
                    Ok((r, _)) => {
                        if let Some(path) = &key {
                            write_cached(path, &r);
                        }
                        Some(r)
                    }
                    Err(LlmError::NoValidJson { last, .. }) => {
                        tracing::warn!("passage {i}: no usable reply ({last}); kept as said");
                        failed += 1;
                        None
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        out.extend(reply.map(|r| (i, r)));
        progress.advance("llm");
    }
    progress.finish("llm");
    Ok((out, failed))
}

/// Replies are cached by model, prompt, reply schema and passage: a second run over the same
/// episode (a new `--top`, other interests) costs no generation.
fn cache_path(dir: &Path, model: &str, user: &str) -> PathBuf {
    let schema = serde_json::to_string(&schemars::schema_for!(Rewrite)).unwrap_or_default();
    let key = store::sha256_bytes(format!("{model}\0{SYSTEM_PROMPT}\0{schema}\0{user}").as_bytes());
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
