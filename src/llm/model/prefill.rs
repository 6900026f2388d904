//! Prompt chunks: `x · wᵀ` for many rows of `x`, as an f32 GEMM (which reuses each weight from
//! cache across rows, where the quantized kernels re-read it for every row) over the weights
//! dequantized a slice of rows at a time into one reused buffer. Dequantizing the whole
//! matrix instead allocated and faulted in a fresh f32 copy per matrix per chunk (55 MB for a
//! feed-forward matrix of Qwen2.5-Coder-1.5B), about a tenth of prompt time in `perf`, and glibc
//! kept some 140 MB of those copies after the prompt, which put the 1.5B model's peak over
//! 1.5 GiB. Each output is still one GEMM's sum over the whole of `k`, so the results are those
//! of the whole product, bit for bit (tested), and greedy output is unchanged.

use std::cell::RefCell;

use candle_core::quantized::k_quants::{BlockQ4K, BlockQ5K, BlockQ6K, BlockQ8_0, GgmlType};
use candle_core::quantized::{GgmlDType, QTensor};
use candle_core::{DType, Device, Storage, Tensor};
use rayon::prelude::*;

use super::int8;
use super::q5::{self, Q5};

/// Floats of dequantized weights per slice: small enough to stay in the last-level cache's
/// neighbourhood and never worth returning to the OS, large enough for full GEMM speed.
const SLICE_FLOATS: usize = 2 << 20;

thread_local! {
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// `x · wᵀ`, or `None` when `w`'s block type or `x`'s storage is not handled here.
pub fn matmul(w: &QTensor, x: &Tensor) -> candle_core::Result<Option<Tensor>> {
    let fits = int8::available() && w.shape().dims2()?.0 % int8::ROWS == 0;
    match w.dtype() {
        GgmlDType::Q4K if fits => through(w, x, integer::<BlockQ4K, int8::Q4K>),
        GgmlDType::Q6K if fits => through(w, x, integer::<BlockQ6K, int8::Q6K>),
        GgmlDType::Q4K => through(w, x, product::<BlockQ4K>),
        GgmlDType::Q5K => through(w, x, product::<BlockQ5K>),
        GgmlDType::Q6K => through(w, x, product::<BlockQ6K>),
        GgmlDType::Q8_0 => through(w, x, product::<BlockQ8_0>),
        GgmlDType::Q5_0 if q5::fast() => through(w, x, product::<Q5>),
        _ => Ok(None),
    }
}

/// A product `(blocks of w, n, k, x's values, x's rows) → x · wᵀ`, rows × n.
type Product<T> = fn(&[T], usize, usize, &[f32], usize) -> Vec<f32>;

/// `f(blocks, n, k, x's values, x's rows)` as a tensor of `x`'s dims with `n` columns; `None`
/// when `x` is not a contiguous f32 CPU tensor or `w`'s storage is not `T` blocks as stored.
fn through<T: GgmlType>(
    w: &QTensor,
    x: &Tensor,
    f: Product<T>,
) -> candle_core::Result<Option<Tensor>> {
    if !x.device().is_cpu() || x.dtype() != DType::F32 || !x.is_contiguous() {
        return Ok(None);
    }
    let (n, k) = w.shape().dims2()?;
    let Some(blocks) = super::stored_blocks::<T>(w)? else { return Ok(None) };
    let dims = x.dims().to_vec();
    let rows: usize = dims[..dims.len() - 1].iter().product();
    let (storage, layout) = x.storage_and_layout();
    let Storage::Cpu(cpu) = &*storage else { return Ok(None) };
    let start = layout.start_offset();
    let out = f(blocks, n, k, &cpu.as_slice::<f32>()?[start..start + rows * k], rows);
    Ok(Some(Tensor::from_vec(out, super::out_dims(&dims, n), &Device::Cpu)?))
}

/// K-quants through the 8-bit kernel (`int8`): `C` is candle's block type, `B` its mirror.
fn integer<C: GgmlType, B: int8::Block>(
    blocks: &[C],
    n: usize,
    k: usize,
    xs: &[f32],
    _rows: usize,
) -> Vec<f32> {
    int8::matmul(int8::view::<C, B>(blocks), n, k, xs)
}

/// `x · wᵀ` through the f32 GEMM, the weights dequantized a slice of rows at a time.
fn product<T: GgmlType>(blocks: &[T], n: usize, k: usize, xs: &[f32], rows: usize) -> Vec<f32> {
    let per_row = k / T::BLCK_SIZE;
    // Rows of `w` per slice, about SLICE_FLOATS weights. Slicing the rows (the output's
    // columns) leaves every output's sum over `k` to one GEMM call, as without slices; slices
    // start at multiples of 96 columns, where the GEMM's own column panels start (elsewhere the
    // last bits changed, enough to flip a greedy token of the 0.5B model's benchmark reply).
    let height = ((SLICE_FLOATS / k.max(1)) / 96 * 96).clamp(96, n.max(96));
    let mut out = vec![0f32; rows * n];
    let threads = rayon::current_num_threads();
    let parallelism =
        if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
    SCRATCH.with(|cell| {
        let mut scratch = cell.borrow_mut();
        for j0 in (0..n).step_by(height) {
            let count = height.min(n - j0);
            if scratch.len() < count * k {
                scratch.resize(count * k, 0.0);
            }
            let slice = &mut scratch[..count * k];
            let own = &blocks[j0 * per_row..(j0 + count) * per_row];
            slice
                .par_chunks_mut(k)
                .zip(own.par_chunks(per_row))
                .for_each(|(dst, row)| T::to_float(row, dst));
            // SAFETY: every pointer and stride describes memory of the sizes computed above:
            // out is rows × n (row-major) written from column j0, xs is rows × k, and the
            // slice, count × k, is read transposed as k × count.
            unsafe {
                gemm::gemm(
                    rows,
                    count,
                    k,
                    out.as_mut_ptr().add(j0),
                    1,
                    n as isize,
                    false,
                    xs.as_ptr(),
                    1,
                    k as isize,
                    slice.as_ptr(),
                    k as isize,
                    1,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    parallelism,
                )
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliced_products_match_the_whole_dequantized_product() {
        // n × k is twice SLICE_FLOATS, so the product takes two slices.
        let (n, k) = (4096, 1024);
        assert_eq!(n * k, 2 * SLICE_FLOATS);
        let (w, x) = super::super::reference::inputs(n, k, 20);
        for dtype in [GgmlDType::Q4K, GgmlDType::Q6K, GgmlDType::Q8_0, GgmlDType::Q5_0] {
            let q = QTensor::quantize(&w, dtype).expect("quantize");
            // K-quants go through `int8` where the CPU allows; their f32 path is tested here.
            let ours = match dtype {
                GgmlDType::Q4K => through(&q, &x, product::<BlockQ4K>),
                GgmlDType::Q6K => through(&q, &x, product::<BlockQ6K>),
                _ => matmul(&q, &x),
            };
            let Some(ours) = ours.expect("product") else {
                assert!(dtype == GgmlDType::Q5_0 && !q5::fast(), "{dtype:?}");
                continue;
            };
            let (reference, scale) = super::super::reference::product(&q, &x);
            let diff = super::super::reference::diff(ours, &reference);
            assert_eq!(diff, 0.0, "{dtype:?}: {diff} of {scale}");
        }
    }
}
