//! The CPU arithmetic of the packed encoder, on plain row-major `f32` slices.
//!
//! Written as simple loops over fixed-width chunks so that LLVM vectorises them (AVX2 with the
//! crate's `x86-64-v3` target). Going through candle tensors instead cost a fresh buffer and a
//! synchronised pass over memory per operation; profiles of that version spent more time in
//! scalar `erf`/`exp`, bias additions and thread barriers than in the matrix products.

use gemm::Parallelism;

use crate::vecmath::{exp_inplace, gelu_erf_inplace, gelu_tanh_inplace, max, sum};
use rayon::prelude::*;

/// `dst[m, n] = a[m, k] · b[n, k]ᵀ`, or `+=` with `accumulate`; all row-major and contiguous.
/// `b` is a linear layer's weight as stored, `(out, in)`: gemm packs it into panels either
/// way, so it is never transposed in memory.
pub(super) fn matmul(
    dst: &mut [f32],
    a: &[f32],
    b: &[f32],
    (m, k, n): (usize, usize, usize),
    accumulate: bool,
    threads: usize,
) {
    assert!(dst.len() == m * n && a.len() == m * k && b.len() == k * n, "matmul shapes");
    if m == 0 || n == 0 {
        return;
    }
    let parallelism = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    // SAFETY: the assert above guarantees every element the strides reach lies inside its
    // slice; `dst` is borrowed mutably, so it cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            k as isize,
            1,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// Runs `f` on row blocks of `data` (rows of `width`), in parallel when `threads > 1`.
pub(super) fn for_rows(
    data: &mut [f32],
    width: usize,
    threads: usize,
    f: impl Fn(&mut [f32]) + Sync + Send,
) {
    let rows = data.len() / width.max(1);
    if threads <= 1 || rows < 2 * threads {
        f(data);
        return;
    }
    let per = rows.div_ceil(threads * 4).max(1);
    data.par_chunks_mut(per * width).for_each(f);
}

/// Layer normalisation of every row, in place (biased variance, as torch), after adding
/// `add` to each row: the bias of the product that produced the rows, so that it costs no
/// pass of its own.
pub(super) fn layer_norm(rows: &mut [f32], add: &[f32], weight: &[f32], bias: &[f32], eps: f32) {
    let width = weight.len();
    for row in rows.chunks_exact_mut(width) {
        row.iter_mut().zip(add).for_each(|(x, a)| *x += a);
        let mean = sum(row) / width as f32;
        let mut sq = [0f32; 8];
        let (chunks, rest) = row.as_chunks::<8>();
        for c in chunks {
            for l in 0..8 {
                let d = c[l] - mean;
                sq[l] += d * d;
            }
        }
        let var =
            sq.iter().sum::<f32>() + rest.iter().map(|x| (x - mean) * (x - mean)).sum::<f32>();
        let rstd = 1.0 / (var / width as f32 + eps).sqrt();
        for ((x, w), b) in row.iter_mut().zip(weight).zip(bias) {
            *x = (*x - mean) * rstd * w + b;
        }
    }
}

/// The activation of the intermediate layer, in place, after adding `bias` to each row.
pub(super) fn bias_act(rows: &mut [f32], bias: &[f32], act: Act) {
    for row in rows.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(x, b)| *x += b);
        match act {
            Act::GeluErf => gelu_erf_inplace(row),
            Act::GeluTanh => gelu_tanh_inplace(row),
            Act::Relu => row.iter_mut().for_each(|x| *x = x.max(0.0)),
        }
    }
}

#[derive(Clone, Copy)]
pub(super) enum Act {
    GeluErf,
    GeluTanh,
    Relu,
}

/// Scratch buffers for [`attend`], reused across heads and sentences.
#[derive(Default)]
pub(super) struct AttnScratch {
    keys_t: Vec<f32>,
    scores: Vec<f32>,
    queries: Vec<f32>,
}

/// Queries per pass over the keys: each key vector loaded serves this many score rows, and
/// their sums form independent chains, so the loop runs at FMA throughput, not latency.
const QUERY_BLOCK: usize = 4;

