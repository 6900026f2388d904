//! Speech recognition: Whisper behind one trait, with two backends — candle (default build, CPU
//! and CUDA/Metal) and whisper.cpp (cargo feature `whisper-cpp`).

mod candle;
mod decode;
mod kernels;
mod longform;
mod mel;
mod rules;
mod tokens;
#[cfg(feature = "whisper-cpp")]
mod whisper_cpp;
mod whisper_model;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audio::{AudioError, PcmSource};
pub use crate::device::{default_threads, DeviceSpec};

/// One stretch of speech with its times in seconds from the start of the audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    /// Mean log-probability of the window's tokens: low values flag guesses.
    pub avg_logprob: f32,
    /// The model's probability that the window holds no speech.
    pub no_speech_prob: f32,
    /// Who speaks, when the transcript says so (publisher transcripts often do; Whisper not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Part of a sponsor read (set by `distill::ads::mark_segments`, for `transcribe --format
    /// json`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ad: bool,
}

/// Decoding settings shared by both backends; defaults follow OpenAI's `transcribe()`.
#[derive(Debug, Clone, Serialize)]
pub struct DecodeOptions {
    /// 1 is greedy decoding.
    pub beam_size: usize,
    pub threads: usize,
    pub temperatures: Vec<f32>,
    pub condition_on_previous_text: bool,
    pub no_speech_threshold: f32,
    pub logprob_threshold: f32,
    pub compression_ratio_threshold: f32,
    /// Language code for multilingual models; detected from the first window when unset.
    pub language: Option<String>,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            beam_size: 1,
            threads: default_threads(),
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            condition_on_previous_text: true,
            no_speech_threshold: 0.6,
            logprob_threshold: -1.0,
            compression_ratio_threshold: 2.4,
            language: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AsrError {
    #[error(transparent)]
    Audio(#[from] AudioError),
    #[error("cannot load the Whisper model from {path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("whisper: {0}")]
    Model(String),
    #[error("device: {0}")]
    Device(String),
}

impl From<candle_core::Error> for AsrError {
    fn from(e: candle_core::Error) -> Self {
        AsrError::Model(e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Candle,
    WhisperCpp,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Candle => "candle",
            Backend::WhisperCpp => "whisper-cpp",
        }
    }
}

/// A loaded speech recogniser.
pub trait Transcriber {
    fn transcribe(
        &mut self,
        pcm: &mut dyn PcmSource,
        opts: &DecodeOptions,
        on_progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<Segment>, AsrError>;
}

/// Loads the backend from a model folder as `podbrief models fetch` leaves it (`model.safetensors`,
/// `config.json`, `tokenizer.json`, `ggml-model.bin`).
pub fn load(
    backend: Backend,
    model_dir: &Path,
    device: DeviceSpec,
    threads: usize,
) -> Result<Box<dyn Transcriber>, AsrError> {
    match backend {
        Backend::Candle => Ok(Box::new(candle::CandleWhisper::load(
            model_dir,
            device.candle().map_err(|e| AsrError::Device(e.0))?,
        )?)),
        #[cfg(feature = "whisper-cpp")]
        Backend::WhisperCpp => {
            let gpu = device != DeviceSpec::Cpu;
            let path = model_dir.join("ggml-model.bin");
            Ok(Box::new(
                whisper_cpp::WhisperCppBackend::load(&path, threads, gpu)
                    .map_err(|e| AsrError::Load { path, reason: e.to_string() })?,
            ))
        }
        #[cfg(not(feature = "whisper-cpp"))]
        Backend::WhisperCpp => {
            let _ = threads;
            Err(AsrError::Model(
                "this podbrief was built without whisper.cpp; rebuild with `--features whisper-cpp`"
                    .into(),
            ))
        }
    }
}
