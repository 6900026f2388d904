//! BERT encoder over packed sequences, for the CPU.
//!
//! The tokens of all sentences in a batch lie end to end in one `(tokens, hidden)` matrix.
//! Every layer except attention works token by token, so each runs as one matrix product with
//! no padding; attention runs per sentence. Residuals are accumulated in place by the products,
//! and each bias is added by the pass that follows its product (attention, activation, layer
//! norm), so neither costs a pass over memory of its own. The arithmetic is that of candle's
//! and transformers' `BertModel`.

use candle_transformers::models::bert::{Config, HiddenAct};
use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};

use super::kernels::{self, AttnScratch};

struct Dense {
    /// `(out, in)`, as stored.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Norm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    /// Query, key and value stacked: one product of width `3 * hidden` instead of three.
    qkv: Dense,
    attn_out: Dense,
    attn_norm: Norm,
    up: Dense,
    down: Dense,
    out_norm: Norm,
}

pub(super) struct PackedBert {
    hidden: usize,
    intermediate: usize,
    heads: usize,
    head_dim: usize,
    eps: f32,
    act: kernels::Act,
    vocab: usize,
    max_positions: usize,
    word_embeddings: Table,
    position_embeddings: Vec<f32>,
    /// Row 0 of the token-type table: single sentences are all type 0.
    token_type: Vec<f32>,
    embeddings_norm: Norm,
    layers: Vec<Layer>,
}

/// Activation buffers of one forward pass, kept between batches: fresh ones cost a page fault
/// and a zeroed page every 4 KiB.
#[derive(Default)]
pub(super) struct Workspace {
    x: Vec<f32>,
    qkv: Vec<f32>,
    ctx: Vec<f32>,
    up: Vec<f32>,
    attn: AttnScratch,
}

/// An embedding table left in the mapped file: a batch reads a few thousand of its 30,000
/// rows, so converting all of it up front would cost more than it saves.
struct Table {
    map: memmap2::Mmap,
    /// Byte offset of row 0 in `map`.
    offset: usize,
    dtype: Dtype,
    width: usize,
}

impl Table {
    /// Adds row `id` to `out`.
    fn add_row(&self, id: usize, out: &mut [f32]) {
        let size = if self.dtype == Dtype::F32 { 4 } else { 2 };
        let bytes = &self.map[self.offset + id * self.width * size..][..self.width * size];
        match self.dtype {
            Dtype::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<4>().0) {
                    *o += f32::from_le_bytes(*b);
                }
            }
            Dtype::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<2>().0) {
                    *o += half::f16::from_le_bytes(*b).to_f32();
                }
            }
            _ => {
                for (o, b) in out.iter_mut().zip(bytes.as_chunks::<2>().0) {
                    *o += half::bf16::from_le_bytes(*b).to_f32();
                }
            }
        }
    }
}

/// Reads tensors out of a safetensors file as `f32`, with or without the `bert.` prefix.
struct Tensors<'a> {
    st: SafeTensors<'a>,
    prefix: &'static str,
}

impl Tensors<'_> {
    fn view(
        &self,
        name: &str,
        shape: &[usize],
    ) -> Result<safetensors::tensor::TensorView<'_>, String> {
        let name = format!("{}{name}", self.prefix);
        let view = self.st.tensor(&name).map_err(|e| format!("tensor {name}: {e}"))?;
        if view.shape() != shape {
            return Err(format!("tensor {name} has shape {:?}, expected {shape:?}", view.shape()));
        }
        match view.dtype() {
            Dtype::F32 | Dtype::F16 | Dtype::BF16 => Ok(view),
            other => Err(format!("tensor {name} has unsupported type {other:?}")),
        }
    }

    fn get(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>, String> {
        let view = self.view(name, shape)?;
        let data = view.data();
        Ok(match view.dtype() {
            Dtype::F32 => {
                data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
            }
            Dtype::F16 => data
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            _ => data
                .chunks_exact(2)
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
        })
    }

    fn dense(&self, name: &str, n_in: usize, n_out: usize) -> Result<Dense, String> {
        Ok(Dense {
            weight: self.get(&format!("{name}.weight"), &[n_out, n_in])?,
            bias: self.get(&format!("{name}.bias"), &[n_out])?,
        })
    }

    fn norm(&self, name: &str, n: usize) -> Result<Norm, String> {
        Ok(Norm {
            weight: self.get(&format!("{name}.weight"), &[n])?,
            bias: self.get(&format!("{name}.bias"), &[n])?,
        })
    }
}

