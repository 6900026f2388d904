//! Opening a GGUF file: header, metadata and the checks that turn a damaged or foreign file into
//! a sentence a user can act on, before any tensor is read.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use candle_core::quantized::gguf_file::{Content, Value};
use candle_core::quantized::GgmlDType;

use super::LlmError;

/// Architectures whose tensor layout `model.rs` implements. Llama-family GGUFs (Llama, SmolLM,
/// Mistral without sliding windows) share one layout; Qwen2 adds q/k/v biases and NeoX RoPE.
pub const SUPPORTED_ARCHS: &[&str] = &["llama", "qwen2"];

/// An opened GGUF: parsed header plus the reader positioned anywhere (tensor reads seek).
pub struct Gguf {
    pub path: PathBuf,
    pub content: Content,
    pub reader: BufReader<File>,
    pub file_len: u64,
}

impl Gguf {
    pub fn open(path: &Path) -> Result<Gguf, LlmError> {
        let file = File::open(path).map_err(|source| LlmError::Io { path: path.into(), source })?;
        let file_len =
            file.metadata().map_err(|source| LlmError::Io { path: path.into(), source })?.len();
        let mut reader = BufReader::new(file);
        let content = Content::read(&mut reader).map_err(|e| LlmError::BadGguf {
            path: path.into(),
            reason: if file_len < 8 {
                format!("the file is only {file_len} bytes")
            } else {
                format!(
                    "cannot read the GGUF header ({}); is it a GGUF file?",
                    e.to_string().lines().next().unwrap_or_default()
                )
            },
        })?;
        let gguf = Gguf { path: path.into(), content, reader, file_len };
        gguf.check_complete()?;
        Ok(gguf)
    }

    /// A download cut short leaves a valid header and missing tensor data; catching that here
    /// gives one clear message instead of a read error half-way through loading.
    fn check_complete(&self) -> Result<(), LlmError> {
        let needed = self
            .content
            .tensor_infos
            .values()
            .map(|t| {
                let bytes =
                    t.shape.elem_count() / t.ggml_dtype.block_size() * t.ggml_dtype.type_size();
                self.content.tensor_data_offset + t.offset + bytes as u64
            })
            .max()
            .unwrap_or(self.content.tensor_data_offset);
        if needed > self.file_len {
            return Err(LlmError::BadGguf {
                path: self.path.clone(),
                reason: format!(
                    "the file is truncated: its tensors need {needed} bytes but it has {}",
                    self.file_len
                ),
            });
        }
        Ok(())
    }

    pub fn architecture(&self) -> Result<String, LlmError> {
        self.string("general.architecture")
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    pub fn string(&self, key: &str) -> Result<String, LlmError> {
        match self.get(key).map(Value::to_string) {
            Some(Ok(s)) => Ok(s.clone()),
            _ => Err(self.missing(key)),
        }
    }

    /// Integer metadata; GGUF writers differ on u32/u64/i32, so accept any integer type.
    pub fn usize(&self, key: &str) -> Result<usize, LlmError> {
        let v = self.get(key).ok_or_else(|| self.missing(key))?;
        v.to_u32()
            .map(|x| x as usize)
            .or_else(|_| v.to_u64().map(|x| x as usize))
            .or_else(|_| v.to_i32().map(|x| x as usize))
            .map_err(|_| self.missing(key))
    }

    pub fn f32(&self, key: &str) -> Result<f32, LlmError> {
        let v = self.get(key).ok_or_else(|| self.missing(key))?;
        v.to_f32().or_else(|_| v.to_f64().map(|x| x as f32)).map_err(|_| self.missing(key))
    }

    fn missing(&self, key: &str) -> LlmError {
        LlmError::BadGguf {
            path: self.path.clone(),
            reason: format!("metadata '{key}' is missing or has the wrong type"),
        }
    }

    pub fn info(&self) -> Result<GgufInfo, LlmError> {
        let arch = self.architecture()?;
        let key = |k: &str| format!("{arch}.{k}");
        let mut quant: BTreeMap<String, usize> = BTreeMap::new();
        let mut params = 0usize;
        for t in self.content.tensor_infos.values() {
            *quant.entry(dtype_name(t.ggml_dtype).to_string()).or_default() += 1;
            params += t.shape.elem_count();
        }
        let vocab = match self.get("tokenizer.ggml.tokens").map(Value::to_vec) {
            Some(Ok(v)) => v.len(),
            _ => 0,
        };
        Ok(GgufInfo {
            path: self.path.clone(),
            name: self.string("general.name").ok(),
            architecture: arch.clone(),
            supported: SUPPORTED_ARCHS.contains(&arch.as_str()),
            context_length: self.usize(&key("context_length")).ok(),
            embedding_length: self.usize(&key("embedding_length")).ok(),
            layers: self.usize(&key("block_count")).ok(),
            heads: self.usize(&key("attention.head_count")).ok(),
            kv_heads: self.usize(&key("attention.head_count_kv")).ok(),
            vocab_size: vocab,
            file_type: self.usize("general.file_type").ok().map(file_type_name),
            tensor_types: quant,
            parameters: params,
            file_bytes: self.file_len,
            chat_template: self.get("tokenizer.chat_template").is_some(),
        })
    }
}

/// What `podbrief models info` prints for a GGUF model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GgufInfo {
    pub path: PathBuf,
    pub name: Option<String>,
    pub architecture: String,
    pub supported: bool,
    pub context_length: Option<usize>,
    pub embedding_length: Option<usize>,
    pub layers: Option<usize>,
    pub heads: Option<usize>,
    pub kv_heads: Option<usize>,
    pub vocab_size: usize,
    /// llama.cpp's name for the file's nominal quantization (`general.file_type`).
    pub file_type: Option<String>,
    /// Tensor count per storage type; mixed files are the rule, not the exception.
    pub tensor_types: BTreeMap<String, usize>,
    pub parameters: usize,
    pub file_bytes: u64,
    pub chat_template: bool,
}

pub fn dtype_name(d: GgmlDType) -> &'static str {
    match d {
        GgmlDType::F32 => "F32",
        GgmlDType::F16 => "F16",
        GgmlDType::BF16 => "BF16",
        GgmlDType::Q4_0 => "Q4_0",
        GgmlDType::Q4_1 => "Q4_1",
        GgmlDType::Q5_0 => "Q5_0",
        GgmlDType::Q5_1 => "Q5_1",
        GgmlDType::Q8_0 => "Q8_0",
        GgmlDType::Q8_1 => "Q8_1",
        GgmlDType::Q2K => "Q2_K",
        GgmlDType::Q3K => "Q3_K",
        GgmlDType::Q4K => "Q4_K",
        GgmlDType::Q5K => "Q5_K",
        GgmlDType::Q6K => "Q6_K",
        GgmlDType::Q8K => "Q8_K",
    }
}

/// llama.cpp's `llama_ftype` names, for the numbers GGUF writers store in `general.file_type`.
fn file_type_name(n: usize) -> String {
    let name = match n {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        32 => "BF16",
        _ => return format!("type {n}"),
    };
    name.to_string()
}
