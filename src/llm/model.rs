//! A Llama-family decoder over GGUF weights: Llama (SmolLM2 and other llama-arch GGUFs) and
//! Qwen2, which differ only in q/k/v biases and the RoPE layout.
//!
//! Written here rather than taken from candle-transformers' `quantized_llama`/`quantized_qwen2`
//! because podbrief needs what those leave out: a key/value cache allocated once for the
//! context and rewindable (retries and shared prompt prefixes skip their prefill), further
//! sequences in slots of their own that one pass a token serves together (`cache`), prefill in
//! bounded chunks (a 4k prompt in one piece would need a 1 GiB attention matrix), token
//! embeddings kept quantized (the f32 copy of Qwen's 152k×896 table alone is 545 MB), and
//! Q5_0 matrices multiplied as stored with podbrief's own kernel (`q5`), where candle has only
//! scalar code (other Q4/Q5 types are re-quantized to Q8_0 on CPU). A generated token's
//! attention is its own kernel over an f16 cache (`attend`), and the projections that read one
//! input share its quantization (`fused`).

use std::sync::Arc;

use candle_core::quantized::{QMatMul, QTensor};
use candle_core::{DType, Device, Module, Tensor};

use super::LlmError;
use cache::{causal_mask, Segment, Slot};

/// Prompt tokens processed per forward pass: large enough for the matrix kernels to reach full
/// speed, small enough that the attention scores (heads × chunk × context) stay small.
const PREFILL_CHUNK: usize = 512;
/// Upper bound for one layer's attention scores during prefill.
const ATTENTION_BYTES: usize = 24 << 20;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Config {
    pub arch: String,
    pub n_layer: usize,
    pub n_head: usize,
    pub n_kv_head: usize,
    pub head_dim: usize,
    pub n_embd: usize,
    /// The context the model was trained for.
    pub train_ctx: usize,
    pub rms_eps: f32,
    pub rope_base: f32,
    /// Qwen2 GGUFs keep HF's rotate-half layout (llama.cpp's NEOX type); llama GGUFs are
    /// permuted at conversion to the interleaved layout.
    pub rope_neox: bool,
}

/// Rows of input from which a CPU matrix product dequantizes the weights and runs an f32
/// GEMM: quantized kernels re-read the weights for every row, the GEMM reuses them from cache.
const GEMM_MIN_ROWS: usize = 16;

/// A weight matrix kept quantized; prompt chunks multiply by it in 8-bit integers (K-quants,
/// where the CPU has VNNI: `int8`) or by a transient f32 copy of it (`prefill`).
struct Mat {
    q: QMatMul,
    raw: Arc<QTensor>,
}

impl Mat {
    fn new(raw: Arc<QTensor>) -> candle_core::Result<Mat> {
        Ok(Mat { q: QMatMul::from_arc(raw.clone())?, raw })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let dims = x.dims();
        let rows: usize = dims[..dims.len() - 1].iter().product();
        if rows < GEMM_MIN_ROWS || !x.device().is_cpu() {
            if let Some(y) = compact::matmul(&self.raw, x)? {
                return Ok(y);
            }
            return self.q.forward(x);
        }
        if let Some(y) = prefill::matmul(&self.raw, x)? {
            return Ok(y);
        }
        let w = self.raw.dequantize(x.device())?;
        let (n, k) = w.dims2()?;
        x.reshape((rows, k))?.matmul(&w.t()?)?.reshape(out_dims(dims, n))
    }

    /// `x · wᵀ` for each of `ws`; for a few CPU rows, the matrices of one block type in one
    /// pass over one quantized copy of `x` (`fused`), the rest one by one.
    fn forward_many(ws: &[&Mat], x: &Tensor) -> candle_core::Result<Vec<Tensor>> {
        let dims = x.dims();
        let rows: usize = dims[..dims.len() - 1].iter().product();
        let mut out: Vec<Option<Tensor>> = vec![None; ws.len()];
        if rows < GEMM_MIN_ROWS && x.device().is_cpu() {
            for (i, w) in ws.iter().enumerate() {
                // Each block type is tried once, at its first matrix.
                if ws[..i].iter().any(|v| v.raw.dtype() == w.raw.dtype()) {
                    continue;
                }
                let same: Vec<usize> =
                    (i..ws.len()).filter(|&j| ws[j].raw.dtype() == w.raw.dtype()).collect();
                let group: Vec<&QTensor> = same.iter().map(|&j| ws[j].raw.as_ref()).collect();
                if let Some(ys) = fused::matmul(&group, x)? {
                    for (j, y) in same.into_iter().zip(ys) {
                        out[j] = Some(y);
                    }
                }
            }
        }
        ws.iter().zip(out).map(|(w, y)| y.map_or_else(|| w.forward(x), Ok)).collect()
    }
}

