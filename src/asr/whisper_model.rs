//! Whisper in candle, in one plain file, after OpenAI's `model.py`.
//!
//! candle-transformers ships a Whisper model, but its decoder caches only the cross-attention keys
//! and values: every step re-runs self-attention over the whole token sequence, which makes long
//! transcripts quadratic. This version keeps a self-attention key/value cache per layer, computes
//! the cross-attention keys/values once per 30-second window, and can reorder its cache so that a
//! batch of beams shares one forward pass. Tensor names follow the Hugging Face checkpoints that
//! `podbrief models import-ct2` writes.

use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, Embedding, LayerNorm, VarBuilder};

use super::kernels;

pub use candle_transformers::models::whisper::Config;

/// A linear layer that may also keep a Q8_0 copy of its weight. A decoding step feeds a few rows
/// (one per beam) and streams every weight from memory: at f32 that bandwidth, not arithmetic,
/// bounds it, and Q8_0 is a quarter of it. The prompt's prefill feeds hundreds of rows, where
/// candle's Q8_0 product (one dot product per output) is far slower than its f32 GEMM, so the f32
/// weight stays for that. Where the CPU has AVX-512 VNNI the Q8_0 copy is tiled for
/// [`crate::q8`], whose product serves five beams at little more than the cost of one.
struct Linear {
    f32: candle_nn::Linear,
    q8: Option<Q8>,
}

enum Q8 {
    Tiles(crate::q8::Q8Tiles),
    Candle(QMatMul),
}

/// Up to this many rows the Q8_0 copy is used.
const Q8_MAX_ROWS: usize = 8;

impl Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let rows = x.elem_count() / x.dim(candle_core::D::Minus1)?;
        let y = match &self.q8 {
            Some(Q8::Tiles(t)) if rows <= Q8_MAX_ROWS && x.device().is_cpu() => {
                let mut dims = x.dims().to_vec();
                let values = x.flatten_all()?.to_vec1::<f32>()?;
                if let Some(last) = dims.last_mut() {
                    *last = t.dims().0;
                }
                Tensor::from_vec(t.matmul(&values), dims, x.device())?
            }
            Some(Q8::Candle(q)) if rows <= Q8_MAX_ROWS => q.forward(x)?,
            _ => return self.f32.forward(x),
        };
        match self.f32.bias() {
            Some(b) => y.broadcast_add(b),
            None => Ok(y),
        }
    }
}

fn qmatmul(w: &Tensor, q8: bool) -> Result<Option<Q8>> {
    if !q8 {
        return Ok(None);
    }
    let (n, k) = w.dims2()?;
    if w.device().is_cpu() {
        let rows =
            |r: std::ops::Range<usize>| w.narrow(0, r.start, r.len())?.flatten_all()?.to_vec1();
        if let Some(t) = crate::q8::Q8Tiles::from_f32(n, k, rows)? {
            return Ok(Some(Q8::Tiles(t)));
        }
    }
    Ok(Some(Q8::Candle(QMatMul::from_qtensor(QTensor::quantize(w, GgmlDType::Q8_0)?)?)))
}

fn linear(cin: usize, cout: usize, bias: bool, q8: bool, vb: VarBuilder) -> Result<Linear> {
    let w = vb.get((cout, cin), "weight")?;
    let q8 = qmatmul(&w, q8)?;
    let bias = if bias { Some(vb.get(cout, "bias")?) } else { None };
    Ok(Linear { f32: candle_nn::Linear::new(w, bias), q8 })
}

fn layer_norm(size: usize, vb: VarBuilder) -> Result<LayerNorm> {
    Ok(LayerNorm::new(vb.get(size, "weight")?, vb.get(size, "bias")?, 1e-5))
}

fn conv1d(cin: usize, cout: usize, stride: usize, vb: VarBuilder) -> Result<Conv1d> {
    let cfg = Conv1dConfig { padding: 1, stride, groups: 1, dilation: 1, cudnn_fwd_algo: None };
    Ok(Conv1d::new(vb.get((cout, cin, 3), "weight")?, Some(vb.get(cout, "bias")?), cfg))
}

struct Attention {
    query: Linear,
    key: Linear,
    value: Linear,
    out: Linear,
    n_head: usize,
}

