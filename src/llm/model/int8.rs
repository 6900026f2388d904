//! Prompt chunks through K-quant weights (Q4_K, Q6_K) in 8-bit integers, as llama.cpp does,
//! instead of a transient f32 copy of the weights and an f32 GEMM (`prefill`). In `perf` of the
//! 1.5B model's prompt, the f32 GEMM and the dequantization were three quarters of the time.
//!
//! The activations are quantized per 256 values to ggml's Q8_K (what llama.cpp multiplies
//! K-quants by). Each work item takes 16 weight rows and unpacks their weights to unsigned
//! bytes, interleaved so that 64 bytes hold 4 consecutive weights of each of the 16 rows: one
//! VNNI `dpbusd` then multiplies them by 4 activations broadcast to every lane and adds into 16
//! per-row sums, so the 16 outputs of a token come out in one register with no horizontal sums:
//! 64 multiply-adds an instruction where the f32 GEMM's FMA does 16. After each sub-block (32
//! weights of Q4_K, 16 of Q6_K) the sums take the rows' scales, a float multiply-add per lane;
//! the offset of each sub-block (Q4_K's minimum, Q6_K's −32) is one more multiply-add with the
//! token's sum over that sub-block, which Q8_K carries.
//!
//! Only where the CPU has AVX-512 BW and VNNI; elsewhere `prefill`'s f32 path stays.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8K, GgmlType};
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

/// ggml's Q6_K block: 256 weights in 16 sub-blocks of 16, each `d · scale · (q − 32)` with `q`
/// six bits (low four in `ql`, high two in `qh`) and `scale` a signed byte.
#[repr(C)]
pub struct Q6K {
    ql: [u8; 128],
    qh: [u8; 64],
    scales: [i8; 16],
    d: u16,
}
const _: () = assert!(std::mem::size_of::<Q6K>() == std::mem::size_of::<BlockQ6K>());

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

/// A K-quant block type the kernel takes.
pub trait Block: Sized + Sync {
    /// Weights per sub-block (one scale each).
    const SUB: usize;
    /// Writes the block's 256 weights as unsigned integers in order, and per sub-block the
    /// factor of the integer sum and the factor of the activations' sum that is taken off.
    fn unpack(&self, values: &mut [u8; 256], scales: &mut [f32], offsets: &mut [f32]);
}

fn f16(bits: u16) -> f32 {
    half::f16::from_bits(bits).to_f32()
}

impl Block for Q4K {
    const SUB: usize = 32;

    fn unpack(&self, values: &mut [u8; 256], scales: &mut [f32], offsets: &mut [f32]) {
        let q = &self.scales;
        for j in 0..8 {
            // ggml's get_scale_min_k4.
            let (scale, min) = if j < 4 {
                (q[j] & 63, q[j + 4] & 63)
            } else {
                ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
            };
            scales[j] = f16(self.d) * scale as f32;
            offsets[j] = f16(self.dmin) * min as f32;
        }
        // Bytes 32c..32c+32 of qs hold weights 64c.. (low nibbles) and 64c+32.. (high).
        for (bytes, out) in self.qs.chunks(32).zip(values.chunks_mut(64)) {
            for (i, byte) in bytes.iter().enumerate() {
                out[i] = byte & 0xF;
                out[32 + i] = byte >> 4;
            }
        }
    }
}

impl Block for Q6K {
    const SUB: usize = 16;

    fn unpack(&self, values: &mut [u8; 256], scales: &mut [f32], offsets: &mut [f32]) {
        for (j, sc) in self.scales.iter().enumerate() {
            scales[j] = f16(self.d) * *sc as f32;
            offsets[j] = 32.0 * scales[j];
        }
        // ggml's dequantize_row_q6_K: each half of 128 weights from 64 bytes of ql, 32 of qh.
        for (half, out) in values.chunks_mut(128).enumerate() {
            let (ql, qh) = (&self.ql[64 * half..], &self.qh[32 * half..]);
            for l in 0..32 {
                out[l] = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
                out[l + 32] = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                out[l + 64] = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                out[l + 96] = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
            }
        }
    }
}

