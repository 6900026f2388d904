//! Decoding one 30-second window: greedy, beam search or sampling, under OpenAI's logit rules,
//! with temperature fallback when the output looks like a repetition loop or a guess.

use std::io::Write;

use candle_core::{Device, Tensor};
use tokenizers::Tokenizer;

use super::rules;
use super::tokens::SpecialTokens;
use super::whisper_model::Whisper;
use super::{AsrError, DecodeOptions};

/// Longest previous-text prompt, as in OpenAI's decoder (half the text context, less one).
const MAX_PROMPT: usize = 223;

#[derive(Debug, Clone)]
pub struct WindowResult {
    /// Generated tokens, text and timestamps, without the end-of-text token.
    pub tokens: Vec<u32>,
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub temperature: f32,
    pub compression_ratio: f32,
}

pub struct WindowDecoder<'a> {
    pub model: &'a Whisper,
    pub tok: &'a SpecialTokens,
    pub tokenizer: &'a Tokenizer,
    pub device: &'a Device,
}

impl WindowDecoder<'_> {
    /// Tries each temperature in turn until the result is neither too repetitive (compression
    /// ratio) nor too unlikely (average log-probability); silence stops the search early.
    pub fn decode_with_fallback(
        &self,
        audio: &Tensor,
        prompt: &[u32],
        language: Option<u32>,
        opts: &DecodeOptions,
        seed: u64,
    ) -> Result<WindowResult, AsrError> {
        let temps: &[f32] = if opts.temperatures.is_empty() { &[0.0] } else { &opts.temperatures };
        let mut last = None;
        for (i, &t) in temps.iter().enumerate() {
            let beam = if t == 0.0 { opts.beam_size.max(1) } else { 1 };
            let r = self.decode(audio, prompt, language, t, beam, seed.wrapping_add(i as u64))?;
            let mut needs_fallback = r.compression_ratio > opts.compression_ratio_threshold
                || r.avg_logprob < opts.logprob_threshold;
            // Silence only when the model is also unsure of its words, as OpenAI's transcribe()
            // has it: a confident loop ("I'm going to tell you…" 57 times) with a high
            // no-speech probability must still fall back.
            if r.no_speech_prob > opts.no_speech_threshold && r.avg_logprob < opts.logprob_threshold
            {
                needs_fallback = false;
            }
            if !needs_fallback {
                return Ok(r);
            }
            tracing::debug!(
                "window fallback at T={t}: compression {:.2}, logprob {:.2}",
                r.compression_ratio,
                r.avg_logprob
            );
            last = Some(r);
        }
        last.ok_or_else(|| AsrError::Model("no temperature to decode with".into()))
    }

    pub fn decode(
        &self,
        audio: &Tensor,
        prompt: &[u32],
        language: Option<u32>,
        temperature: f32,
        beam: usize,
        seed: u64,
    ) -> Result<WindowResult, AsrError> {
        let n_ctx = self.model.config.max_target_positions;
        let mut initial = Vec::new();
        if !prompt.is_empty() {
            initial.push(self.tok.sot_prev);
            initial.extend_from_slice(&prompt[prompt.len().saturating_sub(MAX_PROMPT)..]);
        }
        let sot_index = initial.len();
        initial.extend(self.tok.sot_sequence(language));
        let max_new = (n_ctx / 2).min(n_ctx - initial.len());

        let dec = &self.model.decoder;
        let mut state = dec.start(audio)?;
        let input = Tensor::new(initial.as_slice(), self.device)?.unsqueeze(0)?;
        let (at_sot, last) = dec.logits_at(&input, &mut state, sot_index)?;
        let no_speech_prob = match self.tok.no_speech {
            Some(ns) => {
                let row: Vec<f32> = at_sot.squeeze(0)?.to_vec1()?;
                rules::log_softmax(&row)[ns as usize].exp()
            }
            None => 0.0,
        };
        let first: Vec<f32> = last.squeeze(0)?.to_vec1()?;
        let (tokens, sum_logprob) = if beam > 1 {
            self.beam_search(first, &mut state, beam, max_new)?
        } else {
            self.sample(first, &mut state, temperature, max_new, seed)?
        };
        let text_ids: Vec<u32> = tokens.iter().copied().filter(|&t| t < self.tok.eot).collect();
        let text = self.tokenizer.decode(&text_ids, true).unwrap_or_default();
        Ok(WindowResult {
            avg_logprob: sum_logprob / (tokens.len() + 1) as f32,
            tokens,
            no_speech_prob,
            temperature,
            compression_ratio: compression_ratio(&text),
        })
    }

    fn sample(
        &self,
        mut logits: Vec<f32>,
        state: &mut super::whisper_model::DecoderState,
        temperature: f32,
        max_new: usize,
        seed: u64,
    ) -> Result<(Vec<u32>, f32), AsrError> {
        let mut rng = SplitMix(seed);
        let mut tokens = Vec::new();
        let mut sum = 0f32;
        loop {
            let logprobs = rules::apply(&mut logits, &tokens, self.tok);
            let next = if temperature > 0.0 {
                rng.categorical(&logits, temperature)
            } else {
                argmax(&logits)
            };
            sum += logprobs[next as usize];
            if next == self.tok.eot || tokens.len() + 1 >= max_new {
                if next != self.tok.eot {
                    tokens.push(next);
                }
                return Ok((tokens, sum));
            }
            tokens.push(next);
            let input = Tensor::new(&[[next]], self.device)?;
            logits = self.model.decoder.forward(&input, state)?.squeeze(0)?.to_vec1()?;
        }
    }

    /// OpenAI's beam search: keep the `beam` likeliest unfinished sequences, collect finished ones
    /// until there are `beam` of them, then pick the best by length-normalised log-probability.
    fn beam_search(
        &self,
        first: Vec<f32>,
        state: &mut super::whisper_model::DecoderState,
        beam: usize,
        max_new: usize,
    ) -> Result<(Vec<u32>, f32), AsrError> {
        let mut beams: Vec<(Vec<u32>, f32)> = vec![(Vec::new(), 0.0)];
        let mut rows = vec![first];
        let mut finished: Vec<(Vec<u32>, f32)> = Vec::new();
        for _ in 0..max_new {
            let mut cands: Vec<(f32, usize, u32)> = Vec::new();
            for (b, ((seq, score), row)) in beams.iter().zip(rows.iter_mut()).enumerate() {
                let lp = rules::apply(row, seq, self.tok);
                for t in top_k(&lp, beam + 1) {
                    cands.push((score + lp[t as usize], b, t));
                }
            }
            cands.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut next = Vec::new();
            let mut sources = Vec::new();
            for (score, b, t) in cands {
                if !score.is_finite() {
                    continue;
                }
                let mut seq = beams[b].0.clone();
                if t == self.tok.eot {
                    if finished.len() < beam {
                        finished.push((seq, score));
                    }
                } else {
                    seq.push(t);
                    next.push((seq, score));
                    sources.push(b as u32);
                    if next.len() == beam {
                        break;
                    }
                }
            }
            if finished.len() >= beam || next.is_empty() {
                beams = next;
                break;
            }
            let (next, sources) = keep_slots(next, sources);
            state.reorder(&sources)?;
            let last: Vec<u32> =
                next.iter().map(|(s, _)| *s.last().unwrap_or(&self.tok.eot)).collect();
            let input = Tensor::new(last.as_slice(), self.device)?.unsqueeze(1)?;
            let logits = self.model.decoder.forward(&input, state)?;
            rows = logits.to_vec2()?;
            beams = next;
        }
        if finished.len() < beam {
            finished.extend(beams);
        }
        finished
            .into_iter()
            .max_by(|a, b| {
                let na = a.1 / a.0.len().max(1) as f32;
                let nb = b.1 / b.0.len().max(1) as f32;
                na.total_cmp(&nb)
            })
            .ok_or_else(|| AsrError::Model("beam search produced nothing".into()))
    }
}

