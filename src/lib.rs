//! podbrief: podcast audio to a short, trustworthy brief, entirely on your own machine.
//!
//! The pipeline flows one way, one module per stage: [`audio`] decodes and resamples, [`asr`]
//! transcribes into a [`transcript`], [`chunk`] cuts it into timed sentences (and token-sized
//! chunks), [`distill`] nominates, grounds, merges and ranks the insights, and [`brief`] renders
//! them. [`embed`] and [`llm`] are the local models the later stages use; [`models`] and
//! [`store`] hold the pinned weights and everything cached on disk. The command line (`cli`)
//! only wires stages together.

pub mod asr;
pub mod audio;
pub mod brief;
pub mod chapters;
pub mod chunk;
pub mod config;
pub mod device;
pub mod distill;
pub mod embed;
pub mod feed;
pub mod llm;
pub mod mail;
pub mod models;
pub mod q8;
pub mod store;
pub mod transcript;
pub mod vecmath;

/// An error and its causes on one line, `error: cause: cause`, leaving out a cause whose text an
/// earlier part already carries (many errors repeat their source in their own message).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(cause) = next {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        next = cause.source();
    }
    parts.join(": ")
}
