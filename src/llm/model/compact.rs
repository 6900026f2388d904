//! Matrix-vector products on the weights as stored. candle's CPU matmul repacks Q4_K, Q6_K and
//! Q8_0 matrices on first use into a tiled layout and keeps it beside the original: for
//! Qwen2.5-Coder-1.5B that second copy was about 0.7 GB of the 2.3 GB peak (measured; the
//! 0.5B model's 896-wide rows are not tiled, which is why it never grew). Token-by-token
//! generation multiplies one row at a time, where the tiles buy little, so podbrief calls
//! candle's block kernels on the stored blocks directly and the copy is never made.

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ6K, BlockQ8_0, GgmlType};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{Device, Tensor};

/// `x · wᵀ` for the few rows of `x`, or `None` when `w`'s type has no kernel here (the caller
/// falls back to candle's own product).
pub fn matmul(w: &QTensor, x: &Tensor) -> candle_core::Result<Option<Tensor>> {
    match w.dtype() {
        GgmlDType::Q4K => run::<BlockQ4K>(w, x),
        GgmlDType::Q6K => run::<BlockQ6K>(w, x),
        GgmlDType::Q8_0 => run::<BlockQ8_0>(w, x),
        GgmlDType::Q5_0 if super::q5::fast() => run::<super::q5::Q5>(w, x),
        _ => Ok(None),
    }
}

fn run<T: GgmlType>(w: &QTensor, x: &Tensor) -> candle_core::Result<Option<Tensor>> {
    if !x.device().is_cpu() {
        return Ok(None);
    }
    let (n, k) = w.shape().dims2()?;
    let Some(blocks) = super::stored_blocks::<T>(w)? else { return Ok(None) };
    let dims = x.dims().to_vec();
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let lhs = x.flatten_all()?.to_dtype(candle_core::DType::F32)?.to_vec1::<f32>()?;
    let mut dst = vec![0f32; rows * n];
    candle_core::quantized::k_quants::matmul((rows, k, n), &lhs, blocks, &mut dst)?;
    Ok(Some(Tensor::from_vec(dst, super::out_dims(&dims, n), &Device::Cpu)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_product_matches_the_dequantized_reference() {
        let (w, x) = super::super::reference::inputs(64, 512, 2);
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::Q8_0, GgmlDType::Q5_0] {
            let q = QTensor::quantize(&w, dtype).expect("quantize");
            let Some(ours) = matmul(&q, &x).expect("product") else {
                assert!(dtype == GgmlDType::Q5_0 && !super::super::q5::fast(), "{dtype:?}");
                continue;
            };
            // The exact product with the weights as stored; ours also rounds x to 8 bits.
            let (reference, scale) = super::super::reference::product(&q, &x);
            let diff = super::super::reference::diff(ours, &reference);
            assert!(diff <= 0.01 * scale, "{dtype:?}: {diff} of {scale}");
        }
    }
}
