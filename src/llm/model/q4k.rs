//! Prompt chunks through Q4_K weights in 8-bit integers, as llama.cpp does, instead of a
//! transient f32 copy of the weights and an f32 GEMM (`prefill`). In `perf` of the 1.5B model's
//! prompt, the f32 GEMM and the dequantization were three quarters of the time.
//!
//! The activations are quantized per 256 values to ggml's Q8_K (what llama.cpp multiplies Q4_K
//! by). Each work item takes 16 weight rows and unpacks their nibbles to bytes, interleaved so
//! that 64 bytes hold 4 consecutive weights of each of the 16 rows: one VNNI `dpbusd` then
//! multiplies them by 4 activations broadcast to every lane and adds into 16 per-row sums, so
//! the 16 outputs of a token come out in one register and no horizontal sums are needed. That
//! is 64 multiply-adds an instruction where the f32 GEMM's FMA does 16. After each sub-block of
//! 32 weights the sums take the rows' 6-bit scales (a float multiply-add per lane), and the
//! sub-blocks' minimums are one more multiply-add with the token's sum of that sub-block.
//!
//! Only where the CPU has AVX-512 BW and VNNI; elsewhere `prefill`'s f32 path stays.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ8K, GgmlType};
use rayon::prelude::*;

/// ggml's Q4_K block (candle keeps `BlockQ4K`'s fields private): 256 weights in 8 sub-blocks
/// of 32, each `d · scale · q − dmin · min` with `q` four bits and `scale`, `min` six.
#[repr(C)]
pub struct Q4K {
    d: u16,
    dmin: u16,
    scales: [u8; 12],
    qs: [u8; 128],
}
const _: () = assert!(std::mem::size_of::<Q4K>() == std::mem::size_of::<BlockQ4K>());

/// ggml's Q8_K block: 256 activations `d · q`, with the sums of each 16.
#[repr(C)]
struct Q8K {
    d: f32,
    qs: [i8; 256],
    bsums: [i16; 16],
}
const _: () = assert!(std::mem::size_of::<Q8K>() == std::mem::size_of::<BlockQ8K>());

/// Weight rows per work item: one 512-bit register of 32-bit sums.
pub const ROWS: usize = 16;
/// Tokens per kernel call: each register of unpacked weights serves this many tokens.
const TOKENS: usize = 4;

/// Whether this CPU has the instructions the kernel needs.
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vnni")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The stored blocks read as ggml's layout.
pub fn blocks(xs: &[BlockQ4K]) -> &[Q4K] {
    // SAFETY: both are repr(C) blocks of the same size (asserted above) and alignment (2), and
    // every bit pattern is a valid block of either.
    unsafe { std::slice::from_raw_parts(xs.as_ptr() as *const Q4K, xs.len()) }
}

/// The activations, quantized: per token, `k` values, a scale per 256 and, per 32, the scale
/// times the sum of its values (for the minimums' term).
struct Tokens {
    qs: Vec<i8>,
    d: Vec<f32>,
    sums: Vec<f32>,
}

fn quantize(x: &[f32], k: usize) -> Tokens {
    let rows = x.len() / k;
    let nb = k / 256;
    let mut q = vec![BlockQ8K::zeros(); rows * nb];
    q.par_chunks_mut(nb).zip(x.par_chunks(k)).for_each(|(q, x)| BlockQ8K::from_float(x, q));
    // SAFETY: as in `blocks` (both alignment 4).
    let q = unsafe { std::slice::from_raw_parts(q.as_ptr() as *const Q8K, q.len()) };
    let mut t = Tokens {
        qs: Vec::with_capacity(rows * k),
        d: Vec::with_capacity(rows * nb),
        sums: Vec::with_capacity(rows * nb * 8),
    };
    for block in q {
        t.qs.extend_from_slice(&block.qs);
        t.d.push(block.d);
        for s in 0..8 {
            let sum = block.bsums[2 * s] as f32 + block.bsums[2 * s + 1] as f32;
            t.sums.push(block.d * sum);
        }
    }
    t
}

/// `ROWS` weight rows unpacked for the kernel.
#[derive(Default)]
struct Group {
    /// Per 4 weights along `k`, 64 bytes: those 4 of each row, row after row.
    qs: Vec<u8>,
    /// Per sub-block of 32 weights, each row's `d · scale`.
    scales: Vec<f32>,
    /// Per sub-block, each row's `dmin · min`.
    mins: Vec<f32>,
}

