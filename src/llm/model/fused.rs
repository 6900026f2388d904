//! Several matrices times the same few rows in one pass: a layer's query, key and value
//! projections read the same normalised input, and so do the MLP's gate and up projections.
//! candle's product quantizes its input and wakes its worker pool once per matrix; for a
//! generated token those fixed costs are paid seven times a layer. Here the input is
//! quantized once, and one pool call shares out the column quads of every matrix of one block
//! type. Each output is computed by the same block kernel (`vec_dot_4`) on the same quantized
//! input as candle's product, so results are equal to the bit.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8_0, GgmlType};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Tensor};

/// `x · wᵀ` for each `w` of `ws` (all of one block type with a kernel here, the same input
/// width, output widths that are multiples of 4), or `None` for the caller's own products.
pub fn matmul(ws: &[&QTensor], x: &Tensor) -> candle_core::Result<Option<Vec<Tensor>>> {
    let Some(first) = ws.first() else { return Ok(Some(Vec::new())) };
    if ws.iter().any(|w| w.dtype() != first.dtype()) {
        return Ok(None);
    }
    match first.dtype() {
        GgmlDType::Q4K => run::<BlockQ4K>(ws, x),
        GgmlDType::Q6K => run::<BlockQ6K>(ws, x),
        GgmlDType::Q8_0 => run::<BlockQ8_0>(ws, x),
        GgmlDType::Q5_0 if super::q5::fast() => run::<super::q5::Q5>(ws, x),
        _ => Ok(None),
    }
}

fn run<T: GgmlType>(ws: &[&QTensor], x: &Tensor) -> candle_core::Result<Option<Vec<Tensor>>> {
    if !x.device().is_cpu() {
        return Ok(None);
    }
    let dims = x.dims().to_vec();
    let k = dims[dims.len() - 1];
    let mut mats: Vec<(&[T], usize)> = Vec::with_capacity(ws.len());
    for w in ws {
        let (n, wk) = w.shape().dims2()?;
        let Some(blocks) = super::stored_blocks::<T>(w)? else { return Ok(None) };
        if wk != k || !n.is_multiple_of(4) || !k.is_multiple_of(T::BLCK_SIZE) {
            return Ok(None);
        }
        mats.push((blocks, n));
    }
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let lhs = x.flatten_all()?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
    let kb = k / T::BLCK_SIZE;
    let mut q = vec![T::VecDotType::zeros(); rows * kb];
    for (xr, qr) in lhs.chunks_exact(k).zip(q.chunks_exact_mut(kb)) {
        T::VecDotType::from_float(xr, qr);
    }
    // The quads of every matrix, numbered one after the other.
    let starts: Vec<usize> = mats
        .iter()
        .scan(0, |at, (_, n)| {
            let s = *at;
            *at += n / 4;
            Some(s)
        })
        .collect();
    let total: usize = mats.iter().map(|(_, n)| n / 4).sum();
    let mut outs: Vec<Vec<f32>> = mats.iter().map(|(_, n)| vec![0f32; rows * n]).collect();
    let ptrs = Outs(outs.iter_mut().map(|o| o.as_mut_ptr()).collect());
    candle_core::utils::barrier_pool().execute_chunked(total, |range| {
        for item in range {
            let m = starts.partition_point(|&s| s <= item) - 1;
            let (w, n) = mats[m];
            let col = (item - starts[m]) * 4;
            let row = |c: usize| &w[c * kb..(c + 1) * kb];
            for r in 0..rows {
                let (d0, d1, d2, d3) = T::vec_dot_4(
                    k,
                    row(col),
                    row(col + 1),
                    row(col + 2),
                    row(col + 3),
                    &q[r * kb..(r + 1) * kb],
                );
                // SAFETY: each (matrix, row, quad) is written by the one item that has it.
                unsafe { ptrs.write(m, r * n + col, [d0, d1, d2, d3]) };
            }
        }
    });
    let tensors = outs
        .into_iter()
        .zip(&mats)
        .map(|(o, (_, n))| Tensor::from_vec(o, super::out_dims(&dims, *n), &Device::Cpu))
        .collect::<candle_core::Result<Vec<_>>>()?;
    Ok(Some(tensors))
}

/// The outputs, written by the pool's workers in disjoint quads.
struct Outs(Vec<*mut f32>);
// SAFETY: every quad of every output is written by exactly one work item, and the buffers
// outlive the pool call.
unsafe impl Sync for Outs {}

impl Outs {
    /// # Safety
    /// `at..at + 4` must lie within output `m` and be written by this thread only.
    unsafe fn write(&self, m: usize, at: usize, v: [f32; 4]) {
        std::ptr::copy_nonoverlapping(v.as_ptr(), self.0[m].add(at), 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equals_candles_product_matrix_by_matrix() -> candle_core::Result<()> {
        let dev = Device::Cpu;
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::Q8_0, GgmlDType::Q5_0] {
            let ws: Vec<QTensor> = [64, 32, 128]
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let w: Vec<f32> = (0..n * 512)
                        .map(|j| ((j * 7919 + i * 31) % 997) as f32 / 500.0 - 1.0)
                        .collect();
                    QTensor::quantize(&Tensor::from_vec(w, (n, 512), &dev)?, dtype)
                })
                .collect::<candle_core::Result<_>>()?;
            let refs: Vec<&QTensor> = ws.iter().collect();
            for rows in [1, 3] {
                let (_, x) = super::super::reference::inputs(1, 512, rows);
                let Some(ours) = matmul(&refs, &x)? else {
                    assert!(dtype == GgmlDType::Q5_0 && !super::super::q5::fast(), "{dtype:?}");
                    continue;
                };
                for (w, y) in ws.iter().zip(ours) {
                    let alone = super::super::compact::matmul(w, &x)?.expect("block product");
                    let diff = super::super::reference::diff(y, &alone);
                    assert_eq!(diff, 0.0, "{dtype:?}, {rows} rows");
                }
            }
        }
        Ok(())
    }

    #[test]
    fn mixed_block_types_are_left_to_the_caller() -> candle_core::Result<()> {
        let w = Tensor::ones((32, 256), DType::F32, &Device::Cpu)?;
        let (a, b) =
            (QTensor::quantize(&w, GgmlDType::Q4K)?, QTensor::quantize(&w, GgmlDType::Q6K)?);
        let x = Tensor::ones((1, 1, 256), DType::F32, &Device::Cpu)?;
        assert!(matmul(&[&a, &b], &x)?.is_none());
        Ok(())
    }
}
