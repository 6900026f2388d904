//! Element-wise math that vectorises: `e^x`, GELU, softmax, sums over plain `f32` slices.
//!
//! Written as simple loops over fixed-width chunks so that LLVM vectorises them (AVX2 with the
//! crate's `x86-64-v3` target), where libm's scalar `expf`, `erff` and `tanhf` do not. Both
//! encoders use them: the embedder's packed BERT and Whisper's (where libm's `expf` and `tanhf`
//! in the attention softmax and GELU had been a fifth of a transcription's CPU time).

/// The sum of `xs`, in eight running lanes.
pub fn sum(xs: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (chunks, rest) = xs.as_chunks::<8>();
    for c in chunks {
        for l in 0..8 {
            acc[l] += c[l];
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// The largest of `xs` (−∞ for none).
pub fn max(xs: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let (chunks, rest) = xs.as_chunks::<8>();
    for c in chunks {
        for l in 0..8 {
            acc[l] = acc[l].max(c[l]);
        }
    }
    rest.iter().chain(&acc).copied().fold(f32::NEG_INFINITY, f32::max)
}

/// `e^x` for each element; relative error about 2e-7 (Cephes' polynomial). Inputs below -87
/// give 0-ish tiny values, which is all softmax needs.
pub fn exp_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        *x = exp(*x);
    }
}

#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // 1.5 * 2^23: adding and subtracting it rounds to the nearest integer without a
    // float-to-int conversion, which keeps the loop vectorisable.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5e-1;
    let y = p * r * r + r + 1.0;
    // 2^n: n + 127 lands in the low mantissa bits of (n + 127 + 2^23); shifting by 23 moves
    // exactly those bits into the exponent field.
    let scale = f32::from_bits((n + (127.0 + 8_388_608.0)).to_bits() << 23);
    y * scale
}

/// GELU with the exact (erf) form BERT was trained with, in place. erf is Abramowitz and
/// Stegun 7.1.26 (absolute error below 1.5e-7), which vectorises where libm's does not.
pub fn gelu_erf_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        let v = *x;
        let z = v.abs() * std::f32::consts::FRAC_1_SQRT_2;
        let t = 1.0 / (1.0 + 0.327_591_1 * z);
        let poly = t
            * (0.254_829_6
                + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
        let erf_abs = 1.0 - poly * exp(-z * z);
        let erf = if v < 0.0 { -erf_abs } else { erf_abs };
        *x = 0.5 * v * (1.0 + erf);
    }
}

/// GELU, tanh approximation (`gelu_new`).
pub fn gelu_tanh_inplace(xs: &mut [f32]) {
    for x in xs.iter_mut() {
        let v = *x;
        let inner = 0.797_884_6 * (v + 0.044_715 * v * v * v);
        // tanh(u) = 1 - 2 / (e^{2u} + 1)
        let tanh = 1.0 - 2.0 / (exp(2.0 * inner) + 1.0);
        *x = 0.5 * v * (1.0 + tanh);
    }
}

/// Softmax of one row, in place. Masked (−∞) entries come out as about 1e-38; a row that is all
/// −∞ comes out NaN, as candle's does (Whisper's causal masks never leave a row empty).
pub fn softmax_inplace(row: &mut [f32]) {
    let top = max(row);
    row.iter_mut().for_each(|x| *x -= top);
    exp_inplace(row);
    let inv = 1.0 / sum(row);
    row.iter_mut().for_each(|x| *x *= inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std() {
        let mut worst = 0f32;
        for i in -8700..=8800 {
            let x = i as f32 / 100.0;
            let mut v = [x];
            exp_inplace(&mut v);
            let rel = ((v[0] - x.exp()) / x.exp()).abs();
            worst = worst.max(rel);
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
    }

    #[test]
    fn gelu_matches_erf_form() {
        // Reference erf from a high-precision series, in f64.
        fn erf(x: f64) -> f64 {
            let mut sum = 0.0;
            let mut term = x;
            let mut n = 0;
            while term.abs() > 1e-17 && n < 200 {
                sum += term / (2 * n + 1) as f64;
                n += 1;
                term *= -x * x / n as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        }
        for i in -600..=600 {
            let x = i as f32 / 100.0;
            let mut v = [x];
            gelu_erf_inplace(&mut v);
            let want = 0.5 * x as f64 * (1.0 + erf(x as f64 / 2f64.sqrt()));
            assert!((v[0] as f64 - want).abs() < 1e-6, "gelu({x}) = {} want {want}", v[0]);
        }
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let mut row: Vec<f32> = (0..37).map(|i| (i % 7) as f32 - 3.0).collect();
        row[5] = f32::NEG_INFINITY;
        let want: Vec<f32> = {
            let e: Vec<f64> = row.iter().map(|&x| (x as f64 - 3.0).exp()).collect();
            let total: f64 = e.iter().sum();
            e.iter().map(|v| (v / total) as f32).collect()
        };
        softmax_inplace(&mut row);
        for (g, w) in row.iter().zip(&want) {
            assert!((g - w).abs() < 1e-6, "{g} against {w}");
        }
        assert!(row[5] < 1e-30);
    }
}