/// Unpacks `ROWS` rows of `nb` blocks each into `g`.
fn unpack(w: &[Q4K], nb: usize, g: &mut Group) {
    let f16 = |b: u16| half::f16::from_bits(b).to_f32();
    g.qs.resize(nb * 256 * ROWS, 0);
    g.scales.resize(nb * 8 * ROWS, 0.0);
    g.mins.resize(nb * 8 * ROWS, 0.0);
    for (r, row) in w.chunks(nb).enumerate() {
        for (b, block) in row.iter().enumerate() {
            let q = &block.scales;
            for j in 0..8 {
                // ggml's get_scale_min_k4.
                let (scale, min) = if j < 4 {
                    (q[j] & 63, q[j + 4] & 63)
                } else {
                    let scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
                    (scale, (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
                };
                g.scales[(b * 8 + j) * ROWS + r] = f16(block.d) * scale as f32;
                g.mins[(b * 8 + j) * ROWS + r] = f16(block.dmin) * min as f32;
            }
            // Bytes 32c..32c+32 of qs hold weights 64c.. (low nibbles) and 64c+32.. (high).
            let mut values = [0u8; 256];
            for (c, (bytes, out)) in block.qs.chunks(32).zip(values.chunks_mut(64)).enumerate() {
                debug_assert!(c < 4);
                for (i, byte) in bytes.iter().enumerate() {
                    out[i] = byte & 0xF;
                    out[32 + i] = byte >> 4;
                }
            }
            // Each 4 in a row go to their place among the 16 rows' 4.
            for (i, four) in values.chunks(4).enumerate() {
                let at = ((b * 64 + i) * ROWS + r) * 4;
                g.qs[at..at + 4].copy_from_slice(four);
            }
        }
    }
}

/// `x · wᵀ` for the rows of `x` (`rows × k`, row-major) and the `n × k` matrix `w`, as
/// `rows × n`. Call only where [`available`], with `n` a multiple of [`ROWS`].
pub fn matmul(w: &[Q4K], n: usize, k: usize, x: &[f32]) -> Vec<f32> {
    assert!(n.is_multiple_of(ROWS) && k.is_multiple_of(256) && x.len().is_multiple_of(k));
    let nb = k / 256;
    let rows = x.len() / k;
    let tokens = quantize(x, k);
    let mut out = vec![0f32; rows * n];
    let at = out.as_mut_ptr() as usize;
    (0..n / ROWS).into_par_iter().for_each_init(Group::default, |g, item| {
        unpack(&w[item * ROWS * nb..(item + 1) * ROWS * nb], nb, g);
        for t0 in (0..rows).step_by(TOKENS) {
            // SAFETY: the caller checked `available`; `out` is rows × n, and this item alone
            // writes columns item·ROWS.. of it, ROWS floats per token.
            unsafe {
                let dst = (at as *mut f32).add(t0 * n + item * ROWS);
                x86::group(g, &tokens, nb, t0, (rows - t0).min(TOKENS), dst, n);
            }
        }
    });
    out
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Group, Tokens, ROWS, TOKENS};

    /// `count` (≤ TOKENS) tokens from `t0` through one group of rows, written at `dst`, a
    /// token's outputs `stride` floats apart.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,fma")]
    pub unsafe fn group(
        g: &Group,
        x: &Tokens,
        nb: usize,
        t0: usize,
        count: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        match count {
            4 => tokens::<4>(g, x, nb, t0, dst, stride),
            3 => tokens::<3>(g, x, nb, t0, dst, stride),
            2 => tokens::<2>(g, x, nb, t0, dst, stride),
            _ => tokens::<1>(g, x, nb, t0, dst, stride),
        }
    }

    #[inline(always)]
    unsafe fn tokens<const T: usize>(
        g: &Group,
        x: &Tokens,
        nb: usize,
        t0: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        const { assert!(T <= TOKENS) };
        let k = nb * 256;
        let qs = x.qs.as_ptr().add(t0 * k);
        let mut acc = [_mm512_setzero_ps(); T];
        for b in 0..nb {
            let mut block = [_mm512_setzero_ps(); T];
            for s in 0..8 {
                let sub = b * 8 + s;
                // The sub-block's 32 weights of the 16 rows: 8 registers of 4 per row.
                let w = g.qs.as_ptr().add(sub * 8 * 64);
                let w: [__m512i; 8] =
                    std::array::from_fn(|i| _mm512_loadu_si512(w.add(64 * i) as *const _));
                let scale = _mm512_loadu_ps(g.scales.as_ptr().add(sub * ROWS));
                let min = _mm512_loadu_ps(g.mins.as_ptr().add(sub * ROWS));
                for t in 0..T {
                    let a = qs.add(t * k + sub * 32) as *const i32;
                    let mut sum = _mm512_setzero_si512();
                    for (i, w) in w.iter().enumerate() {
                        let four = _mm512_set1_epi32(a.add(i).read_unaligned());
                        sum = _mm512_dpbusd_epi32(sum, *w, four);
                    }
                    block[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, block[t]);
                    let total = _mm512_set1_ps(*x.sums.get_unchecked((t0 + t) * nb * 8 + sub));
                    acc[t] = _mm512_fnmadd_ps(min, total, acc[t]);
                }
            }
            for t in 0..T {
                let d = _mm512_set1_ps(*x.d.get_unchecked((t0 + t) * nb + b));
                acc[t] = _mm512_fmadd_ps(block[t], d, acc[t]);
            }
        }
        for (t, acc) in acc.iter().enumerate() {
            _mm512_storeu_ps(dst.add(t * stride), *acc);
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_core::quantized::{GgmlDType, QMatMul, QTensor};
    use candle_core::Module;

    use super::*;

    #[test]
    fn the_integer_product_equals_candles_q8k_product() {
        if !available() {
            return;
        }
        // 19 tokens: full groups of 4 and a partial one; three groups of rows.
        let (n, k, rows) = (48, 1024, 19);
        let (w, x) = super::super::reference::inputs(n, k, rows);
        let q = QTensor::quantize(&w, GgmlDType::Q4K).expect("quantize");
        let stored = super::super::stored_blocks::<BlockQ4K>(&q).expect("blocks").expect("cpu");
        let xs: Vec<f32> = x.flatten_all().and_then(|t| t.to_vec1()).expect("x");
        let ours = matmul(blocks(stored), n, k, &xs);
        // candle multiplies Q4_K by Q8_K activations too (its vec_dot_q4k_q8k): the same
        // integer sums, so only the order of float additions may differ.
        let theirs: Vec<f32> = QTensor::quantize(&w, GgmlDType::Q4K)
            .and_then(QMatMul::from_qtensor)
            .and_then(|m| m.forward(&x))
            .and_then(|y| y.flatten_all()?.to_vec1())
            .expect("candle");
        let (_, scale) = super::super::reference::product(&q, &x);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-6 * scale, "{i}: {a} vs {b} (scale {scale})");
        }
    }
}
