//! Transcripts → timed sentences with model-free signals, one index space across episodes, with
//! every episode's sponsor reads found and their sentences marked as ads.

use crate::chunk;
use crate::embed::Embedder;

use super::ads::{self, AdRead};
use super::{signals, DistillError, Episode, Line, Options, Progress};

/// Sentences of every episode, embedded and scored, and each episode's sponsor reads (their
/// `first`/`last` index the lines; the lines are marked as ads).
pub fn lines(
    episodes: &[Episode],
    embedder: &Embedder,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<(Vec<Line>, Vec<Vec<AdRead>>), DistillError> {
    let mut lines = Vec::new();
    for (e, ep) in episodes.iter().enumerate() {
        let sentences = chunk::sentences(&ep.segments, &opts.chunk);
        // Embedded per episode so centrality compares a sentence with its own conversation.
        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
        progress.start("embed", texts.len() as u64);
        let mut vectors = Vec::with_capacity(texts.len());
        for batch in texts.chunks(256) {
            vectors.extend(embedder.embed(batch)?);
            (0..batch.len()).for_each(|_| progress.advance("embed"));
        }
        progress.finish("embed");
        let central = signals::centrality(&vectors, 5);
        // Centrality is relative to the episode: rescale to 0..1 within it.
        let (lo, hi) = central.iter().fold((f32::MAX, f32::MIN), |(a, b), &c| (a.min(c), b.max(c)));
        for ((sentence, vector), c) in sentences.into_iter().zip(vectors).zip(central) {
            let repeat = || {
                let sent = opts.already_sent.iter();
                sent.map(|s| super::dot(&vector, s)).any(|sim| sim >= opts.merge_threshold)
            };
            let filler = signals::filler(&sentence.text)
                .or_else(|| repeat().then_some(signals::Filler::Repeat));
            let specificity = signals::specificity(&sentence.text);
            let centrality = if hi > lo { (c - lo) / (hi - lo) } else { 0.5 };
            let score = if filler.is_some() { 0.0 } else { 0.6 * specificity + 0.4 * centrality };
            lines.push(Line {
                episode: e,
                sentence,
                filler,
                specificity,
                centrality,
                score,
                vector,
            });
        }
    }
    if lines.is_empty() {
        return Err(DistillError::Empty);
    }
    let reads = ads::mark(&mut lines, episodes.len());
    Ok((lines, reads))
}
