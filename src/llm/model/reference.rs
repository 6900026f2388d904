//! For the kernels' tests: an `n × k` weight matrix and a `(1, rows, k)` input, and the
//! product of the input with a quantized copy of the weights as stored (dequantized) with its
//! largest magnitude.

use candle_core::quantized::QTensor;
use candle_core::{Device, Tensor};

pub fn inputs(n: usize, k: usize, rows: usize) -> (Tensor, Tensor) {
    let w: Vec<f32> = (0..n * k).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
    let x: Vec<f32> = (0..rows * k).map(|i| ((i * 31) % 97) as f32 / 48.0 - 1.0).collect();
    let w = Tensor::from_vec(w, (n, k), &Device::Cpu).expect("w");
    (w, Tensor::from_vec(x, (1, rows, k), &Device::Cpu).expect("x"))
}

pub fn product(q: &QTensor, x: &Tensor) -> (Tensor, f32) {
    let reference =
        q.dequantize(&Device::Cpu).and_then(|d| x.broadcast_matmul(&d.t()?)).expect("reference");
    let scale = reference.abs().and_then(|r| r.max_all()?.to_scalar::<f32>()).expect("max");
    assert!(scale > 1.0, "a trivial product proves nothing");
    (reference, scale)
}

/// The largest difference between two products.
pub fn diff(a: Tensor, b: &Tensor) -> f32 {
    (a - b).and_then(|d| d.abs()?.max_all()?.to_scalar::<f32>()).expect("diff")
}