struct Layer {
    attn_norm: Tensor,
    wq: Mat,
    wk: Mat,
    wv: Mat,
    bq: Option<Tensor>,
    bk: Option<Tensor>,
    bv: Option<Tensor>,
    wo: Mat,
    ffn_norm: Tensor,
    gate: Mat,
    up: Mat,
    down: Mat,
}

pub struct Model {
    pub config: Config,
    /// Context this instance was created for (≤ the trained context); sizes the cache.
    pub n_ctx: usize,
    embed: Arc<QTensor>,
    layers: Vec<Layer>,
    norm: Tensor,
    output: Mat,
    cos: Tensor,
    sin: Tensor,
    device: Device,
    /// Slot 0: the sequence of `forward`, for the whole context; then those of `step`.
    slots: Vec<Slot>,
}

impl Model {
    /// Forget everything after the first `pos` tokens; the next `forward` continues from there.
    pub fn rewind(&mut self, pos: usize) {
        self.rewind_slot(0, pos);
    }

    /// Feed `tokens` after what the cache holds and return the logits (f32, vocabulary-sized)
    /// that predict the token after the last of them.
    pub fn forward(&mut self, tokens: &[u32]) -> Result<Tensor, LlmError> {
        self.forward_on(0, tokens)
    }

    /// Keeps slot 0 and makes `count` more, each for `cap` positions (`count` 0 frees them).
    /// Slots already of that number and at least that capacity are kept as they are, so a
    /// caller that shares a prompt prefix across calls keeps it cached; whether they were.
    pub fn set_slots(&mut self, count: usize, cap: usize) -> bool {
        let extra = &self.slots[1..];
        if extra.len() == count && extra.iter().all(|s| s.cap >= cap) {
            return true;
        }
        self.slots.truncate(1);
        self.slots.extend((0..count).map(|_| Slot::new(self.config.n_layer, cap)));
        false
    }

    /// How many positions slot `slot` holds.
    pub fn slot_pos(&self, slot: usize) -> usize {
        self.slots.get(slot).map_or(0, |s| s.pos)
    }

    pub fn rewind_slot(&mut self, slot: usize, pos: usize) {
        if let Some(s) = self.slots.get_mut(slot) {
            s.pos = s.pos.min(pos);
        }
    }

    /// `forward` for slot `slot`: the prompt is fed in chunks, and the logits predict the
    /// token after its last.
    pub fn forward_on(&mut self, slot: usize, tokens: &[u32]) -> Result<Tensor, LlmError> {
        if tokens.is_empty() {
            return Err(LlmError::Internal("forward called with no tokens".into()));
        }
        let (pos, cap) = self.slots.get(slot).map_or((0, 0), |s| (s.pos, s.cap));
        if pos + tokens.len() > cap {
            return Err(LlmError::ContextFull { needed: pos + tokens.len(), n_ctx: cap });
        }
        let mut logits = None;
        let mut rest = tokens;
        while !rest.is_empty() {
            // Attention scores are heads × chunk × context floats: shrink chunks as the context
            // fills so they stay within ATTENTION_BYTES.
            let kv = self.slot_pos(slot) + rest.len().min(PREFILL_CHUNK);
            let fit = ATTENTION_BYTES / (4 * self.config.n_head * kv).max(1);
            let (chunk, tail) = rest.split_at(rest.len().min(fit.clamp(64, PREFILL_CHUNK)));
            logits = Some(self.pass(&[(slot, chunk)])?.squeeze(0)?);
            rest = tail;
        }
        logits.ok_or_else(|| LlmError::Internal("no logits".into()))
    }

