//! The candle backend: loads the converted Hugging Face checkpoint and runs the long-form loop.

use std::path::Path;

use candle_core::{Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::Tokenizer;

use super::decode::{WindowDecoder, WindowResult};
use super::longform::{self, WindowModel};
use super::mel::{MelExtractor, N_FRAMES};
use super::tokens::SpecialTokens;
use super::whisper_model::{Config, Whisper};
use super::{AsrError, DecodeOptions, Segment, Transcriber};
use crate::audio::PcmSource;

pub struct CandleWhisper {
    model: Whisper,
    tok: SpecialTokens,
    tokenizer: Tokenizer,
    device: Device,
    mel: MelExtractor,
}

impl CandleWhisper {
    pub fn load(dir: &Path, device: Device) -> Result<Self, AsrError> {
        let fail =
            |path: &Path, reason: String| AsrError::Load { path: path.to_path_buf(), reason };
        let config_path = dir.join("config.json");
        let text =
            std::fs::read_to_string(&config_path).map_err(|e| fail(&config_path, e.to_string()))?;
        let config: Config =
            serde_json::from_str(&text).map_err(|e| fail(&config_path, e.to_string()))?;
        let tok_path = dir.join("tokenizer.json");
        let tokenizer =
            Tokenizer::from_file(&tok_path).map_err(|e| fail(&tok_path, e.to_string()))?;
        let weights = dir.join("model.safetensors");
        // SAFETY: the file is mapped read-only; the model store never rewrites a file in place
        // (writes go through a temporary file and a rename).
        let vb =
            unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], Whisper::dtype(), &device) }
                .map_err(|e| fail(&weights, e.to_string()))?;
        let tok =
            SpecialTokens::from_tokenizer(&tokenizer, &config.suppress_tokens, config.vocab_size)?;
        let mel = MelExtractor::new(config.num_mel_bins);
        // Decoding steps are bound by weight bandwidth on CPU (see `whisper_model::Linear`);
        // on a GPU they are not, and f32 keeps the kernels simple.
        let model = Whisper::load(vb, config, device.is_cpu())
            .map_err(|e| fail(&weights, e.to_string()))?;
        Ok(Self { model, tok, tokenizer, device, mel })
    }

    fn encode(&self, mel: &[f32]) -> Result<Tensor, AsrError> {
        let n_mels = self.mel.n_mels();
        let mel = Tensor::from_slice(mel, (1, n_mels, N_FRAMES), &self.device)?;
        Ok(self.model.encoder.forward(&mel)?)
    }

    /// The likeliest language token after `<|startoftranscript|>` in the first window.
    fn detect_language(&self, audio: &Tensor) -> Result<u32, AsrError> {
        let mut state = self.model.decoder.start(audio)?;
        let input = Tensor::new(&[[self.tok.sot]], &self.device)?;
        let logits: Vec<f32> =
            self.model.decoder.forward(&input, &mut state)?.squeeze(0)?.to_vec1()?;
        let (code, id) = self
            .tok
            .languages
            .iter()
            .max_by(|a, b| logits[a.1 as usize].total_cmp(&logits[b.1 as usize]))
            .ok_or_else(|| AsrError::Model("model has no language tokens".into()))?;
        tracing::info!("detected language: {code}");
        Ok(*id)
    }
}

struct Run<'a> {
    w: &'a CandleWhisper,
    opts: &'a DecodeOptions,
    language: Option<u32>,
    windows: u64,
}

impl WindowModel for Run<'_> {
    fn mel(&self, samples: &[f32]) -> Vec<f32> {
        self.w.mel.compute(samples)
    }

    fn decode_window(&mut self, mel: &[f32], prompt: &[u32]) -> Result<WindowResult, AsrError> {
        let t0 = std::time::Instant::now();
        let audio = self.w.encode(mel)?;
        let t1 = std::time::Instant::now();
        if self.w.tok.is_multilingual() && self.language.is_none() {
            self.language = Some(self.w.detect_language(&audio)?);
        }
        let dec = WindowDecoder {
            model: &self.w.model,
            tok: &self.w.tok,
            tokenizer: &self.w.tokenizer,
            device: &self.w.device,
        };
        self.windows += 1;
        let r = dec.decode_with_fallback(&audio, prompt, self.language, self.opts, self.windows)?;
        tracing::debug!(
            "window {}: encode {:.0} ms, decode {:.0} ms, {} tokens, T={}",
            self.windows,
            (t1 - t0).as_secs_f64() * 1e3,
            t1.elapsed().as_secs_f64() * 1e3,
            r.tokens.len(),
            r.temperature
        );
        Ok(r)
    }

    fn detokenize(&self, tokens: &[u32]) -> String {
        let text: Vec<u32> = tokens.iter().copied().filter(|&t| t < self.w.tok.eot).collect();
        self.w.tokenizer.decode(&text, true).unwrap_or_default()
    }

    fn timestamp_begin(&self) -> u32 {
        self.w.tok.timestamp_begin
    }
}

impl Transcriber for CandleWhisper {
    fn transcribe(
        &mut self,
        pcm: &mut dyn PcmSource,
        opts: &DecodeOptions,
        on_progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<Segment>, AsrError> {
        let language = match &opts.language {
            Some(code) if self.tok.is_multilingual() => {
                Some(self.tok.language(code).ok_or_else(|| {
                    AsrError::Model(format!("this model does not know the language '{code}'"))
                })?)
            }
            _ => None,
        };
        let mut run = Run { w: self, opts, language, windows: 0 };
        longform::transcribe(&mut run, pcm, opts, on_progress)
    }
}
