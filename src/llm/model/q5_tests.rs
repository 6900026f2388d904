use candle_core::quantized::k_quants::{BlockQ8_0, GgmlType};

use super::*;

/// Weights and activations with every fifth-bit pattern and both signs.
fn blocks(n: usize) -> (Vec<Q5>, Vec<BlockQ8_0>) {
    let w: Vec<f32> = (0..n * 32).map(|i| ((i * 7919 + 13) % 997) as f32 / 498.0 - 1.0).collect();
    // Correlated with the weights, so that the sum is far from zero.
    let a: Vec<f32> =
        w.iter().enumerate().map(|(i, w)| 0.8 * w + ((i * 31 + 5) % 89) as f32 / 440.0).collect();
    let mut xs = vec![Q5::zeros(); n];
    Q5::from_float(&w, &mut xs);
    let mut ys = vec![BlockQ8_0::zeros(); n];
    BlockQ8_0::from_float(&a, &mut ys);
    (xs, ys)
}

#[test]
fn the_simd_dot_products_equal_the_scalar_one() {
    let (xs, ys) = blocks(64);
    let reference = Q5::vec_dot_unopt(64 * 32, &xs, &ys);
    assert!(reference.abs() > 1.0, "a test with a trivial sum proves nothing: {reference}");
    // Each block's integer sum is exact; only the order of the float additions differs.
    let close = |got: f32| (got - reference).abs() <= 1e-4 * reference.abs().max(1.0);
    let dispatched = Q5::vec_dot(64 * 32, &xs, &ys);
    assert!(close(dispatched), "{dispatched} vs {reference}");
    #[cfg(target_arch = "x86_64")]
    {
        let ys = q8(&ys);
        if fast() {
            // SAFETY: the features were detected.
            let got = unsafe { x86::dot_avx2(&xs, ys) };
            assert!(close(got), "avx2 {got} vs {reference}");
        }
        if fast() && is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: as above.
            let got = unsafe { x86::dot_vnni(&xs, ys) };
            assert!(close(got), "vnni {got} vs {reference}");
            if is_x86_feature_detected!("avx512bw") {
                // SAFETY: as above. Equal to the bit: the same sums added in the same order,
                // for an even and an odd number of blocks.
                for n in [64, 63] {
                    let (bw, vnni) =
                        unsafe { (x86::dot_vnni_bw(&xs[..n], ys), x86::dot_vnni(&xs[..n], ys)) };
                    assert_eq!(bw.to_bits(), vnni.to_bits(), "{n} blocks");
                }
            }
        }
    }
}

#[test]
fn the_blocks_read_back_as_candle_reads_them() {
    let (xs, _) = blocks(4);
    let mut ours = vec![0f32; 128];
    Q5::to_float(&xs, &mut ours);
    // candle's scalar reading; ours is SIMD where the CPU allows.
    let mut theirs = vec![0f32; 128];
    BlockQ5_0::to_float(as_candle(&xs), &mut theirs);
    assert_eq!(ours, theirs);
    // Every value is d · (q − 16) with q in 0..32.
    let d = half::f16::from_bits(xs[0].d).to_f32();
    assert!(ours[..32].iter().all(|v| (v / d).round() >= -16.0 && (v / d).round() <= 15.0));
}