/// Reads stored candle blocks as ggml's layout.
pub fn view<C, B: Block>(xs: &[C]) -> &[B] {
    const { assert!(std::mem::size_of::<C>() == std::mem::size_of::<B>()) };
    const { assert!(std::mem::align_of::<C>() >= std::mem::align_of::<B>()) };
    // SAFETY: the callers pair each candle block with its repr(C) mirror above, of the same
    // size (asserted) and no stricter alignment, and every bit pattern is a valid block.
    unsafe { std::slice::from_raw_parts(xs.as_ptr() as *const B, xs.len()) }
}

/// The activations, quantized: per token, `k` values, a scale per 256 and, per sub-block, the
/// scale times the sum of its values (for the offsets' term).
struct Tokens {
    qs: Vec<i8>,
    d: Vec<f32>,
    sums: Vec<f32>,
}

fn quantize(x: &[f32], k: usize, sub: usize) -> Tokens {
    let rows = x.len() / k;
    let nb = k / 256;
    let mut q = vec![BlockQ8K::zeros(); rows * nb];
    q.par_chunks_mut(nb).zip(x.par_chunks(k)).for_each(|(q, x)| BlockQ8K::from_float(x, q));
    // SAFETY: Q8K mirrors BlockQ8K (same size, asserted, and alignment 4).
    let q = unsafe { std::slice::from_raw_parts(q.as_ptr() as *const Q8K, q.len()) };
    let mut t = Tokens {
        qs: Vec::with_capacity(rows * k),
        d: Vec::with_capacity(rows * nb),
        sums: Vec::with_capacity(rows * k / sub),
    };
    for block in q {
        t.qs.extend_from_slice(&block.qs);
        t.d.push(block.d);
        for sums in block.bsums.chunks(sub / 16) {
            t.sums.push(block.d * sums.iter().map(|&s| s as f32).sum::<f32>());
        }
    }
    t
}

/// `ROWS` weight rows unpacked for the kernel.
#[derive(Default)]
struct Group {
    /// Per 4 weights along `k`, 64 bytes: those 4 of each row, row after row.
    qs: Vec<u8>,
    /// Per sub-block, each row's factor of the integer sum.
    scales: Vec<f32>,
    /// Per sub-block, each row's factor of the activations' sum, taken off.
    offsets: Vec<f32>,
}