impl Attention {
    /// `q8_kv` is off for cross-attention: its keys/values are projected from 1,500 audio frames
    /// once per window, a large matrix product where f32 is faster than Q8_0.
    fn load(n_state: usize, n_head: usize, q8: bool, q8_kv: bool, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            query: linear(n_state, n_state, true, q8, vb.pp("q_proj"))?,
            key: linear(n_state, n_state, false, q8_kv, vb.pp("k_proj"))?,
            value: linear(n_state, n_state, true, q8_kv, vb.pp("v_proj"))?,
            out: linear(n_state, n_state, true, q8, vb.pp("out_proj"))?,
            n_head,
        })
    }

    /// (B, T, C) → (B, H, T, C/H)
    fn heads(&self, x: &Tensor) -> Result<Tensor> {
        let (b, t, c) = x.dims3()?;
        x.reshape((b, t, self.n_head, c / self.n_head))?.transpose(1, 2)?.contiguous()
    }

    /// Keys and values of `x`, split into heads; keys pre-scaled as in OpenAI's implementation.
    fn kv(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let k = self.heads(&self.key.forward(x)?)?;
        let v = self.heads(&self.value.forward(x)?)?;
        Ok((k, v))
    }

    fn attend(&self, x: &Tensor, k: &Tensor, v: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (_, _, c) = x.dims3()?;
        let scale = ((c / self.n_head) as f64).powf(-0.5);
        let q = (self.heads(&self.query.forward(x)?)? * scale)?;
        let mut w = q.matmul(&k.t()?)?;
        if let Some(mask) = mask {
            w = w.broadcast_add(mask)?;
        }
        let w = kernels::softmax_last_dim(w)?;
        let y = w.matmul(v)?.transpose(1, 2)?.flatten_from(2)?;
        self.out.forward(&y)
    }
}

struct Block {
    attn: Attention,
    attn_ln: LayerNorm,
    cross: Option<(Attention, LayerNorm)>,
    fc1: Linear,
    fc2: Linear,
    mlp_ln: LayerNorm,
}

impl Block {
    fn load(n_state: usize, n_head: usize, cross: bool, q8: bool, vb: VarBuilder) -> Result<Self> {
        let cross = if cross {
            Some((
                Attention::load(n_state, n_head, q8, false, vb.pp("encoder_attn"))?,
                layer_norm(n_state, vb.pp("encoder_attn_layer_norm"))?,
            ))
        } else {
            None
        };
        Ok(Self {
            attn: Attention::load(n_state, n_head, q8, q8, vb.pp("self_attn"))?,
            attn_ln: layer_norm(n_state, vb.pp("self_attn_layer_norm"))?,
            cross,
            fc1: linear(n_state, 4 * n_state, true, q8, vb.pp("fc1"))?,
            fc2: linear(4 * n_state, n_state, true, q8, vb.pp("fc2"))?,
            mlp_ln: layer_norm(n_state, vb.pp("final_layer_norm"))?,
        })
    }

    fn mlp(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.fc2.forward(&kernels::gelu(self.fc1.forward(&self.mlp_ln.forward(x)?)?)?)?;
        x + h
    }
}

pub struct Encoder {
    conv1: Conv1d,
    conv2: Conv1d,
    positions: Tensor,
    blocks: Vec<Block>,
    ln_post: LayerNorm,
}

