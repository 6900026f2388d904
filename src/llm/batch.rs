//! Several chats answered together. Generating one token streams every weight of the model
//! from memory, and that streaming is most of the token's time on a CPU; so the replies to a
//! handful of prompts (the passages of a brief) are generated side by side, one pass a token
//! for all of them, each sequence in its own slot of the key/value cache. A sequence that
//! finishes hands its slot to the next prompt. (With candle's block kernels the arithmetic
//! takes over beyond one row: a pass of four rows of the 1.5B model costs 2.8 single ones.)
//!
//! Each step computes a sequence's row as a pass of that row alone would, and a prompt is fed
//! on its own, reusing what its slot holds as `chat` reuses what its cache holds; so a reply is
//! the one `chat` gives where the reused prefix is the same. Where it is not, the prompt's
//! pieces go through the matrix kernels in other shapes, and a close greedy choice can flip,
//! as it can for `chat` after a different earlier call (seen once, in a chapter title of the
//! 0.5B model; the brief's replies on the six real episodes were all the same).

use std::time::Instant;

use candle_core::Tensor;

use super::chat::ChatMessage;
use super::generate::{Completion, GenOptions, Llm, Stats, StopReason};
use super::sample::Sampler;
use super::LlmError;

impl Llm {
    /// Replies to each of `chats`, in order, `width` of them generated at a time (greedy or
    /// sampled as `opts` says, each with its own sampler, as `chat` would); `done(i)` is called
    /// as reply `i` is finished. Schema constraints are not offered here.
    pub fn chat_many(
        &mut self,
        chats: &[Vec<ChatMessage>],
        opts: &GenOptions,
        width: usize,
        done: &mut dyn FnMut(usize),
    ) -> Result<Vec<Completion>, LlmError> {
        let prompts = chats.iter().map(|m| self.prompt(m)).collect::<Result<Vec<_>, _>>()?;
        for p in &prompts {
            self.check_prompt(p, opts.max_tokens)?;
        }
        let Some(longest) = prompts.iter().map(Vec::len).max() else { return Ok(Vec::new()) };
        let width = width.clamp(1, prompts.len());
        // Rounded up, so that the next call's slightly longer prompts keep the slots (and the
        // prefix they share, the system prompt) instead of making new ones.
        let cap = (longest + opts.max_tokens).next_multiple_of(256).min(self.n_ctx());
        if !self.model.set_slots(width, cap) {
            self.held.truncate(1);
            self.held.resize(width + 1, Vec::new());
        }
        let result = self.generate_many(&prompts, opts, width, done);
        if result.is_err() {
            // A pass that failed half-way leaves the slots in an unknown state.
            self.release_slots();
        }
        result
    }

    /// Frees the key/value caches `chat_many` allocated.
    pub fn release_slots(&mut self) {
        self.model.set_slots(0, 0);
        self.held.truncate(1);
    }

