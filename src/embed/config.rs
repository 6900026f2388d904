//! The model directory's small JSON files, as sentence-transformers reads them.

use std::path::Path;

use serde::Deserialize;

use super::{EmbedError, Pooling};

/// `1_Pooling/config.json`: sentence-transformers 5 and later write `pooling_mode` (a name or
/// a list of names), earlier versions one boolean per mode.
#[derive(Deserialize)]
struct PoolingConfig {
    pooling_mode: Option<serde_json::Value>,
    #[serde(flatten)]
    legacy: std::collections::BTreeMap<String, serde_json::Value>,
}

#[derive(Deserialize)]
pub(super) struct SentenceBertConfig {
    pub(super) max_seq_length: Option<usize>,
}

pub(super) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EmbedError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| EmbedError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_str(&text)
        .map_err(|source| EmbedError::Config { path: path.to_path_buf(), source })
}

/// Without a pooling config sentence-transformers falls back to mean pooling, and so do we.
pub(super) fn read_pooling(path: &Path) -> Result<Pooling, EmbedError> {
    if !path.is_file() {
        return Ok(Pooling::Mean);
    }
    let c: PoolingConfig = read_json(path)?;
    let modes: Vec<String> = match c.pooling_mode {
        Some(serde_json::Value::String(mode)) => vec![mode],
        Some(serde_json::Value::Array(modes)) => {
            modes.iter().map(|m| m.as_str().unwrap_or("?").to_string()).collect()
        }
        Some(other) => vec![other.to_string()],
        None => c
            .legacy
            .iter()
            .filter(|(_, on)| on.as_bool() == Some(true))
            .filter_map(|(key, _)| key.strip_prefix("pooling_mode_"))
            .map(|mode| mode.trim_end_matches("_tokens").trim_end_matches("_token").to_string())
            .collect(),
    };
    match modes.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["mean"] => Ok(Pooling::Mean),
        ["cls"] => Ok(Pooling::Cls),
        ["max"] => Ok(Pooling::Max),
        ["mean_sqrt_len" | "mean_sqrt_len_tokens"] => Ok(Pooling::MeanSqrtLen),
        [] => Err(EmbedError::UnsupportedPooling { path: path.into(), mode: "none".into() }),
        other => Err(EmbedError::UnsupportedPooling { path: path.into(), mode: other.join("+") }),
    }
}