impl Encoder {
    fn load(vb: VarBuilder, cfg: &Config) -> Result<Self> {
        let n = cfg.d_model;
        let blocks = (0..cfg.encoder_layers)
            .map(|i| {
                Block::load(
                    n,
                    cfg.encoder_attention_heads,
                    false,
                    false,
                    vb.pp(format!("layers.{i}")),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            conv1: conv1d(cfg.num_mel_bins, n, 1, vb.pp("conv1"))?,
            conv2: conv1d(n, n, 2, vb.pp("conv2"))?,
            positions: vb.get((cfg.max_source_positions, n), "embed_positions.weight")?,
            blocks,
            ln_post: layer_norm(n, vb.pp("layer_norm"))?,
        })
    }

    /// (1, n_mels, 3000) log-mel → (1, 1500, d_model) audio features.
    pub fn forward(&self, mel: &Tensor) -> Result<Tensor> {
        let x = kernels::gelu(self.conv1.forward(mel)?)?;
        let x = kernels::gelu(self.conv2.forward(&x)?)?.transpose(1, 2)?;
        let t = x.dim(1)?;
        let mut x = x.broadcast_add(&self.positions.narrow(0, 0, t)?)?;
        for b in &self.blocks {
            let h = b.attn_ln.forward(&x)?;
            let (k, v) = b.attn.kv(&h)?;
            x = (&x + b.attn.attend(&h, &k, &v, None)?)?;
            x = b.mlp(&x)?;
        }
        self.ln_post.forward(&x)
    }
}

/// Per-layer caches for one decoding run over one audio window.
pub struct DecoderState {
    /// Self-attention keys/values, (B, H, capacity, hd) per layer, the first `len` positions
    /// filled: each step writes its own position in place rather than copying the whole cache
    /// into a longer one (at beam 5 those copies were a tenth of the CPU time).
    self_kv: Vec<Option<(Tensor, Tensor)>>,
    /// Cross-attention keys/values of the window's audio features, per layer, batch of one:
    /// every beam attends to the same audio, so beams are folded into the query rows instead of
    /// copying these per beam.
    cross_kv: Vec<(Tensor, Tensor)>,
    /// Tokens already in the cache (the next position index).
    pub len: usize,
}

impl DecoderState {
    /// Keeps only the rows `sources` (one per new beam), in that order; also used to widen a
    /// batch of one into a batch of beams after the prompt. Rows already in that order are left
    /// as they are, with nothing copied.
    pub fn reorder(&mut self, sources: &[u32]) -> Result<()> {
        let batch = self.self_kv.iter().flatten().next().map(|kv| kv.0.dim(0)).transpose()?;
        let same = sources.iter().enumerate().all(|(i, &s)| s as usize == i);
        if same && batch == Some(sources.len()) {
            return Ok(());
        }
        let idx = Tensor::new(sources, self.cross_kv[0].0.device())?;
        let len = self.len;
        let sel = |t: &Tensor| -> Result<Tensor> {
            let kept = t.narrow(2, 0, len)?.contiguous()?.index_select(&idx, 0)?;
            let (b, h, cap, hd) = t.dims4()?;
            // Same batch: written back in place (`kept` is a copy); otherwise a new cache.
            let out = if b == sources.len() {
                t.clone()
            } else {
                Tensor::zeros((sources.len(), h, cap, hd), t.dtype(), t.device())?
            };
            out.slice_set(&kept, 2, 0)?;
            Ok(out)
        };
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (sel(&kv.0)?, sel(&kv.1)?);
        }
        Ok(())
    }

    /// Writes `k`, `v` (B, H, t, hd) at the next positions of layer `i`'s cache; returns the
    /// filled part, past and new.
    fn append(&mut self, i: usize, k: &Tensor, v: &Tensor, cap: usize) -> Result<(Tensor, Tensor)> {
        let (b, h, t, hd) = k.dims4()?;
        let cache = match &self.self_kv[i] {
            Some(c) => c.clone(),
            None => {
                let z = || Tensor::zeros((b, h, cap, hd), k.dtype(), k.device());
                let c = (z()?, z()?);
                self.self_kv[i] = Some(c.clone());
                c
            }
        };
        cache.0.slice_set(k, 2, self.len)?;
        cache.1.slice_set(v, 2, self.len)?;
        Ok((cache.0.narrow(2, 0, self.len + t)?, cache.1.narrow(2, 0, self.len + t)?))
    }
}

pub struct Decoder {
    embed: Embedding,
    /// The token embedding again, as the output projection. On CPU it is re-quantized to Q8_0:
    /// each decoding step streams this whole matrix (vocabulary × width, 80 MB at f32 for tiny)
    /// from memory, so its size, not arithmetic, bounds the step; Q8_0 is a quarter of it.
    logits: Linear,
    positions: Tensor,
    blocks: Vec<Block>,
    ln: LayerNorm,
}

