//! Converts a CTranslate2 Whisper directory into the files our two backends load.
//!
//! Output: Hugging Face-named `model.safetensors` + `config.json` + `tokenizer.json` for
//! candle, and `ggml-model.bin` for whisper.cpp. Only names and fusion differ from the source,
//! so the conversion is exact (int8 weights, if any, are dequantized to f16). Each file is
//! written to a temporary name and renamed when complete, so an interrupted import never
//! leaves a truncated model that would later fail to load in confusing ways.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

use safetensors::{Dtype, View};
use serde_json::{json, Value};

use super::whisper::{whisper_dims, whisper_tensors, WhisperDims, WhisperTensor};
use super::{io_err, read_model, Ct2Error};
use crate::models::ggml::{self, ElemType, GgmlTensor};
use crate::models::mel_filters::mel_filters;

/// What [`import_ct2`] produced.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub dims: WhisperDims,
    pub tensors: usize,
    /// Output files, in the order written (`config.json` last, so its presence means done).
    pub files: Vec<PathBuf>,
}

/// Streams a tensor to safetensors' writer, reporting bytes as they are handed over.
struct ProgressView<'t, 'a> {
    tensor: &'t WhisperTensor<'a>,
    done: &'t Cell<u64>,
    report: &'t dyn Fn(u64),
}

impl View for ProgressView<'_, '_> {
    fn dtype(&self) -> Dtype {
        match self.tensor.elem {
            ElemType::F32 => Dtype::F32,
            ElemType::F16 => Dtype::F16,
            ElemType::BF16 => Dtype::BF16,
        }
    }
    fn shape(&self) -> &[usize] {
        &self.tensor.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        self.done.set(self.done.get() + self.tensor.data.len() as u64);
        (self.report)(self.done.get());
        Cow::Borrowed(&self.tensor.data)
    }
    fn data_len(&self) -> usize {
        self.tensor.data.len()
    }
}

/// Writes `name` in `dir` through a temporary file that is renamed into place only once
/// complete, so an interrupted import never leaves a truncated model behind.
fn write_atomic(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&mut tempfile::NamedTempFile) -> Result<(), Ct2Error>,
) -> Result<PathBuf, Ct2Error> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".import-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o644));
    }
    let mut tmp = builder.tempfile_in(dir).map_err(io_err(dir))?;
    write(&mut tmp)?;
    let path = dir.join(name);
    tmp.as_file().sync_all().map_err(io_err(&path))?;
    tmp.persist(&path).map_err(|e| Ct2Error::Io { path: path.clone(), source: e.error })?;
    Ok(path)
}

fn read_json(path: &Path) -> Result<Value, Ct2Error> {
    let text = fs::read(path).map_err(io_err(path))?;
    serde_json::from_slice(&text)
        .map_err(|e| Ct2Error::Corrupt { path: path.into(), reason: e.to_string() })
}

/// `config.json` as candle's `whisper::Config` (and transformers' `WhisperConfig`) reads it,
/// carrying CT2's decoding metadata over under the Hugging Face names.
///
/// Its bytes are pinned in `models.toml`, so they must not depend on how `serde_json` happens
/// to order map keys (insertion order with its `preserve_order` feature, sorted without): every
/// object is written with its keys sorted by byte order, at every level, whatever the features.
fn hf_config(d: &WhisperDims, elem: ElemType, ct2_config: &Value, tokenizer: &Value) -> Value {
    let h = &d.hparams;
    let token_id = |content: &str| {
        let added = tokenizer.get("added_tokens").and_then(Value::as_array);
        let mut added = added.into_iter().flatten();
        let t = added.find(|t| t.get("content").and_then(Value::as_str) == Some(content));
        t.and_then(|t| t.get("id")).cloned().unwrap_or(Value::Null)
    };
    let (eot, sot) = (token_id("<|endoftext|>"), token_id("<|startoftranscript|>"));
    let carried = |key: &str| ct2_config.get(key).cloned().unwrap_or_else(|| json!([]));
    let dtype = match elem {
        ElemType::F32 => "float32",
        ElemType::F16 => "float16",
        ElemType::BF16 => "bfloat16",
    };
    let mut config = json!({
        "architectures": ["WhisperForConditionalGeneration"],
        "model_type": "whisper",
        "torch_dtype": dtype,
        "num_mel_bins": h.n_mels,
        "max_source_positions": h.n_audio_ctx,
        "d_model": h.n_audio_state,
        "encoder_attention_heads": h.n_audio_head,
        "encoder_layers": h.n_audio_layer,
        "encoder_ffn_dim": d.ffn_dim,
        "decoder_attention_heads": h.n_text_head,
        "decoder_layers": h.n_text_layer,
        "decoder_ffn_dim": d.ffn_dim,
        "num_hidden_layers": h.n_audio_layer,
        "vocab_size": h.n_vocab,
        "max_target_positions": h.n_text_ctx,
        "activation_function": "gelu",
        "scale_embedding": false,
        "bos_token_id": sot,
        "eos_token_id": eot,
        "pad_token_id": eot,
        "decoder_start_token_id": sot,
        "suppress_tokens": carried("suppress_ids"),
        "begin_suppress_tokens": carried("suppress_ids_begin"),
        "alignment_heads": carried("alignment_heads"),
        "lang_ids": carried("lang_ids"),
    });
    config.sort_all_objects();
    config
}

