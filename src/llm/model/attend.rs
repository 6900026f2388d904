//! Attention of one new token over its slot's cached keys and values, for generation.
//!
//! candle computes it as two small matrix products (the `gemm` crate) with a softmax and
//! reshapes between them, all on the calling thread while the worker pool spins: in `perf` of
//! the 0.5B model's generation the worker threads were idle for about a sixth of their time,
//! most of it during these serial steps. Here each query head is one work item on candle's
//! pool: its scores against the cached keys, a vectorised softmax ([`crate::vecmath`]), and
//! the weighted sum of the values, read in place from the cache (no copies, no transposes).
//! The cache holds f16 (`cache`), converted eight values at a time as they are read.

use candle_core::{CpuStorage, DType, Device, Storage, Tensor};
use half::f16;

use crate::vecmath;

/// `softmax(q·Kᵀ·scale)·V` for one new row: `q` is `(1, heads, 1, d)` in f32, `k` and `v` are
/// f16 views `(1, kv_heads, len, d)` of the cache (rows contiguous), query head `h` reading kv
/// head `h / (heads / kv_heads)`. Returns `(1, 1, heads·d)`, or `None` where this does not
/// apply (not on the CPU, other types, another layout), for the caller's general path.
pub fn one_row(q: &Tensor, k: &Tensor, v: &Tensor) -> candle_core::Result<Option<Tensor>> {
    let (b, heads, s, d) = q.dims4()?;
    let (kb, kv_heads, len, kd) = k.dims4()?;
    let cpu = |t: &Tensor, dtype| matches!(t.device(), Device::Cpu) && t.dtype() == dtype;
    if b != 1 || s != 1 || kb != 1 || kd != d || kv_heads == 0 || !heads.is_multiple_of(kv_heads) {
        return Ok(None);
    }
    if !(cpu(q, DType::F32) && cpu(k, DType::F16) && cpu(v, DType::F16))
        || v.dims4()? != k.dims4()?
    {
        return Ok(None);
    }
    let scale = (d as f32).powf(-0.5);
    let q: Vec<f32> = q.flatten_all()?.to_vec1::<f32>()?.iter().map(|x| x * scale).collect();
    let (ks, kl) = k.storage_and_layout();
    let (vs, vl) = v.storage_and_layout();
    let (Storage::Cpu(CpuStorage::F16(kdata)), Storage::Cpu(CpuStorage::F16(vdata))) = (&*ks, &*vs)
    else {
        return Ok(None);
    };
    let (Some(kv), Some(vv)) = (Rows::new(kdata, kl, len, d), Rows::new(vdata, vl, len, d)) else {
        return Ok(None);
    };
    let rep = heads / kv_heads;
    let mut out = vec![0f32; heads * d];
    let shared = Out(out.as_mut_ptr());
    candle_core::utils::barrier_pool().execute_chunked(heads, |range| {
        let mut scores = vec![0f32; len];
        for h in range {
            let kvh = h / rep;
            scores_into(&q[h * d..(h + 1) * d], &kv, kvh, &mut scores);
            vecmath::softmax_inplace(&mut scores);
            // SAFETY: each head's `d` outputs are written by the one work item that has it.
            weighted_sum(&scores, &vv, kvh, unsafe { shared.head(h, d) });
        }
    });
    Ok(Some(Tensor::from_vec(out, (1, 1, heads * d), &Device::Cpu)?))
}

/// The rows of a `(1, kv_heads, len, d)` view with contiguous rows: its storage, where it
/// starts and the distance between heads.
struct Rows<'a> {
    data: &'a [f16],
    start: usize,
    head_stride: usize,
    d: usize,
}

impl<'a> Rows<'a> {
    fn new(data: &'a [f16], layout: &candle_core::Layout, len: usize, d: usize) -> Option<Self> {
        let &[_, head_stride, row_stride, one] = layout.stride() else { return None };
        let heads = layout.dims()[1];
        let start = layout.start_offset();
        let end = start + (heads - 1) * head_stride + len * d;
        (row_stride == d && one == 1 && end <= data.len()).then_some(Rows {
            data,
            start,
            head_stride,
            d,
        })
    }

