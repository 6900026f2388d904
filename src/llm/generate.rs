//! A loaded chat model and its generation loop: chat prompt → tokens → sampled reply, with the
//! key/value cache reused across calls that share a prompt prefix (retries, one system prompt
//! for many chunks), streaming, optional JSON constraint, and timing.

use std::path::Path;
use std::time::Instant;

use candle_core::Device;
use serde::de::DeserializeOwned;

use super::chat::{ChatMessage, ChatTemplate};
use super::gguf::Gguf;
use super::json::Schema;
use super::model::Model;
use super::sample::{Sampler, Sampling};
use super::tokenizer::GgufTokenizer;
use super::LlmError;

#[derive(Debug, Clone)]
pub struct GenOptions {
    pub max_tokens: usize,
    pub sampling: Sampling,
    /// Keep going past end-of-turn tokens (benchmarks want a fixed number of tokens).
    pub ignore_eos: bool,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions { max_tokens: 512, sampling: Sampling::default(), ignore_eos: false }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    EndOfTurn,
    MaxTokens,
    /// A constrained document reached its end.
    Complete,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub prompt_tokens: usize,
    /// Prompt tokens whose keys and values were already cached from an earlier call.
    pub reused_tokens: usize,
    pub prompt_secs: f64,
    pub generated_tokens: usize,
    pub generation_secs: f64,
}

