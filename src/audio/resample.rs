//! Streaming mono resampler to 16 kHz on top of rubato's FFT resampler.
//!
//! Downstream code turns sample indices into transcript timestamps, so this module
//! cares about two things beyond sound quality: the resampler's group delay is
//! removed (a click at t = 1 s stays at sample 16 000), and the tail is flushed
//! so the output length is exactly `round(input_len * 16000 / in_rate)`.

use rubato::{FftFixedInOut, Resampler};

use super::SAMPLE_RATE;

/// Input frames per FFT block we aim for. Larger blocks give a sharper
/// anti-aliasing filter (its length equals the block) at the cost of latency,
/// which does not matter for offline transcription.
const TARGET_BLOCK_IN: usize = 1024;

/// Resampler failures carry only rubato's text; the caller adds the file name.
#[derive(Debug)]
pub(crate) struct ResampleFailure(pub String);

/// Converts a mono stream at `in_rate` to [`SAMPLE_RATE`], pushed in arbitrary pieces.
pub(crate) struct StreamResampler {
    in_rate: u32,
    fft: Option<FftState>,
    total_in: u64,
    total_out: u64,
}

/// Present only when the rate differs from 16 kHz: passthrough must be bit-exact
/// and free.
struct FftState {
    inner: FftFixedInOut<f32>,
    block_in: usize,
    /// Input not yet forming a whole block; never longer than one block after `push`.
    pending_in: Vec<f32>,
    out_buf: Vec<Vec<f32>>,
    /// Leading output frames still to drop, to cancel the filter's delay.
    to_skip: usize,
}

impl StreamResampler {
    pub(crate) fn new(in_rate: u32) -> Result<Self, ResampleFailure> {
        if in_rate == 0 {
            return Err(ResampleFailure("sample rate is 0".into()));
        }
        let fft = if in_rate == SAMPLE_RATE {
            None
        } else {
            let block = block_size_in(in_rate, SAMPLE_RATE);
            let inner = FftFixedInOut::<f32>::new(in_rate as usize, SAMPLE_RATE as usize, block, 1)
                .map_err(|e| ResampleFailure(e.to_string()))?;
            let block_in = inner.input_frames_next();
            let to_skip = inner.output_delay();
            let out_buf = inner.output_buffer_allocate(true);
            tracing::debug!(in_rate, block_in, delay_out = to_skip, "created FFT resampler");
            Some(FftState {
                inner,
                block_in,
                pending_in: Vec::with_capacity(block_in * 2),
                out_buf,
                to_skip,
            })
        };
        Ok(Self { in_rate, fft, total_in: 0, total_out: 0 })
    }

    pub(crate) fn in_rate(&self) -> u32 {
        self.in_rate
    }

    /// Feeds `samples` and appends whatever output is ready to `out`.
    pub(crate) fn push(
        &mut self,
        samples: &[f32],
        out: &mut Vec<f32>,
    ) -> Result<(), ResampleFailure> {
        self.total_in += samples.len() as u64;
        let Some(st) = self.fft.as_mut() else {
            out.extend_from_slice(samples);
            self.total_out += samples.len() as u64;
            return Ok(());
        };

        // Process whole blocks straight from the caller's slice when nothing is
        // buffered, so long packets are not copied twice.
        let mut rest = samples;
        if !st.pending_in.is_empty() {
            let need = st.block_in - st.pending_in.len();
            let take = need.min(rest.len());
            st.pending_in.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if st.pending_in.len() < st.block_in {
                return Ok(());
            }
            let block = std::mem::take(&mut st.pending_in);
            let n = st.process_block(&block)?;
            st.pending_in = block;
            st.pending_in.clear();
            self.total_out += st.emit(n, usize::MAX, out) as u64;
        }
        while rest.len() >= st.block_in {
            let (block, tail) = rest.split_at(st.block_in);
            let n = st.process_block(block)?;
            self.total_out += st.emit(n, usize::MAX, out) as u64;
            rest = tail;
        }
        st.pending_in.extend_from_slice(rest);
        Ok(())
    }

    /// Flushes the buffered input and the filter tail; call once at end of stream.
    ///
    /// Pads with silence exactly far enough that every input sample has been
    /// pushed through the filter, then trims to the length the rate ratio predicts.
    pub(crate) fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), ResampleFailure> {
        let expected = expected_len(self.total_in, self.in_rate);
        let Some(st) = self.fft.as_mut() else {
            return Ok(());
        };
        // Each flush block yields `block_out` frames, and the delay is half a block,
        // so two silent blocks always suffice; the bound guards against a rubato change.
        let mut rounds = 0;
        while self.total_out < expected {
            if rounds > 8 {
                return Err(ResampleFailure(format!(
                    "resampler tail did not drain ({} of {expected} samples)",
                    self.total_out
                )));
            }
            rounds += 1;
            let input = std::mem::take(&mut st.pending_in);
            let (_, n) = if input.is_empty() {
                st.inner.process_partial_into_buffer(None::<&[&[f32]]>, &mut st.out_buf, None)
            } else {
                st.inner.process_partial_into_buffer(Some(&[&input[..]]), &mut st.out_buf, None)
            }
            .map_err(|e| ResampleFailure(e.to_string()))?;
            let limit = (expected - self.total_out) as usize;
            self.total_out += st.emit(n, limit, out) as u64;
        }
        Ok(())
    }
}

