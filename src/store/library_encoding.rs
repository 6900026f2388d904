//! How library values are stored: episode states as readable text, embeddings as bytes.

use std::str::FromStr;

use super::LibraryError;

/// Where an episode is in the pipeline; stored as lowercase text so the database stays readable
/// with the `sqlite3` shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpisodeState {
    New,
    Downloaded,
    Transcribed,
    Summarized,
    Failed,
    /// Seen in a feed but not wanted: older episodes of a newly added feed.
    Skipped,
}

impl EpisodeState {
    pub fn as_str(self) -> &'static str {
        match self {
            EpisodeState::New => "new",
            EpisodeState::Downloaded => "downloaded",
            EpisodeState::Transcribed => "transcribed",
            EpisodeState::Summarized => "summarized",
            EpisodeState::Failed => "failed",
            EpisodeState::Skipped => "skipped",
        }
    }
}

impl FromStr for EpisodeState {
    type Err = LibraryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "new" => EpisodeState::New,
            "downloaded" => EpisodeState::Downloaded,
            "transcribed" => EpisodeState::Transcribed,
            "summarized" => EpisodeState::Summarized,
            "failed" => EpisodeState::Failed,
            "skipped" => EpisodeState::Skipped,
            other => return Err(LibraryError::UnknownState(other.to_string())),
        })
    }
}

impl std::fmt::Display for EpisodeState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Little-endian so a database copied between machines reads the same.
pub fn to_blob(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub fn from_blob(blob: &[u8]) -> Result<Vec<f32>, LibraryError> {
    if !blob.len().is_multiple_of(4) {
        return Err(LibraryError::CorruptBlob { len: blob.len() });
    }
    Ok(blob.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}
