//! The encoder's element-wise work, vectorised and in place.
//!
//! A 30-second window puts 1,500 frames through four (tiny) to 32 (large) layers: each layer's
//! attention takes the softmax of six or more 1,500 × 1,500 score matrices and its MLP the GELU
//! of a 1,500 × 1,536 activation. candle computes both with the C library's scalar `expf` and
//! `tanhf`, the GELU on one thread: in `perf` of a 6-minute transcription they were a fifth of
//! the CPU time, and the second thread spun idle through the GELU. Here both run eight lanes at
//! a time ([`crate::vecmath`], relative error about 2e-7), on candle's own worker pool, and
//! overwrite the tensor they are given (a fresh product nobody else holds), which also saves
//! allocating a 54 MB score matrix per layer. Other devices and dtypes keep candle's ops.

use candle_core::{CpuStorage, Device, InplaceOp1, Layout, Result, Tensor};

use crate::vecmath;

/// `x.gelu()` (the tanh approximation), computed in place where `x` is an f32 CPU tensor.
pub fn gelu(x: Tensor) -> Result<Tensor> {
    in_place(x, &Gelu, Tensor::gelu)
}

/// `candle_nn::ops::softmax_last_dim(x)`, computed in place where `x` is an f32 CPU tensor.
pub fn softmax_last_dim(x: Tensor) -> Result<Tensor> {
    in_place(x, &Softmax, candle_nn::ops::softmax_last_dim)
}

/// `op` applied to `x` in place where it is an f32 CPU tensor, else candle's own version.
fn in_place(
    x: Tensor,
    op: &impl InplaceOp1,
    candle: impl FnOnce(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    if !fast(&x) {
        return candle(&x);
    }
    let x = x.contiguous()?;
    x.inplace_op1(op)?;
    Ok(x)
}

fn fast(x: &Tensor) -> bool {
    matches!(x.device(), Device::Cpu) && x.dtype() == candle_core::DType::F32 && x.rank() > 0
}

struct Gelu;
struct Softmax;

/// The contiguous f32 values of an in-place op's storage.
fn values<'a>(storage: &'a mut CpuStorage, layout: &Layout) -> Result<&'a mut [f32]> {
    let (CpuStorage::F32(data), Some((a, b))) = (storage, layout.contiguous_offsets()) else {
        candle_core::bail!("the vectorised whisper ops take contiguous f32 tensors")
    };
    Ok(&mut data[a..b])
}

/// A slice that the pool's workers write in disjoint ranges.
struct Shared(*mut f32, usize);
// SAFETY: every range handed out by `execute_chunked` is disjoint, so no two threads touch the
// same element, and the slice outlives the call.
unsafe impl Sync for Shared {}

impl Shared {
    /// # Safety
    /// `range` must lie within the slice and not overlap another thread's.
    #[allow(clippy::mut_from_ref)]
    unsafe fn range(&self, r: std::ops::Range<usize>) -> &mut [f32] {
        debug_assert!(r.end <= self.1);
        std::slice::from_raw_parts_mut(self.0.add(r.start), r.len())
    }
}

/// Runs `f` on disjoint chunks of `rows` rows of `width` values each, on candle's worker pool.
fn par_rows(data: &mut [f32], width: usize, f: impl Fn(&mut [f32]) + Sync) {
    let rows = data.len() / width;
    let shared = Shared(data.as_mut_ptr(), data.len());
    candle_core::utils::barrier_pool().execute_chunked(rows, |r| {
        // SAFETY: the pool hands out disjoint row ranges within `rows`.
        let chunk = unsafe { shared.range(r.start * width..r.end * width) };
        chunk.chunks_exact_mut(width).for_each(&f);
    });
}

impl InplaceOp1 for Gelu {
    fn name(&self) -> &'static str {
        "whisper-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let data = values(storage, layout)?;
        // Rows of about 4,096 values: big enough to amortise the pool, small enough to share.
        let width = 4096.min(data.len()).max(1);
        let (whole, tail) = data.split_at_mut(data.len() - data.len() % width);
        par_rows(whole, width, vecmath::gelu_tanh_inplace);
        vecmath::gelu_tanh_inplace(tail);
        Ok(())
    }
}

impl InplaceOp1 for Softmax {
    fn name(&self) -> &'static str {
        "whisper-softmax"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        let width = layout.shape().dims().last().copied().unwrap_or(1).max(1);
        par_rows(values(storage, layout)?, width, vecmath::softmax_inplace);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "at {i}: {x} against candle's {y}");
        }
    }

    #[test]
    fn gelu_matches_candle_across_its_range() -> Result<()> {
        // Includes the tails (±20, where e^x saturates) and a length that is not a
        // multiple of 8 or of the pool's rows.
        let v: Vec<f32> = (0..10_003).map(|i| (i as f32 - 5_000.0) / 250.0).collect();
        let x = Tensor::new(v.as_slice(), &Device::Cpu)?.reshape((1, 10_003))?;
        let want = x.gelu()?.flatten_all()?.to_vec1::<f32>()?;
        let got = gelu(x.copy()?)?.flatten_all()?.to_vec1::<f32>()?;
        close(&got, &want, 1e-6);
        Ok(())
    }

    #[test]
    fn softmax_matches_candle_with_masked_entries() -> Result<()> {
        let mut v: Vec<f32> = (0..6 * 37).map(|i| ((i * 7919) % 97) as f32 / 9.0 - 5.0).collect();
        v[3] = f32::NEG_INFINITY; // a causal mask's entry
        let x = Tensor::from_vec(v, (2, 3, 37), &Device::Cpu)?;
        let want = candle_nn::ops::softmax_last_dim(&x)?.flatten_all()?.to_vec1::<f32>()?;
        let got = softmax_last_dim(x.copy()?)?.flatten_all()?.to_vec1::<f32>()?;
        close(&got, &want, 1e-6);
        assert!(got[3] < 1e-30);
        Ok(())
    }

    #[test]
    fn a_strided_tensor_is_copied_not_overwritten() -> Result<()> {
        let x = Tensor::arange(0f32, 12.0, &Device::Cpu)?.reshape((3, 4))?.t()?;
        let before = x.to_vec2::<f32>()?;
        let want = candle_nn::ops::softmax_last_dim(&x.contiguous()?)?.flatten_all()?;
        let got = softmax_last_dim(x.clone())?.flatten_all()?;
        close(&got.to_vec1::<f32>()?, &want.to_vec1::<f32>()?, 1e-6);
        assert_eq!(x.to_vec2::<f32>()?, before);
        Ok(())
    }
}