    fn row(&self, head: usize, j: usize) -> &[f16] {
        let at = self.start + head * self.head_stride + j * self.d;
        &self.data[at..at + self.d]
    }
}

/// The output, written by the pool's workers one head each.
struct Out(*mut f32);
// SAFETY: every head's range is written by exactly one work item, and the buffer outlives the
// pool call.
unsafe impl Sync for Out {}

impl Out {
    /// # Safety
    /// Head `h`'s range must be in bounds and written by one thread only.
    #[allow(clippy::mut_from_ref)]
    unsafe fn head(&self, h: usize, d: usize) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(h * d), d)
    }
}

/// `scores[j] = q · K[head, j]` for every cached row `j`.
fn scores_into(q: &[f32], k: &Rows, head: usize, scores: &mut [f32]) {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ))]
    if q.len().is_multiple_of(8) {
        // SAFETY: the features are enabled at compile time; `q` is a whole number of vectors.
        return unsafe { x86::scores_into(q, k, head, scores) };
    }
    for (j, s) in scores.iter_mut().enumerate() {
        *s = dot(q, k.row(head, j));
    }
}

/// `y = Σ_j p[j] · V[head, j]`.
fn weighted_sum(p: &[f32], v: &Rows, head: usize, y: &mut [f32]) {
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma",
        target_feature = "f16c"
    ))]
    if y.len().is_multiple_of(x86::BLOCK) {
        // SAFETY: as in `scores_into`; `y` is a whole number of blocks.
        return unsafe { x86::weighted_sum(p, v, head, y) };
    }
    y.fill(0.0);
    for (j, &p) in p.iter().enumerate() {
        for (y, x) in y.iter_mut().zip(v.row(head, j)) {
            *y = p.mul_add(x.to_f32(), *y);
        }
    }
}

/// Eight independent lanes, so the compiler keeps them in one vector register.
const LANES: usize = 8;