impl PackedBert {
    /// Builds the encoder from `model.safetensors`, mapped.
    pub(super) fn load(map: memmap2::Mmap, config: &Config) -> Result<Self, String> {
        let st = SafeTensors::deserialize(&map).map_err(|e| e.to_string())?;
        let prefix =
            if st.tensor("bert.embeddings.word_embeddings.weight").is_ok() { "bert." } else { "" };
        let t = Tensors { st, prefix };
        let h = config.hidden_size;
        let inter = config.intermediate_size;
        let layer = |i: usize| -> Result<Layer, String> {
            let p = format!("encoder.layer.{i}");
            let sa = format!("{p}.attention.self");
            let mut w = t.get(&format!("{sa}.query.weight"), &[h, h])?;
            w.extend(t.get(&format!("{sa}.key.weight"), &[h, h])?);
            w.extend(t.get(&format!("{sa}.value.weight"), &[h, h])?);
            let mut b = t.get(&format!("{sa}.query.bias"), &[h])?;
            b.extend(t.get(&format!("{sa}.key.bias"), &[h])?);
            b.extend(t.get(&format!("{sa}.value.bias"), &[h])?);
            Ok(Layer {
                qkv: Dense { weight: w, bias: b },
                attn_out: t.dense(&format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: t.norm(&format!("{p}.attention.output.LayerNorm"), h)?,
                up: t.dense(&format!("{p}.intermediate.dense"), h, inter)?,
                down: t.dense(&format!("{p}.output.dense"), inter, h)?,
                out_norm: t.norm(&format!("{p}.output.LayerNorm"), h)?,
            })
        };
        // Converting the layers' 43 MB is most of the load time: spread it over the threads.
        let layers = (0..config.num_hidden_layers)
            .into_par_iter()
            .map(layer)
            .collect::<Result<Vec<_>, _>>()?;
        let words = t.view("embeddings.word_embeddings.weight", &[config.vocab_size, h])?;
        let (offset, dtype) =
            (words.data().as_ptr() as usize - map.as_ptr() as usize, words.dtype());
        let token_types =
            t.get("embeddings.token_type_embeddings.weight", &[config.type_vocab_size, h])?;
        let position_embeddings =
            t.get("embeddings.position_embeddings.weight", &[config.max_position_embeddings, h])?;
        let embeddings_norm = t.norm("embeddings.LayerNorm", h)?;
        drop(t);
        Ok(Self {
            hidden: h,
            intermediate: inter,
            heads: config.num_attention_heads,
            head_dim: h / config.num_attention_heads,
            eps: config.layer_norm_eps as f32,
            act: match config.hidden_act {
                HiddenAct::Gelu => kernels::Act::GeluErf,
                HiddenAct::GeluApproximate => kernels::Act::GeluTanh,
                HiddenAct::Relu => kernels::Act::Relu,
            },
            vocab: config.vocab_size,
            max_positions: config.max_position_embeddings,
            word_embeddings: Table { map, offset, dtype, width: h },
            position_embeddings,
            token_type: token_types[..h].to_vec(),
            embeddings_norm,
            layers,
        })
    }

    /// Runs the encoder; the hidden states of the last layer, `(total tokens, hidden)`
    /// row-major with the sentences end to end, are left in the returned slice of `ws`.
    /// `threads > 1` splits each operation over rayon's pool; with 1 everything stays on this
    /// thread, and the caller runs several batches side by side instead.
    pub(super) fn forward<'w>(
        &self,
        seqs: &[&[u32]],
        threads: usize,
        ws: &'w mut Workspace,
    ) -> Result<&'w [f32], String> {
        let h = self.hidden;
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let eps = self.eps;
        ws.x.resize(total * h, 0.0);
        ws.qkv.resize(total * 3 * h, 0.0);
        ws.ctx.resize(total * h, 0.0);
        ws.up.resize(total * self.intermediate, 0.0);
        let Workspace { x, qkv, ctx, up, attn } = ws;

