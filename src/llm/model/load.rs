//! Building a `Model` from a GGUF: reading the hyper-parameters, reading each tensor, and
//! converting it for the device it will run on.

use std::sync::Arc;

use candle_core::quantized::{GgmlDType, QStorage, QTensor};
use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::{rope_tables, Config, Layer, Mat, Model, Slot};
use crate::llm::gguf::{Gguf, SUPPORTED_ARCHS};
use crate::llm::LlmError;

impl Config {
    pub fn from_gguf(g: &Gguf) -> Result<Config, LlmError> {
        let arch = g.architecture()?;
        if !SUPPORTED_ARCHS.contains(&arch.as_str()) {
            return Err(LlmError::UnsupportedArch { path: g.path.clone(), arch });
        }
        let k = |s: &str| format!("{arch}.{s}");
        let n_embd = g.usize(&k("embedding_length"))?;
        let n_head = g.usize(&k("attention.head_count"))?;
        let n_kv_head = g.usize(&k("attention.head_count_kv")).unwrap_or(n_head);
        if n_head == 0 || n_kv_head == 0 || n_head % n_kv_head != 0 || n_embd % n_head != 0 {
            return Err(LlmError::BadGguf {
                path: g.path.clone(),
                reason: format!(
                    "inconsistent heads: {n_head} heads, {n_kv_head} kv heads, width {n_embd}"
                ),
            });
        }
        let head_dim = n_embd / n_head;
        if let Ok(rope_dim) = g.usize(&k("rope.dimension_count")) {
            if rope_dim != head_dim {
                return Err(LlmError::BadGguf {
                    path: g.path.clone(),
                    reason: format!(
                        "partial rotary embeddings ({rope_dim} of {head_dim}) are not supported"
                    ),
                });
            }
        }
        Ok(Config {
            n_layer: g.usize(&k("block_count"))?,
            n_head,
            n_kv_head,
            head_dim,
            n_embd,
            train_ctx: g.usize(&k("context_length"))?,
            rms_eps: g.f32(&k("attention.layer_norm_rms_epsilon"))?,
            rope_base: g.f32(&k("rope.freq_base")).unwrap_or(10_000.0),
            rope_neox: arch == "qwen2",
            arch,
        })
    }
}

struct Loader<'a> {
    g: &'a mut Gguf,
    device: &'a Device,
}

impl Loader<'_> {
    fn raw(&mut self, name: &str) -> Result<QTensor, LlmError> {
        if !self.has(name) {
            return Err(LlmError::BadGguf {
                path: self.g.path.clone(),
                reason: format!("tensor '{name}' is missing"),
            });
        }
        // Read to the CPU first: re-quantization happens there, and the GPU copy follows.
        let g = &mut *self.g;
        g.content.tensor(&mut g.reader, name, &Device::Cpu).map_err(|e| LlmError::BadGguf {
            path: g.path.clone(),
            reason: format!(
                "cannot read tensor '{name}': {}",
                e.to_string().lines().next().unwrap_or_default()
            ),
        })
    }

    fn has(&self, name: &str) -> bool {
        self.g.content.tensor_infos.contains_key(name)
    }

    fn vector(&mut self, name: &str) -> Result<Tensor, LlmError> {
        Ok(self.raw(name)?.dequantize(self.device)?)
    }
}