impl FftState {
    fn process_block(&mut self, block: &[f32]) -> Result<usize, ResampleFailure> {
        let (_, n) = self
            .inner
            .process_into_buffer(&[block], &mut self.out_buf, None)
            .map_err(|e| ResampleFailure(e.to_string()))?;
        Ok(n)
    }

    /// Appends up to `limit` of the `n` fresh output frames, after dropping any
    /// delay frames still owed. Returns how many were appended.
    fn emit(&mut self, n: usize, limit: usize, out: &mut Vec<f32>) -> usize {
        let fresh = &self.out_buf[0][..n];
        let skip = self.to_skip.min(fresh.len());
        self.to_skip -= skip;
        let keep = &fresh[skip..];
        let keep = &keep[..keep.len().min(limit)];
        out.extend_from_slice(keep);
        keep.len()
    }
}

/// `round(n * out / in)` in integer arithmetic so hours of audio do not drift.
pub(crate) fn expected_len(n_in: u64, in_rate: u32) -> u64 {
    let num = n_in as u128 * SAMPLE_RATE as u128;
    let den = in_rate as u128;
    ((num + den / 2) / den) as u64
}

/// Picks the requested block size for rubato so that its actual block (a multiple
/// of `in_rate / gcd`) is an even number of input frames: the filter is then
/// centred on a whole sample and the reported delay is exact, not half a sample off.
fn block_size_in(in_rate: u32, out_rate: u32) -> usize {
    let g = gcd(in_rate as usize, out_rate as usize);
    let unit_in = in_rate as usize / g;
    let unit_out = out_rate as usize / g;
    let mut units = TARGET_BLOCK_IN.div_ceil(unit_in).max(1);
    while !(units * unit_in).is_multiple_of(2) || !(units * unit_out).is_multiple_of(2) {
        units += 1;
    }
    units * unit_in
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[f32], rate: u32, piece: usize) -> Vec<f32> {
        let mut r = StreamResampler::new(rate).unwrap();
        let mut out = Vec::new();
        for p in input.chunks(piece) {
            r.push(p, &mut out).unwrap();
        }
        r.finish(&mut out).unwrap();
        out
    }

    fn click_at(rate: u32, secs: f64, total_secs: f64) -> Vec<f32> {
        let mut v = vec![0.0f32; (rate as f64 * total_secs) as usize];
        v[(rate as f64 * secs).round() as usize] = 1.0;
        v
    }

    fn argmax_abs(v: &[f32]) -> usize {
        v.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0
    }

    #[test]
    fn click_keeps_its_time_at_common_rates() {
        for rate in [8_000, 11_025, 22_050, 32_000, 44_100, 48_000, 96_000] {
            let input = click_at(rate, 1.0, 2.5);
            let out = run(&input, rate, 777);
            let at = argmax_abs(&out) as i64;
            assert!((at - 16_000).abs() <= 2, "rate {rate}: click at {at}");
            let want = expected_len(input.len() as u64, rate) as i64;
            assert!(
                (out.len() as i64 - want).abs() <= 2,
                "rate {rate}: len {} want {want}",
                out.len()
            );
        }
    }

    #[test]
    fn odd_rates_still_work() {
        for rate in [7_919, 44_056, 12_345] {
            let input = click_at(rate, 1.0, 2.0);
            let out = run(&input, rate, 4096);
            let at = argmax_abs(&out) as i64;
            assert!((at - 16_000).abs() <= 2, "rate {rate}: click at {at}");
            assert_eq!(out.len() as u64, expected_len(input.len() as u64, rate));
        }
    }

    #[test]
    fn passthrough_is_exact() {
        let input: Vec<f32> = (0..5000).map(|i| (i as f32 * 0.01).sin()).collect();
        assert_eq!(run(&input, 16_000, 333), input);
    }

    #[test]
    fn piece_size_does_not_change_output() {
        let input: Vec<f32> = (0..30_000).map(|i| (i as f32 * 0.037).sin()).collect();
        let a = run(&input, 44_100, 1);
        let b = run(&input, 44_100, 100_000);
        assert_eq!(a.len(), b.len());
        let max_diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
        assert!(max_diff < 1e-5, "{max_diff}");
    }

    #[test]
    fn sine_survives_resampling() {
        // 440 Hz at 48 kHz against the analytic 16 kHz version: checks gain and phase.
        let f = 440.0f64;
        let input: Vec<f32> = (0..48_000 * 2)
            .map(|i| (2.0 * std::f64::consts::PI * f * i as f64 / 48_000.0).sin() as f32)
            .collect();
        let out = run(&input, 48_000, 1000);
        assert_eq!(out.len(), 32_000);
        for (i, &y) in out.iter().enumerate().skip(1000).take(30_000) {
            let want = (2.0 * std::f64::consts::PI * f * i as f64 / 16_000.0).sin() as f32;
            assert!((y - want).abs() < 0.01, "sample {i}: {y} vs {want}");
        }
    }

    #[test]
    fn tiny_and_empty_inputs() {
        assert!(run(&[], 44_100, 10).is_empty());
        assert_eq!(run(&[0.5; 3], 44_100, 10).len(), 1);
        assert_eq!(run(&[0.5; 100], 8_000, 10).len(), 200);
    }

    #[test]
    fn blocks_are_even() {
        for rate in [8_000, 11_025, 22_050, 44_100, 48_000, 7_919] {
            let b = block_size_in(rate, 16_000);
            assert_eq!(b % 2, 0, "rate {rate}");
        }
    }
}