        let mut rows = x.chunks_exact_mut(h);
        for s in seqs {
            if s.len() > self.max_positions {
                return Err(format!(
                    "{} tokens exceed the model's {}",
                    s.len(),
                    self.max_positions
                ));
            }
            for (pos, &id) in s.iter().enumerate() {
                let id = id as usize;
                if id >= self.vocab {
                    return Err(format!("token id {id} outside the vocabulary ({})", self.vocab));
                }
                let position = &self.position_embeddings[pos * h..][..h];
                let Some(row) = rows.next() else { break };
                for ((r, p), t) in row.iter_mut().zip(position).zip(&self.token_type) {
                    *r = p + t;
                }
                self.word_embeddings.add_row(id, row);
            }
        }
        let en = &self.embeddings_norm;
        let zeros = vec![0f32; h];
        kernels::for_rows(x, h, threads, |r| {
            kernels::layer_norm(r, &zeros, &en.weight, &en.bias, eps)
        });

        let lens: Vec<usize> = seqs.iter().map(|s| s.len()).collect();
        let inter = self.intermediate;
        for layer in &self.layers {
            kernels::matmul(qkv, x, &layer.qkv.weight, (total, h, 3 * h), false, threads);
            self.attention(qkv, &layer.qkv.bias, ctx, &lens, threads, attn);

            // x = norm(x + ctx · W_o + b_o), accumulated in place
            kernels::matmul(x, ctx, &layer.attn_out.weight, (total, h, h), true, threads);
            let (b, n) = (&layer.attn_out.bias, &layer.attn_norm);
            kernels::for_rows(x, h, threads, |r| {
                kernels::layer_norm(r, b, &n.weight, &n.bias, eps)
            });

            // x = norm(x + act(x · W_up + b_up) · W_down + b_down)
            kernels::matmul(up, x, &layer.up.weight, (total, h, inter), false, threads);
            let (b, act) = (&layer.up.bias, self.act);
            kernels::for_rows(up, inter, threads, |r| kernels::bias_act(r, b, act));
            kernels::matmul(x, up, &layer.down.weight, (total, inter, h), true, threads);
            let (b, n) = (&layer.down.bias, &layer.out_norm);
            kernels::for_rows(x, h, threads, |r| {
                kernels::layer_norm(r, b, &n.weight, &n.bias, eps)
            });
        }
        Ok(&x[..])
    }

    fn attention(
        &self,
        qkv: &[f32],
        bias: &[f32],
        ctx: &mut [f32],
        lens: &[usize],
        threads: usize,
        scratch: &mut AttnScratch,
    ) {
        let h = self.hidden;
        let (heads, head_dim) = (self.heads, self.head_dim);
        // One (qkv, ctx) slice pair per sentence.
        let mut parts = Vec::with_capacity(lens.len());
        let (mut qkv_rest, mut ctx_rest) = (qkv, ctx);
        for &len in lens {
            let (q, qr) = qkv_rest.split_at(len * 3 * h);
            let (c, cr) = std::mem::take(&mut ctx_rest).split_at_mut(len * h);
            parts.push((q, c));
            qkv_rest = qr;
            ctx_rest = cr;
        }
        if threads > 1 {
            parts.into_par_iter().for_each_init(AttnScratch::default, |s, (q, c)| {
                kernels::attend(q, bias, c, heads, head_dim, s)
            });
        } else {
            for (q, c) in parts {
                kernels::attend(q, bias, c, heads, head_dim, scratch);
            }
        }
    }
}