    /// One new token for each of several slots (distinct, each ≥ 1) in a single pass; the
    /// logits after each, in order. Each row's numbers are those `forward_on` gives it alone:
    /// the matrix kernels compute every row of a small batch as they compute a single one.
    pub fn step(&mut self, tokens: &[(usize, u32)]) -> Result<Vec<Tensor>, LlmError> {
        let feeds: Vec<(usize, [u32; 1])> = tokens.iter().map(|&(s, t)| (s, [t])).collect();
        let feeds: Vec<(usize, &[u32])> = feeds.iter().map(|(s, t)| (*s, &t[..])).collect();
        let logits = self.pass(&feeds)?;
        Ok((0..feeds.len()).map(|i| logits.get(i)).collect::<candle_core::Result<_>>()?)
    }

    /// One forward pass over the new tokens of one or more slots; the logits after the last
    /// token of each, `(slots, vocabulary)`.
    fn pass(&mut self, feeds: &[(usize, &[u32])]) -> Result<Tensor, LlmError> {
        let mut segments = Vec::with_capacity(feeds.len());
        let mut start = 0;
        for &(slot, tokens) in feeds {
            let Some(s) = self.slots.get(slot) else {
                return Err(LlmError::Internal(format!("no sequence slot {slot}")));
            };
            let (len, pos, cap) = (tokens.len(), s.pos, s.cap);
            if pos + len > cap {
                return Err(LlmError::ContextFull { needed: pos + len, n_ctx: cap });
            }
            let mask = if len > 1 { Some(causal_mask(len, pos, &self.device)?) } else { None };
            let (cos, sin) = (self.cos.narrow(0, pos, len)?, self.sin.narrow(0, pos, len)?);
            segments.push(Segment { slot, start, len, pos, cap, cos, sin, mask });
            start += len;
        }
        let ids: Vec<u32> = feeds.iter().flat_map(|(_, t)| t.iter().copied()).collect();
        let ids = Tensor::new(ids, &self.device)?;
        let mut x = self.embed.embedding(&ids)?.unsqueeze(0)?;
        for (l, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x, &self.config, &segments, &mut self.slots, l)?;
        }
        for seg in &segments {
            self.slots[seg.slot].pos += seg.len;
        }
        let x = match segments.as_slice() {
            [one] => x.narrow(1, one.len - 1, 1)?,
            _ => {
                let last: Vec<u32> =
                    segments.iter().map(|s| (s.start + s.len - 1) as u32).collect();
                x.index_select(&Tensor::new(last, &self.device)?, 1)?
            }
        };
        let x = candle_nn::ops::rms_norm(&x, &self.norm, self.config.rms_eps)?;
        Ok(self.output.forward(&x)?.squeeze(0)?.to_dtype(DType::F32)?)
    }
}

impl Layer {
    /// The layer over the new rows of every segment; each segment attends to its own slot.
    fn forward(
        &self,
        x: &Tensor,
        c: &Config,
        segments: &[Segment],
        slots: &mut [Slot],
        l: usize,
    ) -> Result<Tensor, LlmError> {
        let (b, s, _) = x.dims3()?;
        let h = candle_nn::ops::rms_norm(x, &self.attn_norm, c.rms_eps)?;
        let proj =
            |y: Tensor, bias: &Option<Tensor>, heads: usize| -> candle_core::Result<Tensor> {
                let y = match bias {
                    Some(bias) => y.broadcast_add(bias)?,
                    None => y,
                };
                y.reshape((b, s, heads, c.head_dim))?.transpose(1, 2)?.contiguous()
            };
        let [q, k, v]: [Tensor; 3] = Mat::forward_many(&[&self.wq, &self.wk, &self.wv], &h)?
            .try_into()
            .map_err(|_| candle_core::Error::Msg("three projections expected".into()))?;
        let q = proj(q, &self.bq, c.n_head)?;
        let k = proj(k, &self.bk, c.n_kv_head)?;
        let v = proj(v, &self.bv, c.n_kv_head)?;
        let part = |t: &Tensor, seg: &Segment| match segments {
            [_] => Ok(t.clone()),
            _ => t.narrow(2, seg.start, seg.len)?.contiguous(),
        };
        let rope =
            if c.rope_neox { candle_nn::rotary_emb::rope } else { candle_nn::rotary_emb::rope_i };
        let mut ys = Vec::with_capacity(segments.len());
        for seg in segments {
            let q = rope(&part(&q, seg)?, &seg.cos, &seg.sin)?;
            let k = rope(&part(&k, seg)?, &seg.cos, &seg.sin)?;
            let (k, v) = slots[seg.slot].layers[l].append(&k, &part(&v, seg)?, seg.pos, seg.cap)?;
            ys.push(attention(c, &q, &k, &v, seg)?);
        }
        let y = if ys.len() == 1 { ys.swap_remove(0) } else { Tensor::cat(&ys, 1)? };
        let x = (x + self.wo.forward(&y)?)?;

        let h = candle_nn::ops::rms_norm(&x, &self.ffn_norm, c.rms_eps)?;
        let [g, u]: [Tensor; 2] = Mat::forward_many(&[&self.gate, &self.up], &h)?
            .try_into()
            .map_err(|_| candle_core::Error::Msg("two projections expected".into()))?;
        let y = self.down.forward(&(candle_nn::ops::silu(&g)? * u)?)?;
        Ok((x + y)?)
    }
}