impl Decoder {
    fn load(vb: VarBuilder, cfg: &Config, q8: bool) -> Result<Self> {
        let n = cfg.d_model;
        let blocks = (0..cfg.decoder_layers)
            .map(|i| {
                Block::load(n, cfg.decoder_attention_heads, true, q8, vb.pp(format!("layers.{i}")))
            })
            .collect::<Result<Vec<_>>>()?;
        let embed = candle_nn::embedding(cfg.vocab_size, n, vb.pp("embed_tokens"))?;
        let w = embed.embeddings().clone();
        let logits = Linear { q8: qmatmul(&w, q8)?, f32: candle_nn::Linear::new(w, None) };
        Ok(Self {
            embed,
            logits,
            positions: vb.get((cfg.max_target_positions, n), "embed_positions.weight")?,
            blocks,
            ln: layer_norm(n, vb.pp("layer_norm"))?,
        })
    }

    /// Starts a run over one window: cross-attention keys/values are computed here, once.
    pub fn start(&self, audio: &Tensor) -> Result<DecoderState> {
        let cross_kv = self
            .blocks
            .iter()
            .map(|b| b.cross.as_ref().map(|(a, _)| a.kv(audio)).transpose())
            .collect::<Result<Vec<_>>>()?
            .into_iter()
            .flatten()
            .collect();
        Ok(DecoderState { self_kv: vec![None; self.blocks.len()], cross_kv, len: 0 })
    }

    /// Feeds `tokens` (B, T) after what is cached; returns logits of the last position, (B, V).
    pub fn forward(&self, tokens: &Tensor, state: &mut DecoderState) -> Result<Tensor> {
        let (_, t) = tokens.dims2()?;
        let pos = self.positions.narrow(0, state.len, t)?;
        let mut x = self.embed.forward(tokens)?.broadcast_add(&pos)?;
        let mask = if t > 1 { Some(causal_mask(state.len, t, x.device())?) } else { None };
        for (i, b) in self.blocks.iter().enumerate() {
            let h = b.attn_ln.forward(&x)?;
            let (k, v) = b.attn.kv(&h)?;
            let (k, v) = state.append(i, &k, &v, self.positions.dim(0)?)?;
            x = (&x + b.attn.attend(&h, &k, &v, mask.as_ref())?)?;
            if let Some((attn, ln)) = &b.cross {
                let (bsz, t, c) = x.dims3()?;
                let h = ln.forward(&x)?.reshape((1, bsz * t, c))?;
                let (ck, cv) = &state.cross_kv[i];
                x = (&x + attn.attend(&h, ck, cv, None)?.reshape((bsz, t, c))?)?;
            }
            x = b.mlp(&x)?;
        }
        state.len += t;
        let last = self.ln.forward(&x.narrow(1, t - 1, 1)?)?.squeeze(1)?;
        self.logits.forward(&last)
    }

    /// Logits at every position of `tokens` fed from an empty cache (B, T, V); used where the
    /// probability at an inner position matters (the no-speech probability at the start token).
    pub fn logits_at(
        &self,
        tokens: &Tensor,
        state: &mut DecoderState,
        at: usize,
    ) -> Result<(Tensor, Tensor)> {
        let (_, t) = tokens.dims2()?;
        let head = tokens.narrow(1, 0, at + 1)?;
        let at_logits = self.forward(&head, state)?;
        let rest = tokens.narrow(1, at + 1, t - at - 1)?;
        let last = if t - at - 1 > 0 { self.forward(&rest, state)? } else { at_logits.clone() };
        Ok((at_logits, last))
    }
}

/// Mask for `t` new queries that follow `past` cached positions: each may see the past and itself.
fn causal_mask(past: usize, t: usize, device: &Device) -> Result<Tensor> {
    let total = past + t;
    let mask: Vec<f32> = (0..t)
        .flat_map(|i| (0..total).map(move |j| if j > past + i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(mask, (t, total), device)
}

pub struct Whisper {
    pub encoder: Encoder,
    pub decoder: Decoder,
    pub config: Config,
}

impl Whisper {
    /// `q8_decoder` adds Q8_0 copies of the decoder's weights (see [`Linear`]). The encoder
    /// never gets them: its products over 1,500 frames ran slower in Q8_0 than in f32 (720
    /// against 610 ms a window).
    pub fn load(vb: VarBuilder, config: Config, q8_decoder: bool) -> Result<Self> {
        Ok(Self {
            encoder: Encoder::load(vb.pp("model.encoder"), &config)?,
            decoder: Decoder::load(vb.pp("model.decoder"), &config, q8_decoder)?,
            config,
        })
    }

    pub fn dtype() -> DType {
        DType::F32
    }
}