/// Puts each beam in its source's slot where that slot is free, so that a step whose beams all
/// extend their own sequences needs no copy of the key/value cache (the order of the beams means
/// nothing to the search; `DecoderState::reorder` copies every layer's cache unless the order
/// is the one it holds).
fn keep_slots<T>(next: Vec<T>, sources: Vec<u32>) -> (Vec<T>, Vec<u32>) {
    let n = next.len();
    let mut slot: Vec<Option<usize>> = vec![None; n];
    let mut placed = vec![false; n];
    for (i, &s) in sources.iter().enumerate() {
        let s = s as usize;
        if s < n && slot[s].is_none() {
            slot[s] = Some(i);
            placed[i] = true;
        }
    }
    let mut rest = (0..n).filter(|&i| !placed[i]);
    for free in slot.iter_mut().filter(|s| s.is_none()) {
        *free = rest.next();
    }
    let mut items: Vec<Option<T>> = next.into_iter().map(Some).collect();
    slot.into_iter()
        .flatten()
        .map(|i| (items[i].take().expect("each beam placed once"), sources[i]))
        .unzip()
}

fn argmax(x: &[f32]) -> u32 {
    let mut best = 0;
    for (i, v) in x.iter().enumerate() {
        if *v > x[best] {
            best = i;
        }
    }
    best as u32
}

