//! Distillation: from transcripts to ranked, deduplicated, grounded insights.
//!
//! The LLM is the smallest part of the job. Every sentence is first read without it
//! ([`signals`]: filler, specificity, centrality over sentence embeddings), and the sentences
//! are grouped into spans ([`spans`]): a paragraph of one speaker's turn, the unit in which
//! conversation makes a point and gives its reason. Model-free span scores nominate the spans
//! that argue something specific about the episode's subject ([`candidates`]), chosen for
//! coverage, so a weak model still leaves the real points on the list. The model writes each
//! chosen span up as a headline and a note with the reason; its wording must pass the grounding
//! rules ([`ground`], [`verify`]), and the quote beneath it is always the few sentences of the
//! span that carry the point, as said (`excerpt`). Without any verified write-up, the span's
//! best sentences stand as said (only those that read as a point on their own); [`cluster`]
//! merges the same point said twice, within or across episodes, and [`rank`] orders what is
//! left.

pub mod ads;
pub mod assemble;
pub mod candidates;
mod checks;
pub mod cluster;
mod excerpt;
pub mod ground;
mod numbers;
pub mod pipeline;
pub mod prepare;
mod prose;
pub mod rank;
pub mod signals;
pub mod spans;
mod turns;
pub mod verify;
mod wording;

use crate::asr::Segment;
use crate::chunk::{ChunkOptions, Sentence};

pub use numbers::to_digits;
pub use pipeline::{run, Distilled, Models};
pub use prose::tidy;
pub use signals::Filler;
pub use wording::novelty;

/// Whether `word` (lower case) is a filler of speech or a function word.
pub fn is_stop_word(word: &str) -> bool {
    signals::STOP.contains(&word)
}

/// One episode as distillation takes it: a transcript and what to call it.
#[derive(Debug, Clone)]
pub struct Episode {
    /// The episode's title, or its file name when it has none.
    pub title: String,
    pub source: String,
    pub sha256: String,
    pub duration: f64,
    pub segments: Vec<Segment>,
    /// Chapters the publisher gave the episode (in the file or beside it); the brief's outline
    /// shows these instead of making its own.
    pub chapters: Vec<crate::audio::chapters::FileChapter>,
}

/// One sentence of one episode with its model-free signals; sentences of all episodes share
/// one index space, so candidates and clusters refer to them by position.
#[derive(Debug, Clone)]
pub struct Line {
    pub episode: usize,
    pub sentence: Sentence,
    pub filler: Option<Filler>,
    pub specificity: f32,
    pub centrality: f32,
    /// 0 for filler; otherwise specificity and centrality combined, 0..1.
    pub score: f32,
    pub vector: Vec<f32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Proposed by the LLM and verified.
    Llm,
    /// A transcript sentence chosen by the model-free scores.
    Extractive,
}

/// An insight that passed the grounding rules.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub episode: usize,
    /// The supporting span: lines `first..=last`.
    pub first: usize,
    pub last: usize,
    pub claim: String,
    /// Why it holds and why it matters (LLM), or the surrounding transcript (extractive).
    pub explanation: String,
    /// The transcript's own words for the span, cleaned of fillers (see `edited`).
    pub quote: String,
    /// Who said the quote, when the transcript names speakers.
    pub speaker: Option<String>,
    /// Cleaning removed fillers or a false start from the quote.
    pub edited: bool,
    pub origin: Origin,
    /// Cosine similarity of the claim to its span.
    pub grounding: f32,
    pub specificity: f32,
    /// The model-free score of its sentence.
    pub score: f32,
    pub vector: Vec<f32>,
}

/// A proposal the grounding rules refused, and why (`--explain`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rejection {
    pub episode: usize,
    pub claim: String,
    pub quote: String,
    pub reason: String,
}

/// Settings of the distillation stages; the defaults are what `summarize` uses.
#[derive(Debug, Clone)]
pub struct Options {
    /// Sentence splitting (the word limit for unpunctuated runs).
    pub chunk: ChunkOptions,
    /// At most this many nominated passages are written up by the LLM, chosen for value and
    /// coverage. Bounds the time of long episodes: about 6 s each for Qwen2.5-Coder-1.5B on 2
    /// cores, written four at a time (`candidates::rewrite`); about 60 % pass the grounding
    /// rules. 14 rather than 10: the four more write-ups gave the ranking better points to
    /// choose from (judged, round 20: good entries 2.3 and 2.2 of 5 against 1.7, fragments
    /// halved), for about a quarter more distillation time.
    pub llm_passages: usize,
    /// `llm_passages` applies to each episode on its own rather than to the whole run. Batches
    /// use it: an episode's rewrites then do not depend on which other episodes share the run,
    /// so they can be made once per episode (on any machine) and found in the cache later.
    pub llm_per_episode: bool,
    /// Clusters merge when their claims' average cosine similarity reaches this.
    pub merge_threshold: f32,
    /// A claim must be at least this similar to its quoted span.
    pub min_grounding: f32,
    /// Claim embeddings of insights already sent in earlier briefs (`daily`): a candidate this
    /// close to one of them (`merge_threshold`, i.e. one it would have merged with) is left
    /// out before clustering, so a brief never repeats what an earlier one said.
    pub already_sent: Vec<Vec<f32>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            chunk: ChunkOptions::default(),
            llm_passages: 14,
            llm_per_episode: false,
            merge_threshold: cluster::DEFAULT_MERGE_THRESHOLD,
            min_grounding: ground::DEFAULT_MIN_GROUNDING,
            already_sent: Vec::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DistillError {
    #[error("embedding: {0}")]
    Embed(#[from] crate::embed::EmbedError),
    #[error("LLM: {0}")]
    Llm(#[from] crate::llm::LlmError),
    #[error("nothing to summarize: the transcripts have no text")]
    Empty,
}

/// Progress of the long stages, for bars on a terminal.
pub trait Progress {
    fn start(&self, stage: &str, total: u64);
    fn advance(&self, stage: &str);
    fn finish(&self, stage: &str);
}

/// Progress reporting that does nothing (tests, `--json` scripts).
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: &str) {}
    fn finish(&self, _: &str) {}
}

/// Dot product; the embedder's vectors are unit length, so this is their cosine similarity.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The normalised mean of unit vectors: a centroid that is again comparable by `dot`.
pub fn mean_vector(vectors: &[&[f32]]) -> Vec<f32> {
    let dim = vectors.first().map_or(0, |v| v.len());
    let mut m = vec![0f32; dim];
    for v in vectors {
        for (a, b) in m.iter_mut().zip(v.iter()) {
            *a += b;
        }
    }
    let norm = m.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    m.iter_mut().for_each(|x| *x /= norm);
    m
}

#[cfg(test)]
mod tests;
