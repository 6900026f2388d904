//! Whisper's mel filterbank, computed instead of shipped.
//!
//! OpenAI's `mel_filters.npz` (and the filters embedded in every whisper.cpp ggml file) is
//! `librosa.filters.mel(sr=16000, n_fft=400, n_mels=N)` with librosa's defaults (Slaney mel
//! scale, Slaney area normalisation, float32 output). CTranslate2 directories do not carry it,
//! so it is recomputed here, following librosa's arithmetic step by step (including its two
//! float32 roundings) so that the values match the reference to the last bit or so.

/// Sample rate every Whisper model expects.
pub const SAMPLE_RATE: usize = 16_000;
/// FFT window of Whisper's STFT.
pub const N_FFT: usize = 400;
/// Number of frequency bins of a real FFT of `N_FFT` samples.
pub const N_FREQS: usize = N_FFT / 2 + 1;

/// Slaney mel scale (librosa `hz_to_mel(htk=False)`): linear below 1 kHz, logarithmic above.
fn hz_to_mel(hz: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= min_log_hz {
        min_log_mel + (hz / min_log_hz).ln() / logstep
    } else {
        hz / f_sp
    }
}

/// Inverse of [`hz_to_mel`] (librosa `mel_to_hz(htk=False)`).
fn mel_to_hz(mel: f64) -> f64 {
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        min_log_hz * (logstep * (mel - min_log_mel)).exp()
    } else {
        f_sp * mel
    }
}

/// The `n_mels` × 201 filterbank, row-major, as `librosa.filters.mel` returns it for Whisper's
/// 16 kHz / 400-point STFT (80 mels for most models, 128 for large-v3).
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let sr = SAMPLE_RATE as f64;
    // np.fft.rfftfreq(n_fft, d=1/sr): k * (1 / (n_fft * d)).
    let bin_hz = 1.0 / (N_FFT as f64 * (1.0 / sr));
    let fft_freqs: Vec<f64> = (0..N_FREQS).map(|k| k as f64 * bin_hz).collect();

    // np.linspace(min_mel, max_mel, n_mels + 2), then back to Hz.
    let n_points = n_mels + 2;
    let (min_mel, max_mel) = (hz_to_mel(0.0), hz_to_mel(sr / 2.0));
    let step = (max_mel - min_mel) / (n_points - 1) as f64;
    let mel_f: Vec<f64> = (0..n_points)
        .map(|i| {
            let mel = if i == n_points - 1 { max_mel } else { i as f64 * step + min_mel };
            mel_to_hz(mel)
        })
        .collect();
    let fdiff: Vec<f64> = mel_f.windows(2).map(|w| w[1] - w[0]).collect();

    let mut weights = vec![0f32; n_mels * N_FREQS];
    for i in 0..n_mels {
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for (j, &f) in fft_freqs.iter().enumerate() {
            let lower = -(mel_f[i] - f) / fdiff[i];
            let upper = (mel_f[i + 2] - f) / fdiff[i + 1];
            // librosa stores the triangle into a float32 array, then scales it in place.
            // Written as a comparison, not `max(0.0)`, whose sign for -0.0 is unspecified
            // and would make the output bytes depend on the optimizer.
            let tri = lower.min(upper);
            let tri = if tri > 0.0 { tri as f32 } else { 0.0 };
            weights[i * N_FREQS + j] = (tri as f64 * enorm) as f32;
        }
    }
    weights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_known_values() {
        let f = mel_filters(80);
        assert_eq!(f.len(), 80 * N_FREQS);
        // Reference values of librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) (float32).
        for (m, k, v) in [
            (0, 1, 0.024_862_594_902_515_41),
            (1, 1, 0.001_990_821_911_022_067),
            (1, 2, 0.022_871_771_827_340_126),
            (9, 10, 0.006_945_197_004_824_877),
            (39, 41, 0.011_486_922_390_758_991),
            (69, 131, 0.004_875_534_214_079_38),
            (79, 190, 0.002_232_054_946_944_117_5),
            (79, 192, 0.003_164_711_641_147_732_7),
            (79, 199, 0.000_448_759_004_939_347_5),
        ] {
            let got = f[m * N_FREQS + k];
            assert!((got - v as f32).abs() <= 1e-9, "[{m},{k}] = {got}, want {v}");
        }
        let sum: f64 = f.iter().map(|&v| v as f64).sum();
        assert!((sum - 1.999_024).abs() < 1e-5, "{sum}");
        // Every filter is a non-empty triangle.
        for m in 0..80 {
            let row = &f[m * N_FREQS..(m + 1) * N_FREQS];
            assert!(row.iter().any(|&v| v > 0.0), "filter {m} is empty");
            assert!(row.iter().all(|&v| v >= 0.0 && v.is_sign_positive()));
        }
        assert_eq!(mel_filters(128).len(), 128 * N_FREQS);
    }
}
