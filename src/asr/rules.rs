//! The logit rules of OpenAI's decoder (`SuppressBlank`, `SuppressTokens`, `ApplyTimestampRules`).
//! They are what keeps a small model's timestamps well-formed and monotonic, which the long-form
//! loop relies on to seek; pure functions here so they can be tested without a model.

use super::tokens::SpecialTokens;

/// 1.0 s: the first timestamp of a window may not be later than this (in 20 ms steps).
pub const MAX_INITIAL_TIMESTAMP_INDEX: u32 = 50;

/// Masks `logits` (one row) in place for the next token after `sampled` (the tokens generated in
/// this window so far, without the prompt), and returns the log-probabilities of the masked row.
pub fn apply(logits: &mut [f32], sampled: &[u32], tok: &SpecialTokens) -> Vec<f32> {
    let ninf = f32::NEG_INFINITY;
    let ban = |logits: &mut [f32], i: u32| {
        if let Some(l) = logits.get_mut(i as usize) {
            *l = ninf;
        }
    };
    for &t in &tok.suppress {
        ban(logits, t);
    }
    ban(logits, tok.no_timestamps);
    if sampled.is_empty() {
        for &t in &tok.suppress_at_begin {
            ban(logits, t);
        }
    }

    let tb = tok.timestamp_begin as usize;
    let n = logits.len();
    if tb >= n {
        return log_softmax(logits);
    }
    let is_ts = |t: u32| t >= tok.timestamp_begin;
    let last_ts = sampled.last().is_some_and(|&t| is_ts(t));
    let penultimate_ts = sampled.len() < 2 || is_ts(sampled[sampled.len() - 2]);
    if last_ts {
        if penultimate_ts {
            // A closed pair: text (or the end) must follow.
            logits[tb..].fill(ninf);
        } else {
            // An open segment: it must be closed by a timestamp, or the window ends.
            logits[..tok.eot as usize].fill(ninf);
        }
    }
    if let Some(&last) = sampled.iter().rev().find(|&&t| is_ts(t)) {
        // Timestamps never go back; after a segment's end, the next start may equal it.
        let floor = if last_ts && !penultimate_ts { last } else { last + 1 };
        let floor = (floor as usize).min(n);
        logits[tb..floor].fill(ninf);
    }
    if sampled.is_empty() {
        logits[..tb].fill(ninf);
        let last_allowed = tb + MAX_INITIAL_TIMESTAMP_INDEX as usize;
        if last_allowed + 1 < n {
            logits[last_allowed + 1..].fill(ninf);
        }
    }

    let logprobs = log_softmax(logits);
    // If all timestamps together are likelier than any single text token, take a timestamp.
    let ts_logprob = log_sum_exp(&logprobs[tb..]);
    let max_text = logprobs[..tb].iter().cloned().fold(ninf, f32::max);
    if ts_logprob > max_text {
        logits[..tb].fill(ninf);
        return log_softmax(logits);
    }
    logprobs
}

pub fn log_sum_exp(x: &[f32]) -> f32 {
    let max = x.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    max + x.iter().map(|v| (v - max).exp()).sum::<f32>().ln()
}

pub fn log_softmax(x: &[f32]) -> Vec<f32> {
    let lse = log_sum_exp(x);
    x.iter().map(|v| v - lse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks() -> SpecialTokens {
        // A toy vocabulary: 0..10 text, 10 eot, 11 sot, 12 prev, 13 no-ts, 14.. timestamps.
        SpecialTokens {
            eot: 10,
            sot: 11,
            sot_prev: 12,
            no_timestamps: 13,
            timestamp_begin: 14,
            no_speech: None,
            transcribe: None,
            languages: vec![],
            suppress: vec![11, 12],
            suppress_at_begin: vec![0, 10],
        }
    }

    fn allowed(sampled: &[u32]) -> Vec<usize> {
        let mut logits = vec![0f32; 14 + 100];
        apply(&mut logits, sampled, &toks());
        logits.iter().enumerate().filter(|(_, l)| l.is_finite()).map(|(i, _)| i).collect()
    }

    #[test]
    fn first_token_is_an_early_timestamp() {
        let a = allowed(&[]);
        assert_eq!(a.first(), Some(&14));
        assert_eq!(a.last(), Some(&(14 + 50)));
    }

    #[test]
    fn after_a_start_timestamp_comes_text_not_a_timestamp() {
        let a = allowed(&[14 + 5]);
        assert!(a.iter().all(|&i| i < 14) && a.contains(&3) && !a.contains(&11));
    }

    #[test]
    fn an_open_segment_closes_with_a_later_timestamp_or_ends() {
        let a = allowed(&[14 + 5, 3, 4, 14 + 20]);
        // Right after the end timestamp: another timestamp equal or later (the next start); text
        // is out (and here so is the end of text, since timestamps together outweigh it).
        assert!(a.contains(&(14 + 20)) && !a.contains(&(14 + 19)) && !a.contains(&3));
        let b = allowed(&[14 + 5, 3, 4]);
        assert!(b.contains(&(14 + 6)) && !b.contains(&(14 + 5)));
    }

    #[test]
    fn likely_timestamps_win_over_text() {
        let tok = toks();
        let mut logits = vec![0f32; 114];
        for l in logits[14..].iter_mut() {
            *l = 1.0;
        }
        apply(&mut logits, &[14, 3], &tok);
        assert!(logits[..14].iter().all(|l| !l.is_finite()));
    }
}
