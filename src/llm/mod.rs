//! The local chat model: GGUF weights through candle, the tokenizer and chat template the GGUF
//! carries, sampling, and JSON-constrained output for the stages that need structured answers.

mod batch;
pub mod chat;
pub mod generate;
pub mod gguf;
pub mod json;
pub mod model;
pub mod sample;
pub mod tokenizer;

use std::path::PathBuf;

pub use chat::ChatMessage;
pub use generate::{Completion, GenOptions, Llm, Stats, StopReason};
pub use json::Schema;
pub use sample::Sampling;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a usable GGUF model: {reason}")]
    BadGguf { path: PathBuf, reason: String },
    #[error(
        "{path}: model architecture '{arch}' is not supported (podbrief runs {})",
        gguf::SUPPORTED_ARCHS.join(", ")
    )]
    UnsupportedArch { path: PathBuf, arch: String },
    #[error(
        "the prompt is {prompt} tokens and up to {max_tokens} more may be generated, but the \
         context holds {n_ctx}; shorten the prompt, lower --max-tokens, or raise --ctx \
         (this model was trained for {train_ctx})"
    )]
    PromptTooLong { prompt: usize, max_tokens: usize, n_ctx: usize, train_ctx: usize },
    #[error("the context is full: {needed} tokens needed, {n_ctx} available")]
    ContextFull { needed: usize, n_ctx: usize },
    #[error("tokenizer: {0}")]
    Tokenizer(#[from] tokenizer::TokenizerError),
    #[error("chat template: {0}")]
    Template(#[from] chat::ChatError),
    #[error("JSON schema: {0}")]
    Schema(String),
    #[error("the model gave no valid JSON after {tries} tries; last problem: {last}")]
    NoValidJson { tries: usize, last: String },
    /// candle appends a backtrace to its messages when RUST_BACKTRACE is set; one line is
    /// enough for a user.
    #[error("{}", .0.to_string().lines().next().unwrap_or_default())]
    Candle(#[from] candle_core::Error),
    #[error("internal error: {0}")]
    Internal(String),
}
