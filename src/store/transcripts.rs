//! The transcript cache: transcription is the slowest stage, so a transcript is kept under the
//! audio's content hash and the settings that shape it, and a second run of the same file is
//! instant whatever the file is called.

use std::path::PathBuf;

use super::{atomic_write, Home};
use crate::transcript::Transcript;

/// Everything that changes what the recogniser writes.
#[derive(Debug, Clone)]
pub struct CacheKey {
    pub audio_sha256: String,
    pub model: String,
    pub backend: String,
    pub beam_size: usize,
    pub language: Option<String>,
}

impl CacheKey {
    fn path(&self, home: &Home) -> PathBuf {
        let lang = self.language.as_deref().unwrap_or("auto");
        home.transcripts().join(&self.audio_sha256[..2.min(self.audio_sha256.len())]).join(format!(
            "{}.{}.{}.b{}.{}.json",
            self.audio_sha256, self.model, self.backend, self.beam_size, lang
        ))
    }
}

/// A cached transcript, if one exists and still parses (a damaged entry is treated as absent).
pub fn get(home: &Home, key: &CacheKey) -> Option<Transcript> {
    let text = std::fs::read_to_string(key.path(home)).ok()?;
    match serde_json::from_str(&text) {
        Ok(t) => Some(t),
        Err(e) => {
            tracing::warn!("ignoring damaged cache entry {}: {e}", key.path(home).display());
            None
        }
    }
}

pub fn put(home: &Home, key: &CacheKey, t: &Transcript) -> std::io::Result<()> {
    let json = serde_json::to_vec(t).map_err(std::io::Error::other)?;
    atomic_write(&key.path(home), &json)
}
