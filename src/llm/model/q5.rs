//! Q5_0 weights as stored, with a SIMD dot product. candle's CPU backend has only scalar code
//! for Q5_0, so podbrief used to re-quantize every Q5_0 matrix to Q8_0 at load: most of the
//! 0.5B model's 2.6 s load (0.8 s without it), and 55 % more bytes to stream per generated
//! token (34 bytes a block instead of 22), which is what bounds generation speed. This is llama.cpp's
//! `ggml_vec_dot_q5_0_q8_0` (the block is widened to bytes, the fifth bit turned into the
//! sign, then a signed-by-unsigned byte product), with a VNNI variant, chosen at run time; on
//! other CPUs the caller keeps re-quantizing, since scalar Q5_0 would be slower than that.
//!
//! [`Q5`] has ggml's block layout, so a tensor's stored bytes are a `[Q5]` as they are, and
//! candle's threaded `k_quants::matmul` drives it like any of its own block types.

use candle_core::quantized::k_quants::{BlockQ5_0, BlockQ8_0, GgmlType};
use candle_core::quantized::GgmlDType;

/// One Q5_0 block: 32 weights `d · (q − 16)`, `q` five bits (low four in `qs`, element `j`
/// and `j + 16` sharing a byte; the fifth in bit `j` of `qh`).
#[derive(Debug, Clone, PartialEq)]
#[repr(C)]
pub struct Q5 {
    d: u16,
    qh: [u8; 4],
    qs: [u8; 16],
}
const _: () = assert!(std::mem::size_of::<Q5>() == std::mem::size_of::<BlockQ5_0>());
const _: () = assert!(std::mem::align_of::<Q5>() == std::mem::align_of::<BlockQ5_0>());

/// ggml's Q8_0 block (`BlockQ8_0`, whose fields candle keeps private): the activations.
#[repr(C)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
struct Q8 {
    d: u16,
    qs: [i8; 32],
}
const _: () = assert!(std::mem::size_of::<Q8>() == std::mem::size_of::<BlockQ8_0>());
const _: () = assert!(std::mem::align_of::<Q8>() == std::mem::align_of::<BlockQ8_0>());

/// Whether this CPU has a fast path; without one, Q5_0 should be re-quantized instead.
pub fn fast() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

fn as_candle(xs: &[Q5]) -> &[BlockQ5_0] {
    // SAFETY: both are repr(C) with the same size and alignment (asserted above) and every
    // bit pattern is a valid block of either.
    unsafe { std::slice::from_raw_parts(xs.as_ptr() as *const BlockQ5_0, xs.len()) }
}

fn as_candle_mut(xs: &mut [Q5]) -> &mut [BlockQ5_0] {
    // SAFETY: as in `as_candle`.
    unsafe { std::slice::from_raw_parts_mut(xs.as_mut_ptr() as *mut BlockQ5_0, xs.len()) }
}

#[cfg(target_arch = "x86_64")]
fn q8(ys: &[BlockQ8_0]) -> &[Q8] {
    // SAFETY: as in `as_candle`.
    unsafe { std::slice::from_raw_parts(ys.as_ptr() as *const Q8, ys.len()) }
}

impl GgmlType for Q5 {
    const DTYPE: GgmlDType = GgmlDType::Q5_0;
    const BLCK_SIZE: usize = 32;
    type VecDotType = BlockQ8_0;

    /// With SIMD where there is a fast path: the prompt's GEMM dequantizes every weight once
    /// per chunk (see `prefill`), and candle's scalar loop was 6 % of the 0.5B model's prompt
    /// time (perf).
    fn to_float(xs: &[Self], ys: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if fast() {
            // SAFETY: the features were detected.
            return unsafe { x86::to_float(xs, ys) };
        }
        BlockQ5_0::to_float(as_candle(xs), ys)
    }

    fn from_float(xs: &[f32], ys: &mut [Self]) {
        BlockQ5_0::from_float(xs, as_candle_mut(ys))
    }