/// Unpacks `ROWS` rows of `nb` blocks each into `g`.
fn unpack<B: Block>(w: &[B], nb: usize, g: &mut Group) {
    let per = 256 / B::SUB;
    g.qs.resize(nb * 256 * ROWS, 0);
    g.scales.resize(nb * per * ROWS, 0.0);
    g.offsets.resize(nb * per * ROWS, 0.0);
    let (mut values, mut scales, mut offsets) = ([0u8; 256], [0f32; 16], [0f32; 16]);
    for (r, row) in w.chunks(nb).enumerate() {
        for (b, block) in row.iter().enumerate() {
            block.unpack(&mut values, &mut scales, &mut offsets);
            for j in 0..per {
                g.scales[(b * per + j) * ROWS + r] = scales[j];
                g.offsets[(b * per + j) * ROWS + r] = offsets[j];
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
pub fn matmul<B: Block>(w: &[B], n: usize, k: usize, x: &[f32]) -> Vec<f32> {
    assert!(n.is_multiple_of(ROWS) && k.is_multiple_of(256) && x.len().is_multiple_of(k));
    let nb = k / 256;
    let rows = x.len() / k;
    let tokens = quantize(x, k, B::SUB);
    let mut out = vec![0f32; rows * n];
    let at = out.as_mut_ptr() as usize;
    (0..n / ROWS).into_par_iter().for_each_init(Group::default, |g, item| {
        unpack(&w[item * ROWS * nb..(item + 1) * ROWS * nb], nb, g);
        for t0 in (0..rows).step_by(TOKENS) {
            // SAFETY: the caller checked `available`; `out` is rows × n, and this item alone
            // writes columns item·ROWS.. of it, ROWS floats per token.
            unsafe {
                let dst = (at as *mut f32).add(t0 * n + item * ROWS);
                let count = (rows - t0).min(TOKENS);
                match B::SUB {
                    32 => x86::group::<8>(g, &tokens, nb, t0, count, dst, n),
                    _ => x86::group::<4>(g, &tokens, nb, t0, count, dst, n),
                }
            }
        }
    });
    out
}

/// Off x86 there is no kernel, and [`available`] is false, so `matmul` is never called.
#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    use super::{Group, Tokens};

    pub unsafe fn group<const G: usize>(
        _: &Group,
        _: &Tokens,
        _: usize,
        _: usize,
        _: usize,
        _: *mut f32,
        _: usize,
    ) {
        unreachable!("the integer kernel is x86-only; check int8::available first")
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Group, Tokens, ROWS, TOKENS};

    /// `count` (≤ TOKENS) tokens from `t0` through one group of rows, written at `dst`, a
    /// token's outputs `stride` floats apart. `G`: steps of 4 weights per sub-block.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni,fma")]
    pub unsafe fn group<const G: usize>(
        g: &Group,
        x: &Tokens,
        nb: usize,
        t0: usize,
        count: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        match count {
            4 => tokens::<G, 4>(g, x, nb, t0, dst, stride),
            3 => tokens::<G, 3>(g, x, nb, t0, dst, stride),
            2 => tokens::<G, 2>(g, x, nb, t0, dst, stride),
            _ => tokens::<G, 1>(g, x, nb, t0, dst, stride),
        }
    }

    #[inline(always)]
    unsafe fn tokens<const G: usize, const T: usize>(
        g: &Group,
        x: &Tokens,
        nb: usize,
        t0: usize,
        dst: *mut f32,
        stride: usize,
    ) {
        const { assert!(T <= TOKENS) };
        let (k, per) = (nb * 256, 64 / G);
        let qs = x.qs.as_ptr().add(t0 * k);
        let mut acc = [_mm512_setzero_ps(); T];
        for b in 0..nb {
            let mut block = [_mm512_setzero_ps(); T];
            for s in 0..per {
                let sub = b * per + s;
                // The sub-block's weights of the 16 rows: G registers of 4 per row.
                let w = g.qs.as_ptr().add(sub * G * 64);
                let w: [__m512i; G] =
                    std::array::from_fn(|i| _mm512_loadu_si512(w.add(64 * i) as *const _));
                let scale = _mm512_loadu_ps(g.scales.as_ptr().add(sub * ROWS));
                let offset = _mm512_loadu_ps(g.offsets.as_ptr().add(sub * ROWS));
                for t in 0..T {
                    let a = qs.add(t * k + sub * 4 * G) as *const i32;
                    let mut sum = _mm512_setzero_si512();
                    for (i, w) in w.iter().enumerate() {
                        let four = _mm512_set1_epi32(a.add(i).read_unaligned());
                        sum = _mm512_dpbusd_epi32(sum, *w, four);
                    }
                    block[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sum), scale, block[t]);
                    let total = _mm512_set1_ps(*x.sums.get_unchecked((t0 + t) * nb * per + sub));
                    acc[t] = _mm512_fnmadd_ps(offset, total, acc[t]);
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

    /// The kernel against candle's own product of the type by Q8_K activations (its
    /// `vec_dot_q4k_q8k`/`vec_dot_q6k_q8k`): the same integer sums, so only the order of the
    /// float additions may differ.
    fn check<C: GgmlType, B: Block>(dtype: GgmlDType) {
        // 19 tokens: full groups of 4 and a partial one; three groups of rows.
        let (n, k, rows) = (48, 1024, 19);
        let (w, x) = super::super::reference::inputs(n, k, rows);
        let q = QTensor::quantize(&w, dtype).expect("quantize");
        let stored = super::super::stored_blocks::<C>(&q).expect("blocks").expect("cpu");
        let xs: Vec<f32> = x.flatten_all().and_then(|t| t.to_vec1()).expect("x");
        let ours = matmul(view::<C, B>(stored), n, k, &xs);
        let theirs: Vec<f32> = QTensor::quantize(&w, dtype)
            .and_then(QMatMul::from_qtensor)
            .and_then(|m| m.forward(&x))
            .and_then(|y| y.flatten_all()?.to_vec1())
            .expect("candle");
        let (_, scale) = super::super::reference::product(&q, &x);
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() <= 1e-6 * scale, "{dtype:?} {i}: {a} vs {b} (scale {scale})");
        }
    }

    #[test]
    fn the_integer_products_equal_candles_q8k_products() {
        if !available() {
            return;
        }
        check::<BlockQ4K, Q4K>(GgmlDType::Q4K);
        check::<BlockQ6K, Q6K>(GgmlDType::Q6K);
    }
}
