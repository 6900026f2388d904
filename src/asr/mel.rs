//! Whisper's log-mel spectrogram: 25 ms Hann windows every 10 ms, 80 (or 128) mel bands, log10,
//! clamped to 8 decades below the window's peak and scaled as the model was trained on.

use std::sync::Arc;

use rayon::prelude::*;
use realfft::{RealFftPlanner, RealToComplex};

pub const N_FFT: usize = 400;
pub const HOP: usize = 160;
pub const N_SAMPLES: usize = 480_000;
pub const N_FRAMES: usize = N_SAMPLES / HOP;

pub struct MelExtractor {
    n_mels: usize,
    filters: Vec<f32>,
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl MelExtractor {
    pub fn new(n_mels: usize) -> Self {
        // Periodic Hann, as torch.hann_window(400) gives.
        let window = (0..N_FFT)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / N_FFT as f32).cos())
            .collect();
        Self {
            n_mels,
            filters: crate::models::mel_filters::mel_filters(n_mels),
            window,
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(N_FFT),
        }
    }

    pub fn n_mels(&self) -> usize {
        self.n_mels
    }

    /// Log-mel of one window, row-major n_mels × 3000: shorter input is zero-padded to 30 s for
    /// the STFT, and its frames past the audio's end are zero after scaling.
    pub fn compute(&self, samples: &[f32]) -> Vec<f32> {
        let mut audio = samples[..samples.len().min(N_SAMPLES)].to_vec();
        audio.resize(N_SAMPLES, 0.0);
        // torch.stft(center=True) reflect-pads by n_fft/2 on both sides.
        let pad = N_FFT / 2;
        let mut padded = Vec::with_capacity(N_SAMPLES + 2 * pad);
        padded.extend((1..=pad).rev().map(|i| audio[i]));
        padded.extend_from_slice(&audio);
        padded.extend((1..=pad).map(|i| audio[N_SAMPLES - 1 - i]));

        let n_bins = N_FFT / 2 + 1;
        let mut mel = vec![0f32; self.n_mels * N_FRAMES];
        // Frames are independent: compute them in parallel, each into its own column buffer.
        let columns: Vec<Vec<f32>> = (0..N_FRAMES)
            .into_par_iter()
            .with_min_len(64)
            .map_init(
                || (vec![0f32; N_FFT], self.fft.make_output_vec(), vec![0f32; n_bins]),
                |(frame, spectrum, power), t| {
                    let start = t * HOP;
                    for (i, f) in frame.iter_mut().enumerate() {
                        *f = padded[start + i] * self.window[i];
                    }
                    // Lengths are fixed by construction, so the FFT cannot fail.
                    let _ = self.fft.process(frame, spectrum);
                    for (p, c) in power.iter_mut().zip(spectrum.iter()) {
                        *p = c.norm_sqr();
                    }
                    (0..self.n_mels)
                        .map(|m| {
                            let row = &self.filters[m * n_bins..(m + 1) * n_bins];
                            let e: f32 = row.iter().zip(power.iter()).map(|(a, b)| a * b).sum();
                            e.max(1e-10).log10()
                        })
                        .collect()
                },
            )
            .collect();
        let mut max = f32::NEG_INFINITY;
        for (t, col) in columns.iter().enumerate() {
            for (m, v) in col.iter().enumerate() {
                mel[m * N_FRAMES + t] = *v;
                max = max.max(*v);
            }
        }
        for v in mel.iter_mut() {
            *v = (v.max(max - 8.0) + 4.0) / 4.0;
        }
        // Past the end of the audio the frames are zero after scaling, not the silence floor:
        // OpenAI's transcribe() and faster-whisper both cut the log-mel at the audio's end and
        // pad the last window with zeros there.
        let content = samples.len().min(N_SAMPLES) / HOP;
        if content < N_FRAMES {
            for row in mel.chunks_mut(N_FRAMES) {
                row[content..].fill(0.0);
            }
        }
        mel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pure_tone_lights_up_the_right_band() {
        let ex = MelExtractor::new(80);
        // One second of tone, then one second of silence.
        let tone: Vec<f32> = (0..32000)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).sin())
            .enumerate()
            .map(|(i, v)| if i < 16000 { v } else { 0.0 })
            .collect();
        let mel = ex.compute(&tone);
        assert_eq!(mel.len(), 80 * N_FRAMES);
        // In the middle of the tone, the loudest band is the one around 1 kHz (band ~ 26 on the slaney scale).
        let t = 50;
        let loudest = (0..80)
            .max_by(|&a, &b| mel[a * N_FRAMES + t].total_cmp(&mel[b * N_FRAMES + t]))
            .unwrap();
        assert!((20..=32).contains(&loudest), "loudest band {loudest}");
        // Silence after the tone sits at the floor, 8 decades below the peak; past the end of
        // the audio the frames are zero, as the reference implementations pad them.
        let floor = mel[10 * N_FRAMES + 150];
        let peak = mel.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        assert!((peak - floor - 2.0).abs() < 1e-3, "peak {peak} floor {floor}");
        assert_eq!(mel[10 * N_FRAMES + 200], 0.0);
        assert_eq!(mel[79 * N_FRAMES + 2999], 0.0);
    }
}
