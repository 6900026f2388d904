//! The CPU arithmetic of the packed encoder, on plain row-major `f32` slices.
//!
//! Written as simple loops over fixed-width chunks so that LLVM vectorises them (AVX2 with the
//! crate's `x86-64-v3` target). Going through candle tensors instead cost a fresh buffer and a
//! synchronised pass over memory per operation; profiles of that version spent more time in
//! scalar `erf`/`exp`, bias additions and thread barriers than in the matrix products.

use gemm::Parallelism;
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

fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (chunks, rest) = xs.as_chunks::<8>();
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// `e^x` for each element; relative error about 2e-7 (Cephes' polynomial). Inputs below -87
/// give 0-ish tiny values, which is all softmax needs.
pub(super) fn exp_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        *x = exp(*x);
    }
}

#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer without a
    // float-to-int conversion, which keeps the loop vectorisable.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5e-1;
    let y = p * r * r + r + 1.0;
    // 2^n: n + 127 lands in the low mantissa bits of (n + 127 + 2^23); shifting by 23 moves
    // exactly those bits into the exponent field.
    let scale = f32::from_bits((n + (127.0 + 8_388_608.0)).to_bits() << 23);
    y * scale
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

/// GELU with the exact (erf) form BERT was trained with, in place. erf is Abramowitz and
/// Stegun 7.1.26 (absolute error below 1.5e-7), which vectorises where libm's does not.
fn gelu_erf_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        let v = *x;
        let z = v.abs() * std::f32::consts::FRAC_1_SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_6
                + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
        let erf_abs = 1.0 - poly * exp(-z * z);
        let erf = if v < 0.0 { -erf_abs } else { erf_abs };
        *x = 0.5 * v * (1.0 + erf);
    }
}

/// GELU, tanh approximation (`gelu_new`).
fn gelu_tanh_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        let v = *x;
        let inner = 0.797_884_6 * (v + 0.044_715 * v * v * v);
        // tanh(u) = 1 - 2 / (e^{2u} + 1)
        let tanh = 1.0 - 2.0 / (exp(2.0 * inner) + 1.0);
        *x = 0.5 * v * (1.0 + tanh);
    }
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

fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let (chunks, rest) = xs.as_chunks::<8>();
    for c in chunks {
        for l in 0..8 {
            acc[l] = acc[l].max(c[l]);
        }
    }
    rest.iter().chain(&acc).copied().fold(f32::NEG_INFINITY, f32::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        let mut worst = 0f32;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let mut v = [x];
            exp_inplace(&mut v);
            let rel = ((v[0] - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
    }

    #[test]
    fn gelu_matches_erf_form() {
        // Reference erf from a high-precision series, in f64.
        fn erf(x: f64) -> f64 {
            let mut sum = 0.0;
            let mut term = x;
            let mut n = 0;
            while term.abs() > 1e-17 && n < 200 {
                sum += term / (2 * n + 1) as f64;
                n += 1;
                term *= -x * x / n as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        }
        for i in -600..=600 {
            let x = i as f32 / 100.0;
            let mut v = [x];
            gelu_erf_inplace(&mut v);
            let want = 0.5 * x as f64 * (1.0 + erf(x as f64 / 2f64.sqrt()));
            assert!((v[0] as f64 - want).abs() < 1e-6, "gelu({x}) = {} want {want}", v[0]);
        }
    }

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