fn dot(a: &[f32], b: &[f16]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ac.remainder().iter().zip(bc.remainder()).map(|(x, y)| x * y.to_f32()).sum();
    for (x, y) in ac.zip(bc) {
        for i in 0..LANES {
            acc[i] = x[i].mul_add(y[i].to_f32(), acc[i]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// AVX2 (with F16C for the cache's halves): eight keys' dot products at a time, summed across lanes together (one horizontal
/// sum per eight keys instead of one each), and the values' weighted sum kept in registers
/// 64 columns at a time.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    target_feature = "f16c"
))]
mod x86 {
    use super::{dot, Rows};
    use std::arch::x86_64::*;

    /// Columns of the output kept in registers while the rows stream by.
    pub const BLOCK: usize = 64;

    /// Eight f16 values from `p` as f32.
    #[inline(always)]
    unsafe fn halves(p: *const half::f16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i))
    }

    /// # Safety
    /// `q.len()` must be a multiple of 8 and equal to the rows' width.
    pub unsafe fn scores_into(q: &[f32], k: &Rows, head: usize, scores: &mut [f32]) {
        let d = q.len();
        let len = scores.len();
        let mut j = 0;
        while j + 8 <= len {
            let mut acc = [_mm256_setzero_ps(); 8];
            for c in (0..d).step_by(8) {
                let qv = _mm256_loadu_ps(q.as_ptr().add(c));
                for (i, a) in acc.iter_mut().enumerate() {
                    let kr = k.row(head, j + i).as_ptr().add(c);
                    *a = _mm256_fmadd_ps(qv, halves(kr), *a);
                }
            }
            let t0 = _mm256_hadd_ps(acc[0], acc[1]);
            let t1 = _mm256_hadd_ps(acc[2], acc[3]);
            let t2 = _mm256_hadd_ps(acc[4], acc[5]);
            let t3 = _mm256_hadd_ps(acc[6], acc[7]);
            let u0 = _mm256_hadd_ps(t0, t1);
            let u1 = _mm256_hadd_ps(t2, t3);
            let lo = _mm256_permute2f128_ps(u0, u1, 0x20);
            let hi = _mm256_permute2f128_ps(u0, u1, 0x31);
            _mm256_storeu_ps(scores.as_mut_ptr().add(j), _mm256_add_ps(lo, hi));
            j += 8;
        }
        for (jj, s) in scores.iter_mut().enumerate().skip(j) {
            *s = dot(q, k.row(head, jj));
        }
    }

    /// # Safety
    /// `y.len()` must be a multiple of `BLOCK` and equal to the rows' width.
    pub unsafe fn weighted_sum(p: &[f32], v: &Rows, head: usize, y: &mut [f32]) {
        for b in (0..y.len()).step_by(BLOCK) {
            let mut acc = [_mm256_setzero_ps(); BLOCK / 8];
            for (j, &pj) in p.iter().enumerate() {
                let pv = _mm256_set1_ps(pj);
                let row = v.row(head, j).as_ptr().add(b);
                for (i, a) in acc.iter_mut().enumerate() {
                    *a = _mm256_fmadd_ps(pv, halves(row.add(8 * i)), *a);
                }
            }
            for (i, a) in acc.iter().enumerate() {
                _mm256_storeu_ps(y.as_mut_ptr().add(b + 8 * i), *a);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_candles_attention_over_a_cache_view() -> candle_core::Result<()> {
        // Both models' head widths, and one that takes the plain loops; lengths with and
        // without a remainder of eight keys.
        for (d, len) in [(64, 27), (128, 16), (24, 5)] {
            attention_over_view(d, len)?;
        }
        Ok(())
    }

    fn attention_over_view(d: usize, len: usize) -> candle_core::Result<()> {
        let (heads, kv_heads, cap) = (6, 2, 40);
        let dev = Device::Cpu;
        let fill = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| ((i * 7919 + seed * 104_729) % 1000) as f32 / 250.0 - 2.0).collect()
        };
        let q = Tensor::from_vec(fill(heads * d, 1), (1, heads, 1, d), &dev)?;
        let half = |seed| {
            Tensor::from_vec(fill(kv_heads * cap * d, seed), (1, kv_heads, cap, d), &dev)?
                .to_dtype(DType::F16)
        };
        let (kc, vc) = (half(2)?, half(3)?);
        let (k, v) = (kc.narrow(2, 0, len)?, vc.narrow(2, 0, len)?);
        let got = one_row(&q, &k, &v)?.expect("applies");
        let (k, v) = (k.to_dtype(DType::F32)?, v.to_dtype(DType::F32)?);
        // candle's way, as `Model` computes it.
        let rep = heads / kv_heads;
        let qs = (q.reshape((1, kv_heads, rep, d))? * (d as f64).powf(-0.5))?;
        let att = candle_nn::ops::softmax_last_dim(&qs.matmul(&k.t()?)?)?;
        let want = att.matmul(&v.contiguous()?)?.reshape((1, 1, heads * d))?;
        let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
        assert!(diff < 1e-5, "d {d}, {len} keys: largest difference {diff}");
        Ok(())
    }

    #[test]
    fn other_shapes_are_left_to_the_caller() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        let q = Tensor::zeros((1, 4, 2, 8), DType::F32, &dev)?;
        let k = Tensor::zeros((1, 2, 5, 8), DType::F16, &dev)?;
        assert!(one_row(&q, &k, &k)?.is_none(), "two new rows are a prompt chunk");
        let q = Tensor::zeros((1, 4, 1, 8), DType::F32, &dev)?;
        let k32 = k.to_dtype(DType::F32)?;
        assert!(one_row(&q, &k32, &k32)?.is_none(), "an f32 cache takes the general path");
        assert!(one_row(&q, &k, &k)?.is_some());
        Ok(())
    }
}