/// Self-attention of one sentence: `qkv` holds its `len` rows of `[q | k | v]` (each `hidden`
/// wide, heads side by side) before the projection's `bias` (`3 * hidden`) is added, `ctx`
/// receives the `len` rows of attention output.
///
/// The bias costs nothing here: q and k are copied anyway (scaled, transposed), and since the
/// attention weights of a row sum to one, the value bias passes straight to the output.
pub(super) fn attend(
    qkv: &[f32],
    bias: &[f32],
    ctx: &mut [f32],
    heads: usize,
    head_dim: usize,
    scratch: &mut AttnScratch,
) {
    let hidden = heads * head_dim;
    let len = ctx.len() / hidden;
    if len == 0 {
        return;
    }
    // Score rows padded to whole 8-lane vectors (the padding keys are zero, and the padded
    // scores are left out of the softmax), so no loop has a scalar remainder.
    let width = len.next_multiple_of(8);
    let chunks_per_row = width / 8;
    let scale = 1.0 / (head_dim as f32).sqrt();
    scratch.keys_t.clear();
    scratch.keys_t.resize(head_dim * width, 0.0);
    scratch.scores.resize(QUERY_BLOCK * width, 0.0);
    scratch.queries.resize(QUERY_BLOCK * head_dim, 0.0);
    for h in 0..heads {
        let q_off = h * head_dim;
        let k_off = hidden + h * head_dim;
        let v_off = 2 * hidden + h * head_dim;
        // Keys transposed to (head_dim, width): a score row is then a sum of `head_dim` scaled
        // key rows, plain vector work with no horizontal reductions.
        let k_bias = &bias[k_off..][..head_dim];
        for j in 0..len {
            let k = &qkv[j * 3 * hidden + k_off..][..head_dim];
            for (t, (&kv, &kb)) in k.iter().zip(k_bias).enumerate() {
                scratch.keys_t[t * width + j] = kv + kb;
            }
        }
        let q_bias = &bias[q_off..][..head_dim];
        let v_bias = &bias[v_off..][..head_dim];
        let (keys_t, _) = scratch.keys_t.as_chunks::<8>();
        for i0 in (0..len).step_by(QUERY_BLOCK) {
            let rows = QUERY_BLOCK.min(len - i0);
            // The block's queries, scaled; missing rows of the last block stay zero.
            scratch.queries.fill(0.0);
            for r in 0..rows {
                let q = &qkv[(i0 + r) * 3 * hidden + q_off..][..head_dim];
                let dst = &mut scratch.queries[r * head_dim..][..head_dim];
                for ((d, &s), &b) in dst.iter_mut().zip(q).zip(q_bias) {
                    *d = (s + b) * scale;
                }
            }
            let queries = &scratch.queries;
            for c in 0..chunks_per_row {
                let mut acc = [[0f32; 8]; QUERY_BLOCK];
                for t in 0..head_dim {
                    let k = &keys_t[t * chunks_per_row + c];
                    for (r, acc) in acc.iter_mut().enumerate() {
                        let q = queries[r * head_dim + t];
                        for l in 0..8 {
                            acc[l] = q.mul_add(k[l], acc[l]);
                        }
                    }
                }
                for (r, acc) in acc.iter().enumerate() {
                    scratch.scores[r * width + c * 8..][..8].copy_from_slice(acc);
                }
            }
            for r in 0..rows {
                let i = i0 + r;
                let scores = &mut scratch.scores[r * width..][..len];
                let max = max(scores);
                scores.iter_mut().for_each(|s| *s -= max);
                exp_inplace(scores);
                let inv = 1.0 / sum(scores);
                let out = &mut ctx[i * hidden + q_off..][..head_dim];
                let values = &qkv[v_off..];
                match head_dim {
                    32 => weighted_sum::<4>(scores, values, 3 * hidden, out),
                    64 => weighted_sum::<8>(scores, values, 3 * hidden, out),
                    _ => weighted_sum_any(scores, values, 3 * hidden, out),
                }
                out.iter_mut().zip(v_bias).for_each(|(o, b)| *o = *o * inv + b);
            }
        }
    }
}

/// `out = Σ_j weights[j] · values[j * stride..][..out.len()]` for `out.len() == 8 * C`: the
/// sum stays in registers, where a slice accumulator would go through memory at every `j`.
fn weighted_sum<const C: usize>(weights: &[f32], values: &[f32], stride: usize, out: &mut [f32]) {
    let mut acc = [[0f32; 8]; C];
    for (j, &p) in weights.iter().enumerate() {
        let (v, _) = values[j * stride..][..8 * C].as_chunks::<8>();
        for (a, v) in acc.iter_mut().zip(v) {
            for l in 0..8 {
                a[l] = p.mul_add(v[l], a[l]);
            }
        }
    }
    for (o, a) in out.as_chunks_mut::<8>().0.iter_mut().zip(&acc) {
        *o = *a;
    }
}

fn weighted_sum_any(weights: &[f32], values: &[f32], stride: usize, out: &mut [f32]) {
    out.fill(0.0);
    for (j, &p) in weights.iter().enumerate() {
        let v = &values[j * stride..][..out.len()];
        out.iter_mut().zip(v).for_each(|(o, v)| *o = p.mul_add(*v, *o));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_unit_rows() {
        let mut rows: Vec<f32> = (0..20).map(|i| i as f32).collect();
        layer_norm(&mut rows, &[5.0; 10], &[1.0; 10], &[0.0; 10], 1e-12);
        for row in rows.chunks(10) {
            let mean: f32 = row.iter().sum::<f32>() / 10.0;
            let var: f32 = row.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / 10.0;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4);
        }
    }

    #[test]
    fn matmul_accumulates() {
        let a = [1.0, 2.0, 3.0, 4.0]; // 2x2
        let b = [5.0, 8.0, 6.0, 9.0, 7.0, 10.0]; // 3x2, the transpose of [[5, 6, 7], [8, 9, 10]]
        let mut dst = vec![1.0; 6];
        matmul(&mut dst, &a, &b, (2, 2, 3), true, 1);
        assert_eq!(dst, vec![22.0, 25.0, 28.0, 48.0, 55.0, 62.0]);
        matmul(&mut dst, &a, &b, (2, 2, 3), false, 1);
        assert_eq!(dst, vec![21.0, 24.0, 27.0, 47.0, 54.0, 61.0]);
    }
}