/// Converts the CTranslate2 Whisper directory `src_dir` into `out_dir`: `model.safetensors`,
/// `ggml-model.bin`, `tokenizer.json`, `config.json`. `progress(done, total)` is in abstract
/// units (reading, safetensors and ggml each count for the size of `model.bin`).
pub fn import_ct2(
    src_dir: &Path,
    out_dir: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<ImportReport, Ct2Error> {
    let model_path = src_dir.join("model.bin");
    let tokenizer_path = src_dir.join("tokenizer.json");
    for required in [&model_path, &tokenizer_path] {
        if !required.is_file() {
            let reason = format!("{} not found", required.display());
            return Err(Ct2Error::NotCt2 { path: src_dir.into(), reason });
        }
    }
    // Writing into the source would replace CTranslate2's own config.json and tokenizer.json.
    let same_dir = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
    if same_dir(src_dir, out_dir) {
        return Err(Ct2Error::SameDirectory(out_dir.into()));
    }
    let len = fs::metadata(&model_path).map_err(io_err(&model_path))?.len().max(1);
    let total = 3 * len;
    let model = read_model(&model_path, &mut |done| progress(done.min(len), total))?;
    let dims = whisper_dims(&model)?;
    let tensors = whisper_tensors(&model, &dims)?;
    let tensor_bytes: u64 = tensors.iter().map(|t| t.data.len() as u64).sum::<u64>().max(1);
    let scaled = |phase: u64, done: u64| {
        let part = (done as u128 * len as u128 / tensor_bytes as u128) as u64;
        progress(phase * len + part.min(len), total)
    };

    let tokenizer_text = fs::read(&tokenizer_path).map_err(io_err(&tokenizer_path))?;
    let tokenizer: Value = serde_json::from_slice(&tokenizer_text)
        .map_err(|e| Ct2Error::Corrupt { path: tokenizer_path.clone(), reason: e.to_string() })?;
    let vocab = ggml::vocab_from_tokenizer_json(&tokenizer)
        .map_err(|reason| Ct2Error::Corrupt { path: tokenizer_path.clone(), reason })?;
    // Old conversions have no config.json; its suppress lists then default to empty.
    let config_path = src_dir.join("config.json");
    let ct2_config = if config_path.is_file() { read_json(&config_path)? } else { json!({}) };
    let elem = tensors
        .iter()
        .find(|t| t.hf_name.ends_with("embed_tokens.weight"))
        .map_or(ElemType::F32, |t| t.elem);

    fs::create_dir_all(out_dir).map_err(io_err(out_dir))?;
    let mut files = Vec::new();
    files.push(write_atomic(out_dir, "model.safetensors", |tmp| {
        let done = Cell::new(0);
        let report = |d: u64| scaled(1, d);
        let views = tensors.iter().map(|t| {
            (t.hf_name.as_str(), ProgressView { tensor: t, done: &done, report: &report })
        });
        let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
        Ok(safetensors::serialize_to_file(views, Some(meta), tmp.path())?)
    })?);
    let ggml_path = out_dir.join("ggml-model.bin");
    files.push(write_atomic(out_dir, "ggml-model.bin", |tmp| {
        let records: Vec<GgmlTensor> = tensors
            .iter()
            .map(|t| GgmlTensor {
                name: &t.openai_name,
                shape: &t.shape,
                elem: t.elem,
                data: &t.data,
            })
            .collect();
        let mut w = BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        let filters = mel_filters(dims.hparams.n_mels);
        ggml::write_ggml(&mut w, &dims.hparams, &filters, &vocab, &records, &mut |d| scaled(2, d))
            .map_err(io_err(&ggml_path))
    })?);
    files.push(write_atomic(out_dir, "tokenizer.json", |tmp| {
        let dest = out_dir.join("tokenizer.json");
        io::Write::write_all(tmp, &tokenizer_text).map_err(io_err(&dest))
    })?);
    let config = hf_config(&dims, elem, &ct2_config, &tokenizer);
    files.push(write_atomic(out_dir, "config.json", |tmp| {
        let dest = out_dir.join("config.json");
        let text = serde_json::to_vec_pretty(&config).map_err(io::Error::from);
        io::Write::write_all(tmp, &text.map_err(io_err(&dest))?).map_err(io_err(&dest))
    })?);
    progress(total, total);
    Ok(ImportReport { dims, tensors: tensors.len(), files })
}
