//! `podbrief models info`: what a model file actually contains, read from the file itself
//! rather than from the registry, so it also describes a GGUF the registry has never seen.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::ModelError;
use crate::llm::gguf::Gguf;

#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    pub path: String,
    pub format: String,
    pub architecture: String,
    pub context_length: Option<usize>,
    pub vocab_size: Option<usize>,
    pub parameters: usize,
    /// Tensor count per storage type ("Q8_0", "F16", …).
    pub quantization: BTreeMap<String, usize>,
    pub file_bytes: u64,
    /// Everything else the format says (layers, heads, template presence…).
    pub details: Value,
}

pub fn describe(path: &Path) -> Result<ModelInfo, ModelError> {
    let bad = |m: String| ModelError::Registry(format!("{}: {m}", path.display()));
    if path.is_file() {
        let g = Gguf::open(path).map_err(|e| bad(e.to_string()))?;
        let i = g.info().map_err(|e| bad(e.to_string()))?;
        return Ok(ModelInfo {
            path: path.display().to_string(),
            format: format!("GGUF ({})", i.file_type.clone().unwrap_or_else(|| "mixed".into())),
            architecture: i.architecture.clone(),
            context_length: i.context_length,
            vocab_size: Some(i.vocab_size),
            parameters: i.parameters,
            quantization: i.tensor_types.clone(),
            file_bytes: i.file_bytes,
            details: serde_json::to_value(&i).unwrap_or(Value::Null),
        });
    }
    // A folder: safetensors weights plus an HF-style config.json (Whisper, BERT).
    let config_path = path.join("config.json");
    let config: Value = std::fs::read(&config_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("no readable config.json".into()))?;
    let weights = path.join("model.safetensors");
    let header = safetensors_header(&weights)?;
    let mut quantization = BTreeMap::new();
    let mut parameters = 0;
    for (name, t) in header.as_object().into_iter().flatten() {
        if name == "__metadata__" {
            continue;
        }
        let dtype = t.get("dtype").and_then(Value::as_str).unwrap_or("?").to_string();
        *quantization.entry(dtype).or_default() += 1;
        let shape = t.get("shape").and_then(Value::as_array);
        parameters += shape
            .map(|s| s.iter().filter_map(Value::as_u64).product::<u64>())
            .unwrap_or(0) as usize;
    }
    let file_bytes = std::fs::metadata(&weights).map(|m| m.len()).unwrap_or(0);
    let num = |k: &str| config.get(k).and_then(Value::as_u64).map(|x| x as usize);
    Ok(ModelInfo {
        path: path.display().to_string(),
        format: "safetensors".into(),
        architecture: config
            .get("model_type")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        context_length: num("max_position_embeddings").or(num("max_source_positions")),
        vocab_size: num("vocab_size"),
        parameters,
        quantization,
        file_bytes,
        details: config,
    })
}

/// The JSON header of a safetensors file, without reading the tensors behind it.
fn safetensors_header(path: &Path) -> Result<Value, ModelError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(super::io_err(path))?;
    let mut len = [0u8; 8];
    f.read_exact(&mut len).map_err(super::io_err(path))?;
    let len = u64::from_le_bytes(len);
    if len > 100_000_000 {
        return Err(ModelError::Registry(format!("{}: not a safetensors file", path.display())));
    }
    let mut buf = vec![0u8; len as usize];
    f.read_exact(&mut buf).map_err(super::io_err(path))?;
    serde_json::from_slice(&buf).map_err(|e| {
        ModelError::Registry(format!("{}: bad safetensors header: {e}", path.display()))
    })
}