impl Stats {
    pub fn prompt_tps(&self) -> f64 {
        (self.prompt_tokens - self.reused_tokens) as f64 / self.prompt_secs.max(1e-9)
    }
    pub fn generation_tps(&self) -> f64 {
        // The first token comes out of the prompt pass; the rest each cost one forward pass.
        self.generated_tokens.saturating_sub(1) as f64 / self.generation_secs.max(1e-9)
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Completion {
    pub text: String,
    pub stop: StopReason,
    pub stats: Stats,
}

pub struct Llm {
    pub(super) model: Model,
    pub(super) tokenizer: GgufTokenizer,
    template: ChatTemplate,
    /// Per slot of the model's cache (0: `chat`'s, then `chat_many`'s), the tokens whose keys
    /// and values it holds, in order.
    pub(super) held: Vec<Vec<u32>>,
    pub load_secs: f64,
}

impl Llm {
    /// `template` overrides the GGUF's chat template (a per-model template from models.toml).
    pub fn load(
        path: &Path,
        device: &Device,
        n_ctx: usize,
        template: Option<&str>,
    ) -> Result<Llm, LlmError> {
        let t0 = Instant::now();
        let mut g = Gguf::open(path)?;
        // Check the architecture before the tokenizer: a foreign file should say so first.
        super::model::Config::from_gguf(&g)?;
        let tokenizer = GgufTokenizer::from_gguf(&g.content)?;
        let template = ChatTemplate::from_gguf(&g.content, template)?;
        let model = Model::load(&mut g, device, n_ctx)?;
        Ok(Llm {
            model,
            tokenizer,
            template,
            held: vec![Vec::new()],
            load_secs: t0.elapsed().as_secs_f64(),
        })
    }

    pub fn n_ctx(&self) -> usize {
        self.model.n_ctx
    }

    pub fn tokenizer(&self) -> &GgufTokenizer {
        &self.tokenizer
    }

    /// The chat prompt as tokens, ready for generation.
    pub fn prompt(&self, messages: &[ChatMessage]) -> Result<Vec<u32>, LlmError> {
        let text = self.template.render(messages, true)?;
        let mut ids = Vec::new();
        if self.tokenizer.add_bos {
            ids.extend(self.tokenizer.bos);
        }
        // Special-token text comes from the template; user content is ordinary text.
        ids.extend(self.tokenizer.encode(&text, true)?);
        Ok(ids)
    }

    /// Like `prompt`, but shortens the last message (from its end, on a token boundary, so no
    /// special token is ever cut) until the prompt leaves room for `max_tokens`.
    pub fn prompt_fitting(
        &self,
        messages: &[ChatMessage],
        max_tokens: usize,
    ) -> Result<Vec<u32>, LlmError> {
        let mut messages = messages.to_vec();
        for _ in 0..4 {
            let ids = self.prompt(&messages)?;
            let over = (ids.len() + max_tokens).saturating_sub(self.n_ctx());
            let Some(last) = messages.last_mut() else { return Ok(ids) };
            if over == 0 {
                return Ok(ids);
            }
            let content = self.tokenizer.encode(&last.content, false)?;
            let keep = content.len().saturating_sub(over + 4);
            if keep == 0 {
                break;
            }
            let text = self.tokenizer.decode(&content[..keep])?;
            last.content = text.trim_end_matches('\u{fffd}').to_string();
        }
        let ids = self.prompt(&messages)?;
        self.check_fits(ids.len(), max_tokens)?;
        Ok(ids)
    }

    /// A prompt to generate from: not empty, and leaving room for `max_tokens`.
    pub(super) fn check_prompt(&self, prompt: &[u32], max_tokens: usize) -> Result<(), LlmError> {
        if prompt.is_empty() {
            return Err(LlmError::Internal("empty prompt".into()));
        }
        self.check_fits(prompt.len(), max_tokens)
    }

    fn check_fits(&self, prompt: usize, max_tokens: usize) -> Result<(), LlmError> {
        if prompt + max_tokens > self.n_ctx() {
            return Err(LlmError::PromptTooLong {
                prompt,
                max_tokens,
                n_ctx: self.n_ctx(),
                train_ctx: self.model.config.train_ctx,
            });
        }
        Ok(())
    }

    pub fn chat(
        &mut self,
        messages: &[ChatMessage],
        opts: &GenOptions,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        let prompt = self.prompt(messages)?;
        self.generate(&prompt, opts, None, on_text)
    }

    /// A reply that parses as `T`: generation is constrained to `schema`; a reply that still
    /// fails to parse (cut by `max_tokens`, or a value serde rejects) is retried with sampling
    /// and a new seed, up to `tries` times in all.
    pub fn chat_json<T: DeserializeOwned>(
        &mut self,
        messages: &[ChatMessage],
        schema: &Schema,
        opts: &GenOptions,
        tries: usize,
    ) -> Result<(T, Completion), LlmError> {
        let prompt = self.prompt(messages)?;
        let mut last = String::from("no attempt made");
        for attempt in 0..tries.max(1) {
            let mut o = opts.clone();
            if attempt > 0 {
                o.sampling.seed = opts.sampling.seed.wrapping_add(attempt as u64);
                o.sampling.temperature = o.sampling.temperature.max(0.7);
            }
            let c = self.generate(&prompt, &o, Some(schema), &mut |_| {})?;
            if c.stop != StopReason::Complete {
                last = format!("the reply was cut at {} tokens", o.max_tokens);
                continue;
            }
            match serde_json::from_str::<T>(&c.text) {
                Ok(v) => return Ok((v, c)),
                Err(e) => last = format!("{e} in {}", c.text),
            }
            tracing::debug!("JSON attempt {} failed: {last}", attempt + 1);
        }
        Err(LlmError::NoValidJson { tries: tries.max(1), last })
    }

    /// The generation loop over an already-tokenized prompt.
    pub fn generate(
        &mut self,
        prompt: &[u32],
        opts: &GenOptions,
        schema: Option<&Schema>,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Completion, LlmError> {
        self.check_prompt(prompt, opts.max_tokens)?;
        let t0 = Instant::now();
        let (mut logits, reuse) = self.prefill(prompt)?;
        let mut stats = Stats {
            prompt_tokens: prompt.len(),
            reused_tokens: reuse,
            prompt_secs: t0.elapsed().as_secs_f64(),
            ..Stats::default()
        };

        let t1 = Instant::now();
        let Llm { model, tokenizer, held, .. } = self;
        let cached = &mut held[0];
        let mut sampler = Sampler::new(opts.sampling.clone());
        let mut state = schema.map(|s| s.start());
        let mut stream = tokenizer.stream_decoder();
        let mut text = String::new();
        let mut emit = |piece: Option<String>, text: &mut String| {
            if let Some(piece) = piece {
                on_text(&piece);
                text.push_str(&piece);
            }
        };
        let bytes_of = |id: u32| tokenizer.token_bytes(id, false).unwrap_or(&[]);
        let stop = loop {
            if stats.generated_tokens >= opts.max_tokens {
                break StopReason::MaxTokens;
            }
            if let (Some(s), Some(st)) = (schema, state.as_mut()) {
                if st.is_done() {
                    break StopReason::Complete;
                }
                // Keys and punctuation the schema dictates are fed, not sampled.
                if let Some(forced) = st.forced().map(str::to_string) {
                    let mut ids = tokenizer.encode(&forced, false)?;
                    ids.truncate(opts.max_tokens - stats.generated_tokens);
                    let bytes: Vec<u8> = ids.iter().flat_map(|&i| bytes_of(i).to_vec()).collect();
                    if ids.is_empty() || !st.advance(s, &bytes) {
                        return Err(LlmError::Internal(format!("cannot feed {forced:?}")));
                    }
                    for &id in &ids {
                        emit(stream.push(id)?, &mut text);
                    }
                    stats.generated_tokens += ids.len();
                    logits = feed(model, cached, &ids)?;
                    continue;
                }
            }
            let mut l = logits.to_vec1::<f32>()?;
            let mut allowed = |id: u32| match (schema, state.as_ref()) {
                (Some(s), Some(st)) => st.accepts(s, bytes_of(id)),
                _ => !opts.ignore_eos || !tokenizer.is_eog(id),
            };
            let Some(next) = sampler.pick(&mut l, cached, &mut allowed) else {
                return Err(LlmError::Internal("no token is allowed next".into()));
            };
            stats.generated_tokens += 1;
            if schema.is_none() && tokenizer.is_eog(next) {
                break StopReason::EndOfTurn;
            }
            if let (Some(s), Some(st)) = (schema, state.as_mut()) {
                st.advance(s, bytes_of(next));
            }
            emit(stream.push(next)?, &mut text);
            if stats.generated_tokens >= opts.max_tokens {
                break StopReason::MaxTokens;
            }
            logits = feed(model, cached, &[next])?;
        };
        emit(stream.finish(), &mut text);
        stats.generation_secs = t1.elapsed().as_secs_f64();
        Ok(Completion { text, stop, stats })
    }

    /// Feeds `prompt`, reusing the cached prefix it shares with the last call; the logits of
    /// its last token and how many tokens were reused.
    fn prefill(&mut self, prompt: &[u32]) -> Result<(candle_core::Tensor, usize), LlmError> {
        self.prefill_slot(0, prompt)
    }

    /// `prefill` into slot `slot` of the cache, against what that slot holds.
    pub(super) fn prefill_slot(
        &mut self,
        slot: usize,
        prompt: &[u32],
    ) -> Result<(candle_core::Tensor, usize), LlmError> {
        let held = &mut self.held[slot];
        let reuse = held.iter().zip(prompt).take_while(|(a, b)| a == b).count();
        let reuse = reuse.min(prompt.len() - 1);
        self.model.rewind_slot(slot, reuse);
        held.truncate(reuse);
        match self.model.forward_on(slot, &prompt[reuse..]) {
            Ok(logits) => {
                held.extend_from_slice(&prompt[reuse..]);
                Ok((logits, reuse))
            }
            Err(e) => {
                // A pass that failed half-way leaves the cache in an unknown state.
                self.model.rewind_slot(slot, 0);
                held.clear();
                Err(e)
            }
        }
    }

    /// How sure the model is that the answer to a yes/no question is yes: the softmax of its
    /// first reply token over "Yes" and "No" only. It costs prompt tokens alone (no generation),
    /// so a small model can judge many passages or claims cheaply; a shared system prompt is
    /// reused from the cache.
    pub fn yes_probability(&mut self, messages: &[ChatMessage]) -> Result<f32, LlmError> {
        let prompt = self.prompt(messages)?;
        self.check_prompt(&prompt, 1)?;
        let (yes, no) = (self.answer_token("Yes")?, self.answer_token("No")?);
        let (logits, _) = self.prefill(&prompt)?;
        let l = logits.to_vec1::<f32>()?;
        let (y, n) = (l[yes as usize], l[no as usize]);
        Ok(1.0 / (1.0 + (n - y).exp()))
    }

    /// The single token a reply word starts with.
    fn answer_token(&self, word: &str) -> Result<u32, LlmError> {
        let ids = self.tokenizer.encode(word, false)?;
        ids.first().copied().ok_or_else(|| LlmError::Internal(format!("cannot encode {word:?}")))
    }
}

/// One forward pass that keeps `cached` in step with the model's cache.
fn feed(
    model: &mut Model,
    cached: &mut Vec<u32>,
    ids: &[u32],
) -> Result<candle_core::Tensor, LlmError> {
    match model.forward(ids) {
        Ok(logits) => {
            cached.extend_from_slice(ids);
            Ok(logits)
        }
        Err(e) => {
            // A pass that failed half-way leaves the cache in an unknown state.
            model.rewind(0);
            cached.clear();
            Err(e)
        }
    }
}
