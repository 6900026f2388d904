//! Transcripts: the typed output of speech recognition that every later stage reads, and the
//! formats users read them in (plain text, SRT, WebVTT, JSON).

pub mod format;
pub mod parse;
pub mod wer;

use serde::{Deserialize, Serialize};

pub use crate::asr::Segment;

/// A transcript of one audio file, as cached in the store and written by `--format json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// File name of the audio it came from.
    pub source: String,
    /// SHA-256 of the audio file's bytes: the cache key, and how later stages recognise an episode.
    pub audio_sha256: String,
    pub model: String,
    pub backend: String,
    /// Seconds of audio decoded.
    pub duration: f64,
    pub segments: Vec<Segment>,
}

impl Transcript {
    /// The whole text, one segment per line.
    pub fn text(&self) -> String {
        self.segments.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join("\n")
    }
}

/// Output formats of `podbrief transcribe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Txt,
    Srt,
    Vtt,
    Json,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Txt => "txt",
            Format::Srt => "srt",
            Format::Vtt => "vtt",
            Format::Json => "json",
        }
    }
}
