//! From token vectors to one unit-length sentence vector, and comparing two of them.

use super::Pooling;

/// Pools the token vectors of one sentence (`tokens` is `len * dim`, pad-free).
pub(super) fn pool(tokens: &[f32], dim: usize, mode: Pooling) -> Vec<f32> {
    let n = tokens.len() / dim;
    if n == 0 {
        return vec![0.0; dim];
    }
    let mut acc = tokens[..dim].to_vec();
    match mode {
        Pooling::Cls => return acc,
        Pooling::Max => {
            for row in tokens.chunks_exact(dim).skip(1) {
                acc.iter_mut().zip(row).for_each(|(a, &x)| *a = a.max(x));
            }
            return acc;
        }
        Pooling::Mean | Pooling::MeanSqrtLen => {
            for row in tokens.chunks_exact(dim).skip(1) {
                acc.iter_mut().zip(row).for_each(|(a, &x)| *a += x);
            }
        }
    }
    let scale = match mode {
        Pooling::MeanSqrtLen => 1.0 / (n as f32).sqrt(),
        _ => 1.0 / n as f32,
    };
    acc.iter_mut().for_each(|a| *a *= scale);
    acc
}

/// Scales to unit length (sentence-transformers' `Normalize`, which clamps the norm at 1e-12).
pub(super) fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Cosine similarity; 0 when either vector is zero or the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (&x, &y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}