/// One segment's attention over its slot's keys and values (through its new rows), as
/// `(1, rows, width)`. Grouped-query attention without copying keys per head: the query heads
/// that share a kv head become extra rows of one matrix product.
fn attention(
    c: &Config,
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    seg: &Segment,
) -> candle_core::Result<Tensor> {
    if seg.len == 1 {
        if let Some(y) = attend::one_row(q, k, v)? {
            return Ok(y);
        }
    }
    let (k, v) = (k.to_dtype(q.dtype())?, v.to_dtype(q.dtype())?);
    let (k, v) = (&k, &v);
    let (b, s, kv_len) = (q.dim(0)?, seg.len, seg.pos + seg.len);
    let rep = c.n_head / c.n_kv_head;
    let q = (q.reshape((b, c.n_kv_head, rep * s, c.head_dim))? * (c.head_dim as f64).powf(-0.5))?;
    let att = q.matmul(&k.t()?)?;
    let att =
        match &seg.mask {
            Some(m) => att
                .reshape((b, c.n_kv_head, rep, s, kv_len))?
                .broadcast_add(m)?
                .reshape((b, c.n_kv_head, rep * s, kv_len))?,
            None => att,
        };
    let att = candle_nn::ops::softmax_last_dim(&att)?;
    let y = att.matmul(v)?;
    y.reshape((b, c.n_head, s, c.head_dim))?.transpose(1, 2)?.reshape((b, s, c.n_embd))
}

fn rope_tables(c: &Config, n_ctx: usize, device: &Device) -> Result<(Tensor, Tensor), LlmError> {
    let half = c.head_dim / 2;
    let inv: Vec<f32> =
        (0..half).map(|i| 1.0 / c.rope_base.powf(2.0 * i as f32 / c.head_dim as f32)).collect();
    let inv = Tensor::from_vec(inv, (1, half), device)?;
    let t =
        Tensor::arange(0u32, n_ctx as u32, device)?.to_dtype(DType::F32)?.reshape((n_ctx, 1))?;
    let freqs = t.broadcast_mul(&inv)?;
    Ok((freqs.cos()?, freqs.sin()?))
}

/// `dims` with the last dimension (the input width of a matrix product) set to `n`.
fn out_dims(dims: &[usize], n: usize) -> Vec<usize> {
    let mut out = dims.to_vec();
    if let Some(last) = out.last_mut() {
        *last = n;
    }
    out
}

/// The blocks of a quantized matrix as stored, typed, for calling block kernels directly; `None`
/// when `T` is not its block type's layout or the storage is not lent (a GPU tensor: a copy is
/// not worth the trouble).
fn stored_blocks<T: candle_core::quantized::k_quants::GgmlType>(
    w: &QTensor,
) -> candle_core::Result<Option<&[T]>> {
    let (n, k) = w.shape().dims2()?;
    let std::borrow::Cow::Borrowed(bytes) = w.data()? else { return Ok(None) };
    let size = std::mem::size_of::<T>();
    let aligned = bytes.as_ptr().align_offset(std::mem::align_of::<T>()) == 0;
    let count = n * (k / T::BLCK_SIZE);
    if !aligned || k % T::BLCK_SIZE != 0 || bytes.len() != count * size {
        return Ok(None);
    }
    // SAFETY: the bytes are candle's own CPU storage of this tensor, whose blocks have T's
    // layout (the callers match T to the dtype), aligned and exactly `count` blocks, as checked
    // above; they live as long as `w`.
    Ok(Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const T, count) }))
}

mod attend;
mod cache;
mod compact;
mod fused;
mod int8;
mod load;
mod prefill;
mod q5;
#[cfg(test)]
mod reference;

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