fn top_k(x: &[f32], k: usize) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..x.len() as u32).filter(|&i| x[i as usize].is_finite()).collect();
    let k = k.min(idx.len());
    if k == 0 {
        return idx;
    }
    idx.select_nth_unstable_by(k - 1, |&a, &b| x[b as usize].total_cmp(&x[a as usize]));
    idx.truncate(k);
    idx
}

/// How much zlib shrinks the text: repetition loops compress far better than speech does.
pub fn compression_ratio(text: &str) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = enc.write_all(text.as_bytes());
    let compressed = enc.finish().map(|c| c.len()).unwrap_or(text.len());
    text.len() as f32 / compressed.max(1) as f32
}

/// A small seeded generator, so temperature fallback is reproducible run to run.
struct SplitMix(u64);

impl SplitMix {
    fn next_f32(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }

    fn categorical(&mut self, logits: &[f32], temperature: f32) -> u32 {
        let max = logits.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let weights: Vec<f32> = logits.iter().map(|l| ((l - max) / temperature).exp()).collect();
        let total: f32 = weights.iter().sum();
        let mut r = self.next_f32() * total;
        for (i, w) in weights.iter().enumerate() {
            r -= w;
            if r <= 0.0 && *w > 0.0 {
                return i as u32;
            }
        }
        argmax(logits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repetition_compresses_far_better_than_speech() {
        let loop_text = "thank you thank you thank you ".repeat(20);
        let speech = "And so my fellow Americans, ask not what your country can do for you.";
        assert!(compression_ratio(&loop_text) > 2.4);
        assert!(compression_ratio(speech) < 2.4);
    }

    #[test]
    fn beams_keep_their_sources_slots() {
        // Beam 0 had two children, beam 2 none: the second child takes the free slot 2.
        let (next, sources) = keep_slots(vec!["a", "b", "c", "d"], vec![1, 0, 0, 3]);
        assert_eq!(sources, vec![0, 1, 0, 3]);
        assert_eq!(next, vec!["b", "a", "c", "d"]);
        // Every beam extends its own sequence: nothing to copy.
        assert_eq!(keep_slots(vec![1, 2, 3], vec![2, 0, 1]).1, vec![0, 1, 2]);
        // Widening one beam into three.
        assert_eq!(keep_slots(vec![1, 2, 3], vec![0, 0, 0]).1, vec![0, 0, 0]);
    }

    #[test]
    fn top_k_returns_the_largest() {
        let mut v = top_k(&[0.1, 0.9, f32::NEG_INFINITY, 0.5, 0.7], 3);
        v.sort();
        assert_eq!(v, vec![1, 3, 4]);
    }

    #[test]
    fn sampling_is_reproducible_per_seed() {
        let logits = vec![1.0, 2.0, 3.0, 0.5];
        let draw = |s| {
            (0..20)
                .map(|_| 0)
                .fold((SplitMix(s), vec![]), |(mut r, mut v), _: i32| {
                    v.push(r.categorical(&logits, 1.0));
                    (r, v)
                })
                .1
        };
        assert_eq!(draw(7), draw(7));
    }
}