/// Q4_0, Q4_1 and Q5_1 blocks have only scalar kernels in candle's CPU backend, and so does
/// Q5_0 where podbrief's own ([`super::q5`]) cannot run; Q8_0 costs a little memory and runs
/// several times faster. GPUs have kernels for every type, so they keep the file's.
fn prepare(t: QTensor, device: &Device) -> Result<QTensor, LlmError> {
    let slow = match t.dtype() {
        GgmlDType::Q4_0 | GgmlDType::Q4_1 | GgmlDType::Q5_1 => true,
        GgmlDType::Q5_0 => !super::q5::fast(),
        _ => false,
    };
    if !device.is_cpu() {
        let bytes = t.data()?;
        return Ok(QTensor::new(QStorage::from_data(bytes, device, t.dtype())?, t.shape())?);
    }
    if !slow || t.rank() != 2 {
        return Ok(t);
    }
    // Row slices at a time: the f32 copy of a whole embedding table would be 0.5 GB.
    let (n, k) = t.shape().dims2()?;
    let row_bytes = k / t.dtype().block_size() * t.dtype().type_size();
    let data = t.data()?;
    let mut out = Vec::with_capacity(n * k / 32 * GgmlDType::Q8_0.type_size());
    for start in (0..n).step_by(4096) {
        let rows = (n - start).min(4096);
        let slice = &data[start * row_bytes..(start + rows) * row_bytes];
        let part = QTensor::new(
            QStorage::from_data(std::borrow::Cow::Borrowed(slice), &Device::Cpu, t.dtype())?,
            (rows, k),
        )?;
        let q8 = QTensor::quantize(&part.dequantize(&Device::Cpu)?, GgmlDType::Q8_0)?;
        out.extend_from_slice(&q8.data()?);
    }
    let storage = QStorage::from_data(std::borrow::Cow::Owned(out), &Device::Cpu, GgmlDType::Q8_0)?;
    Ok(QTensor::new(storage, (n, k))?)
}

impl Model {
    pub fn load(g: &mut Gguf, device: &Device, n_ctx: usize) -> Result<Model, LlmError> {
        let config = Config::from_gguf(g)?;
        let n_ctx = n_ctx.clamp(1, config.train_ctx);
        let mut l = Loader { g, device };

        // Read a few matrices at a time (sequential I/O) and convert each group in parallel,
        // so that at most one group exists twice, as read and as converted.
        const MATS: [&str; 7] =
            ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"];
        let tied = !l.has("output.weight");
        let mut names = vec!["token_embd.weight".to_string()];
        if !tied {
            names.push("output.weight".into());
        }
        for i in 0..config.n_layer {
            names.extend(MATS.iter().map(|m| format!("blk.{i}.{m}.weight")));
        }
        let mut converted = Vec::with_capacity(names.len());
        for group in names.chunks(MATS.len()) {
            let raw = group.iter().map(|n| l.raw(n)).collect::<Result<Vec<_>, _>>()?;
            let done: Vec<_> = raw
                .into_par_iter()
                .map(|t| prepare(t, device).map(Arc::new))
                .collect::<Result<_, _>>()?;
            converted.extend(done);
        }
        let mut mats = converted.into_iter();
        let mut next = || mats.next().ok_or_else(|| LlmError::Internal("tensor count".into()));
        let embed = next()?;
        let output = if tied { embed.clone() } else { next()? };

        let mut layers = Vec::with_capacity(config.n_layer);
        for i in 0..config.n_layer {
            let p = format!("blk.{i}");
            let mut mm = || -> Result<Mat, LlmError> { Ok(Mat::new(next()?)?) };
            let (wq, wk, wv, wo, gate, up, down) =
                (mm()?, mm()?, mm()?, mm()?, mm()?, mm()?, mm()?);
            let mut bias = |n: &str| -> Result<Option<Tensor>, LlmError> {
                let name = format!("{p}.{n}.bias");
                if l.has(&name) {
                    Ok(Some(l.vector(&name)?))
                } else {
                    Ok(None)
                }
            };
            let (bq, bk, bv) = (bias("attn_q")?, bias("attn_k")?, bias("attn_v")?);
            layers.push(Layer {
                attn_norm: l.vector(&format!("{p}.attn_norm.weight"))?,
                ffn_norm: l.vector(&format!("{p}.ffn_norm.weight"))?,
                wq,
                wk,
                wv,
                bq,
                bk,
                bv,
                wo,
                gate,
                up,
                down,
            });
        }
        let norm = l.vector("output_norm.weight")?;
        let (cos, sin) = rope_tables(&config, n_ctx, device)?;
        Ok(Model {
            n_ctx,
            embed,
            layers,
            norm,
            output: Mat::new(output)?,
            cos,
            sin,
            device: device.clone(),
            slots: vec![Slot::new(config.n_layer, n_ctx)],
            config,
        })
    }
}