    fn vec_dot(n: usize, xs: &[Self], ys: &[BlockQ8_0]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            let (xs, ys) = (&xs[..n / 32], &q8(ys)[..n / 32]);
            if is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl") {
                if is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the features the function is compiled for were just detected.
                    return unsafe { x86::dot_vnni_bw(xs, ys) };
                }
                // SAFETY: as above.
                return unsafe { x86::dot_vnni(xs, ys) };
            }
            if fast() {
                // SAFETY: as above.
                return unsafe { x86::dot_avx2(xs, ys) };
            }
        }
        Self::vec_dot_unopt(n, xs, ys)
    }

    fn vec_dot_unopt(n: usize, xs: &[Self], ys: &[BlockQ8_0]) -> f32 {
        BlockQ5_0::vec_dot_unopt(n, as_candle(xs), ys)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Q5, Q8};

    /// The 32 weights of a block as signed bytes `q − 16`, in element order.
    #[inline(always)]
    unsafe fn widen(x: &Q5) -> __m256i {
        // Low nibbles are elements 0–15, high nibbles 16–31.
        let packed = _mm_loadu_si128(x.qs.as_ptr() as *const __m128i);
        let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
        let low = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
        // Byte i is all ones where bit i of qh is set.
        let bits = _mm256_set1_epi32(i32::from_le_bytes(x.qh));
        let spread = _mm256_shuffle_epi8(
            bits,
            _mm256_set_epi64x(
                0x0303030303030303,
                0x0202020202020202,
                0x0101010101010101,
                0x0000000000000000,
            ),
        );
        let set = _mm256_cmpeq_epi8(
            _mm256_or_si256(spread, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe)),
            _mm256_set1_epi64x(-1),
        );
        // q − 16 is the nibble itself when the fifth bit is set, else the nibble − 16, whose
        // byte is the nibble with its top four bits set.
        _mm256_or_si256(low, _mm256_andnot_si256(set, _mm256_set1_epi8(0xF0u8 as i8)))
    }

    #[inline(always)]
    unsafe fn scale(x: &Q5, y: &Q8) -> __m256 {
        let d = _mm_cvtph_ps(_mm_set_epi16(0, 0, 0, 0, 0, 0, y.d as i16, x.d as i16));
        _mm256_set1_ps(_mm_cvtss_f32(d) * _mm_cvtss_f32(_mm_shuffle_ps(d, d, 1)))
    }

    #[inline(always)]
    unsafe fn hsum(acc: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn to_float(xs: &[Q5], out: &mut [f32]) {
        for (x, out) in xs.iter().zip(out.chunks_exact_mut(32)) {
            let w = widen(x);
            let d = _mm256_set1_ps(_mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(x.d as i32))));
            let halves = [_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1)];
            for (h, half) in halves.into_iter().enumerate() {
                for (q, part) in [half, _mm_unpackhi_epi64(half, half)].into_iter().enumerate() {
                    let v = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part));
                    let at = out.as_mut_ptr().add(16 * h + 8 * q);
                    _mm256_storeu_ps(at, _mm256_mul_ps(d, v));
                }
            }
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub unsafe fn dot_avx2(xs: &[Q5], ys: &[Q8]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for (x, y) in xs.iter().zip(ys) {
            let w = widen(x);
            let a = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
            // |w| · (a with w's sign): unsigned by signed, as the instruction wants.
            let pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(a, w));
            let sums = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
            acc = _mm256_fmadd_ps(scale(x, y), _mm256_cvtepi32_ps(sums), acc);
        }
        hsum(acc)
    }

    /// The 32 products of one block's widened weights `w` with its activations, summed in
    /// eight lanes by VNNI: `|w|` times the activations carrying `w`'s sign, unsigned by signed
    /// as the instruction wants.
    #[inline(always)]
    unsafe fn vnni_block(w: __m256i, y: &Q8) -> __m256 {
        let a = _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i);
        let sums = _mm256_dpbusd_epi32(
            _mm256_setzero_si256(),
            _mm256_sign_epi8(w, w),
            _mm256_sign_epi8(a, w),
        );
        _mm256_cvtepi32_ps(sums)
    }

    #[target_feature(enable = "avx2,fma,f16c,avx512vnni,avx512vl")]
    pub unsafe fn dot_vnni(xs: &[Q5], ys: &[Q8]) -> f32 {
        let mut acc = _mm256_setzero_ps();
        for (x, y) in xs.iter().zip(ys) {
            acc = _mm256_fmadd_ps(scale(x, y), vnni_block(widen(x), y), acc);
        }
        hsum(acc)
    }

    /// `dot_vnni` with the fifth bits read as a byte mask (AVX-512 BW): the generic widening
    /// spreads `qh` over the bytes with a shuffle, a compare and two logic operations per block,
    /// which made the product compute-bound (perf, 0.5B generation: 39 % of the time in it, at
    /// about 8 GB/s where candle's Q8_0 product streams 11). Two blocks a step, their scales
    /// converted together; the float additions keep `dot_vnni`'s order, so results are equal.
    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vnni,avx512vl")]
    pub unsafe fn dot_vnni_bw(xs: &[Q5], ys: &[Q8]) -> f32 {
        #[inline(always)]
        unsafe fn widen_bw(x: &Q5) -> __m256i {
            let packed = _mm_loadu_si128(x.qs.as_ptr() as *const __m128i);
            let both = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
            let low = _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
            // q − 16: the nibble − 16 (its byte with the top four bits set), or the nibble
            // itself where the fifth bit is set.
            let minus = _mm256_or_si256(low, _mm256_set1_epi8(0xF0u8 as i8));
            _mm256_mask_mov_epi8(minus, u32::from_le_bytes(x.qh), low)
        }
        let mut acc = _mm256_setzero_ps();
        let pairs = xs.len() / 2;
        for k in 0..pairs {
            let (x0, x1, y0, y1) = (&xs[2 * k], &xs[2 * k + 1], &ys[2 * k], &ys[2 * k + 1]);
            let d = _mm_cvtph_ps(_mm_set_epi16(
                0,
                0,
                0,
                0,
                y1.d as i16,
                x1.d as i16,
                y0.d as i16,
                x0.d as i16,
            ));
            // [x0·y0, _, x1·y1, _]
            let prod = _mm_mul_ps(d, _mm_movehdup_ps(d));
            let s0 = _mm256_broadcastss_ps(prod);
            let s1 = _mm256_broadcastss_ps(_mm_movehl_ps(prod, prod));
            acc = _mm256_fmadd_ps(s0, vnni_block(widen_bw(x0), y0), acc);
            acc = _mm256_fmadd_ps(s1, vnni_block(widen_bw(x1), y1), acc);
        }
        if xs.len() % 2 == 1 {
            let (x, y) = (&xs[xs.len() - 1], &ys[xs.len() - 1]);
            acc = _mm256_fmadd_ps(scale(x, y), vnni_block(widen_bw(x), y), acc);
        }
        hsum(acc)
    }
}

#[cfg(test)]
#[path = "q5_tests.rs"]
mod tests;