    fn generate_many(
        &mut self,
        prompts: &[Vec<u32>],
        opts: &GenOptions,
        width: usize,
        done: &mut dyn FnMut(usize),
    ) -> Result<Vec<Completion>, LlmError> {
        struct Live {
            chat: usize,
            slot: usize,
            sampler: Sampler,
            tokens: Vec<u32>,
            stats: Stats,
            logits: Tensor,
            started: Instant,
        }
        let mut out: Vec<Option<Completion>> = vec![None; prompts.len()];
        let mut free: Vec<usize> = (1..=width).rev().collect();
        let mut live: Vec<Live> = Vec::new();
        let mut next = 0;
        loop {
            while next < prompts.len() {
                let Some(slot) = free.pop() else { break };
                let t0 = Instant::now();
                let (logits, reuse) = self.prefill_slot(slot, &prompts[next])?;
                let stats = Stats {
                    prompt_tokens: prompts[next].len(),
                    reused_tokens: reuse,
                    prompt_secs: t0.elapsed().as_secs_f64(),
                    ..Stats::default()
                };
                let sampler = Sampler::new(opts.sampling.clone());
                let started = Instant::now();
                live.push(Live {
                    chat: next,
                    slot,
                    sampler,
                    tokens: vec![],
                    stats,
                    logits,
                    started,
                });
                next += 1;
            }
            if live.is_empty() {
                break;
            }
            let mut steps = Vec::new();
            let mut still = Vec::with_capacity(live.len());
            for mut l in live.drain(..) {
                let stop = if l.stats.generated_tokens >= opts.max_tokens {
                    Some(StopReason::MaxTokens)
                } else {
                    let mut logits = l.logits.to_vec1::<f32>()?;
                    let tokenizer = &self.tokenizer;
                    let mut allowed = |id: u32| !opts.ignore_eos || !tokenizer.is_eog(id);
                    let recent = &self.held[l.slot];
                    let Some(token) = l.sampler.pick(&mut logits, recent, &mut allowed) else {
                        return Err(LlmError::Internal("no token is allowed next".into()));
                    };
                    l.stats.generated_tokens += 1;
                    if self.tokenizer.is_eog(token) {
                        Some(StopReason::EndOfTurn)
                    } else {
                        l.tokens.push(token);
                        if l.stats.generated_tokens >= opts.max_tokens {
                            Some(StopReason::MaxTokens)
                        } else {
                            steps.push((l.slot, token));
                            None
                        }
                    }
                };
                match stop {
                    Some(stop) => {
                        let text = self.tokenizer.decode(&l.tokens)?;
                        l.stats.generation_secs = l.started.elapsed().as_secs_f64();
                        out[l.chat] = Some(Completion { text, stop, stats: l.stats });
                        free.push(l.slot);
                        done(l.chat);
                    }
                    None => still.push(l),
                }
            }
            live = still;
            if !steps.is_empty() {
                let logits = self.model.step(&steps)?;
                // `live` holds the sequences that went on, in the order of their steps.
                for ((&(slot, token), l), logits) in steps.iter().zip(&mut live).zip(logits) {
                    self.held[slot].push(token);
                    l.logits = logits;
                }
            }
        }
        out.into_iter()
            .map(|c| c.ok_or_else(|| LlmError::Internal("a reply was never finished".into())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::Sampling;

    fn chats() -> Vec<Vec<ChatMessage>> {
        ["Name a fruit.", "Why is the sky blue? One sentence.", "Count from one to five.", "Hi"]
            .iter()
            .map(|q| vec![ChatMessage::system("Answer briefly."), ChatMessage::user(*q)])
            .collect()
    }

    /// Each reply of a batch is the reply to its chat alone, whatever the width (greedy: a
    /// sampled reply can differ where the prompt was fed in other pieces, as with `chat`).
    #[test]
    fn replies_together_are_the_replies_alone() {
        let path = crate::models::stored_for_test("qwen2.5-coder-0.5b-instruct", "model.gguf");
        let mut llm = Llm::load(&path, &candle_core::Device::Cpu, 1024, None).expect("load");
        let opts = GenOptions { max_tokens: 20, ..GenOptions::default() };
        let alone: Vec<String> =
            chats().iter().map(|c| llm.chat(c, &opts, &mut |_| {}).expect("chat").text).collect();
        for width in [1, 3] {
            let mut finished = Vec::new();
            let together = llm
                .chat_many(&chats(), &opts, width, &mut |i| finished.push(i))
                .expect("chat_many");
            let texts: Vec<&str> = together.iter().map(|c| c.text.as_str()).collect();
            assert_eq!(texts, alone, "width {width}");
            finished.sort_unstable();
            assert_eq!(finished, vec![0, 1, 2, 3]);
        }
        // Sampled, each sequence draws from its own seeded generator: the same chat twice in
        // one batch gets the same reply, and rows of a pass do not leak into each other.
        let sampled = GenOptions {
            sampling: Sampling { temperature: 0.9, seed: 3, ..Sampling::default() },
            ..opts
        };
        let twice = vec![chats()[0].clone(), chats()[1].clone(), chats()[0].clone()];
        let r = llm.chat_many(&twice, &sampled, 3, &mut |_| {}).expect("sampled");
        assert_eq!(r[0].text, r[2].text);
        assert_ne!(r[0].text, r[1].text);
        llm.release_slots();
        assert!(llm.chat_many(&[], &opts, 4, &mut |_| {}).expect("none").is_empty());
    }
}
