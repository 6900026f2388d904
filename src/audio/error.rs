//! Errors a user can act on: every message is one line and names the file,
//! because the CLI prints them verbatim as the final word on a failed run.

use std::path::PathBuf;

/// Why an audio file could not be turned into 16 kHz mono samples.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("audio file not found: {}", .path.display())]
    NotFound { path: PathBuf },

    #[error("not a regular file (is it a directory?): {}", .path.display())]
    NotAFile { path: PathBuf },

    #[error("audio file is empty (0 bytes): {}", .path.display())]
    Empty { path: PathBuf },

    #[error("cannot read audio file {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("not a recognised audio format: {}", .path.display())]
    UnrecognisedFormat { path: PathBuf },

    #[error("no audio track in {} (is it a video-only file?)", .path.display())]
    NoAudioTrack { path: PathBuf },

    /// The container is fine but symphonia 0.5 cannot decode the codec inside
    /// (Opus being the common case for podcasts); the message tells the user
    /// how to convert rather than leaving them stuck.
    #[error(
        "unsupported audio codec {codec} in {}: podbrief's decoder (symphonia 0.5) cannot decode {codec}; convert it first, e.g. `ffmpeg -i <file> -ar 16000 -ac 1 out.wav`",
        .path.display()
    )]
    UnsupportedCodec { path: PathBuf, codec: String },

    #[error("corrupt or truncated audio in {}: {detail}", .path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("no audio samples in {} (the audio track is empty)", .path.display())]
    NoSamples { path: PathBuf },

    #[error("cannot resample {} from {rate} Hz to 16 kHz: {detail}", .path.display())]
    Resample { path: PathBuf, rate: u32, detail: String },
}

impl AudioError {
    /// The file the error is about, so callers can decide on per-file retry or skip logic
    /// without parsing the message.
    pub fn path(&self) -> &std::path::Path {
        match self {
            AudioError::NotFound { path }
            | AudioError::NotAFile { path }
            | AudioError::Empty { path }
            | AudioError::Io { path, .. }
            | AudioError::UnrecognisedFormat { path }
            | AudioError::NoAudioTrack { path }
            | AudioError::UnsupportedCodec { path, .. }
            | AudioError::Corrupt { path, .. }
            | AudioError::NoSamples { path }
            | AudioError::Resample { path, .. } => path,
        }
    }
}
