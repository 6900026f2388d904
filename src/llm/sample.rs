//! Choosing the next token: repetition penalty, then greedy or temperature/top-k/top-p
//! sampling from a seeded generator, skipping tokens a constraint rules out.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Sampling {
    /// 0 means greedy.
    pub temperature: f32,
    pub top_p: f32,
    pub top_k: usize,
    pub seed: u64,
    /// llama.cpp's convention: positive logits of recent tokens are divided by it, negative
    /// ones multiplied; 1.0 turns it off.
    pub repeat_penalty: f32,
    pub repeat_last_n: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 0.0,
            top_p: 0.9,
            top_k: 40,
            seed: 42,
            repeat_penalty: 1.1,
            repeat_last_n: 64,
        }
    }
}

pub struct Sampler {
    opts: Sampling,
    rng: StdRng,
}

/// How many of the best tokens are tried before the whole vocabulary is sorted; under a
/// constraint the best token is usually allowed, so the full sort is rare.
const SHORTLIST: usize = 64;

impl Sampler {
    pub fn new(opts: Sampling) -> Sampler {
        let rng = StdRng::seed_from_u64(opts.seed);
        Sampler { opts, rng }
    }

    /// Picks a token from `logits`, considering only ids for which `allowed` is true. `None`
    /// when no token is allowed at all.
    pub fn pick(
        &mut self,
        logits: &mut [f32],
        recent: &[u32],
        allowed: &mut dyn FnMut(u32) -> bool,
    ) -> Option<u32> {
        self.penalize(logits, recent);
        let want = if self.opts.temperature <= 0.0 { 1 } else { self.opts.top_k.max(1) };
        let candidates = best_allowed(logits, want, allowed);
        if candidates.is_empty() {
            return None;
        }
        if self.opts.temperature <= 0.0 || candidates.len() == 1 {
            return Some(candidates[0]);
        }
        let t = self.opts.temperature;
        let top = logits[candidates[0] as usize];
        let mut probs: Vec<f32> =
            candidates.iter().map(|&i| ((logits[i as usize] - top) / t).exp()).collect();
        let sum: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= sum);
        // Top-p: keep the smallest prefix whose mass reaches p.
        let mut mass = 0.0;
        let mut keep = probs.len();
        for (i, p) in probs.iter().enumerate() {
            mass += p;
            if mass >= self.opts.top_p {
                keep = i + 1;
                break;
            }
        }
        let total: f32 = probs[..keep].iter().sum();
        let mut r = self.rng.random::<f32>() * total;
        for (i, p) in probs[..keep].iter().enumerate() {
            if r < *p {
                return Some(candidates[i]);
            }
            r -= p;
        }
        Some(candidates[keep - 1])
    }

    fn penalize(&self, logits: &mut [f32], recent: &[u32]) {
        let p = self.opts.repeat_penalty;
        if p == 1.0 || self.opts.repeat_last_n == 0 {
            return;
        }
        let start = recent.len().saturating_sub(self.opts.repeat_last_n);
        let mut seen = std::collections::HashSet::new();
        for &id in &recent[start..] {
            if seen.insert(id) {
                if let Some(l) = logits.get_mut(id as usize) {
                    *l = if *l > 0.0 { *l / p } else { *l * p };
                }
            }
        }
    }
}

/// Up to `n` allowed token ids in order of decreasing logit.
fn best_allowed(logits: &[f32], n: usize, allowed: &mut dyn FnMut(u32) -> bool) -> Vec<u32> {
    let by_logit = |a: &u32, b: &u32| logits[*b as usize].total_cmp(&logits[*a as usize]);
    let mut ids: Vec<u32> = (0..logits.len() as u32).collect();
    let short = SHORTLIST.max(n).min(ids.len());
    if short < ids.len() {
        ids.select_nth_unstable_by(short - 1, by_logit);
    }
    let (head, tail) = ids.split_at_mut(short);
    head.sort_unstable_by(by_logit);
    let mut out: Vec<u32> = head.iter().copied().filter(|&i| allowed(i)).take(n).collect();
    if out.len() < n && !tail.is_empty() {
        tail.sort_unstable_by(by_logit);
        out.extend(tail.iter().copied().filter(|&i| allowed(i)).take(n - out.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_takes_best_allowed() {
        let mut s = Sampler::new(Sampling { repeat_penalty: 1.0, ..Default::default() });
        let mut logits: Vec<f32> = (0..200).map(|i| i as f32).collect();
        assert_eq!(s.pick(&mut logits.clone(), &[], &mut |_| true), Some(199));
        assert_eq!(s.pick(&mut logits, &[], &mut |i| i < 10), Some(9));
        assert_eq!(s.pick(&mut [1.0, 2.0], &[], &mut |_| false), None);
    }

    #[test]
    fn same_seed_same_choices() {
        let opts = Sampling { temperature: 1.0, top_p: 1.0, seed: 7, ..Default::default() };
        let logits: Vec<f32> = (0..100).map(|i| (i % 7) as f32 * 0.3).collect();
        let run = |opts: Sampling| {
            let mut s = Sampler::new(opts);
            (0..50).map(|_| s.pick(&mut logits.clone(), &[], &mut |_| true)).collect::<Vec<_>>()
        };
        assert_eq!(run(opts.clone()), run(opts.clone()));
        assert_ne!(run(opts.clone()), run(Sampling { seed: 8, ..opts }));
    }

    #[test]
    fn repetition_penalty_demotes_recent_tokens() {
        let mut s = Sampler::new(Sampling { repeat_penalty: 2.0, ..Default::default() });
        let mut logits = vec![0.0, 3.0, 2.0];
        assert_eq!(s.pick(&mut logits, &[1], &mut |_| true), Some(2));
    }
}
