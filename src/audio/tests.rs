//! End-to-end tests on real files: every format decodes to the same signal as the
//! reference WAV, timing survives resampling, and long inputs stream in bounded
//! chunks. Helpers here are shared with `tests_errors`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::*;

pub(super) fn shared_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(name)
}

pub(super) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio").join(name)
}

/// Ground truth read without symphonia: the data chunk of a 16-bit PCM WAV.
pub(super) fn read_wav_pcm16(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let mut pos = 12;
    while pos + 8 <= bytes.len() {
        let id = &bytes[pos..pos + 4];
        let len = u32::from_le_bytes(bytes[pos + 4..pos + 8].try_into().unwrap()) as usize;
        if id == b"data" {
            return bytes[pos + 8..pos + 8 + len]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]) as f32 / 32768.0)
                .collect();
        }
        pos += 8 + len + (len & 1);
    }
    panic!("no data chunk in {}", path.display());
}

pub(super) fn jfk_reference() -> Vec<f32> {
    let r = read_wav_pcm16(&shared_fixture("jfk.wav"));
    assert_eq!(r.len(), 176_000);
    r
}

/// Writes a 16-bit PCM WAV whose samples come from `frame(i)` (one value per
/// channel), without holding the signal in memory.
pub(super) fn write_wav(
    path: &Path,
    rate: u32,
    channels: u16,
    frames: u64,
    mut frame: impl FnMut(u64, &mut [f32]),
) {
    let data_len = (frames * channels as u64 * 2) as u32;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    w.write_all(b"RIFF").unwrap();
    w.write_all(&(36 + data_len).to_le_bytes()).unwrap();
    w.write_all(b"WAVEfmt ").unwrap();
    w.write_all(&16u32.to_le_bytes()).unwrap();
    w.write_all(&1u16.to_le_bytes()).unwrap();
    w.write_all(&channels.to_le_bytes()).unwrap();
    w.write_all(&rate.to_le_bytes()).unwrap();
    w.write_all(&(rate * channels as u32 * 2).to_le_bytes()).unwrap();
    w.write_all(&(channels * 2).to_le_bytes()).unwrap();
    w.write_all(&16u16.to_le_bytes()).unwrap();
    w.write_all(b"data").unwrap();
    w.write_all(&data_len.to_le_bytes()).unwrap();
    let mut buf = vec![0.0f32; channels as usize];
    for i in 0..frames {
        frame(i, &mut buf);
        for &s in &buf {
            let v = (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
            w.write_all(&v.to_le_bytes()).unwrap();
        }
    }
    w.flush().unwrap();
}

/// Normalised correlation of `a[i]` with `b[i + lag]` over their overlap.
pub(super) fn corr_at(a: &[f32], b: &[f32], lag: i64) -> f64 {
    let (mut ab, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &x) in a.iter().enumerate() {
        let j = i as i64 + lag;
        if j < 0 || j >= b.len() as i64 {
            continue;
        }
        let y = b[j as usize];
        ab += x as f64 * y as f64;
        aa += x as f64 * x as f64;
        bb += y as f64 * y as f64;
    }
    if aa == 0.0 || bb == 0.0 {
        return 0.0;
    }
    ab / (aa * bb).sqrt()
}

/// Best (lag, correlation) with |lag| <= max_lag. Searches coarsely on a
/// decimated copy first so the debug-build test stays fast, then refines.
pub(super) fn best_alignment(reference: &[f32], got: &[f32], max_lag: i64) -> (i64, f64) {
    const D: usize = 8;
    let dec = |v: &[f32]| -> Vec<f32> {
        v.chunks(D).map(|c| c.iter().sum::<f32>() / c.len() as f32).collect()
    };
    let (rd, gd) = (dec(reference), dec(got));
    let coarse = (-max_lag / D as i64..=max_lag / D as i64)
        .map(|l| (l, corr_at(&rd, &gd, l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0
        * D as i64;
    (coarse - 2 * D as i64..=coarse + 2 * D as i64)
        .map(|l| (l, corr_at(reference, got, l)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
}

fn check_jfk_like(path: &Path, max_lag: i64) {
    let reference = jfk_reference();
    let got = decode_all(path).unwrap_or_else(|e| panic!("{e}"));
    let secs = got.len() as f64 / SAMPLE_RATE as f64;
    assert!((secs - 11.0).abs() <= 0.05, "{}: {secs} s", path.display());
    let (lag, c) = best_alignment(&reference, &got, max_lag);
    eprintln!("{}: {secs:.4} s, lag {lag}, corr {c:.4}", path.display());
    assert!(c > 0.9, "{}: correlation {c} at lag {lag}", path.display());
}

#[test]
fn wav_passthrough_is_exact() {
    let reference = jfk_reference();
    let path = shared_fixture("jfk.wav");
    let got = decode_all(&path).unwrap();
    assert_eq!(got.len(), reference.len());
    let max_diff = got.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(max_diff < 1e-6, "{max_diff}");
    let hint = AudioStream::open(&path).unwrap().duration_hint().unwrap();
    assert!((hint - 11.0).abs() < 1e-6, "{hint}");
}

#[test]
fn mp3_decodes() {
    check_jfk_like(&shared_fixture("jfk.mp3"), 3000);
}

#[test]
fn flac_decodes() {
    check_jfk_like(&fixture("jfk.flac"), 0);
}

#[test]
fn ogg_vorbis_decodes() {
    check_jfk_like(&fixture("jfk.ogg"), 3000);
}

#[test]
fn m4a_aac_decodes() {
    check_jfk_like(&fixture("jfk.m4a"), 3000);
}

#[test]
fn stereo_44k_is_downmixed_resampled_and_aligned() {
    // Fixture: first 1.0 s of jfk at 44.1 kHz, left = signal, right = signal / 2.
    let reference = &jfk_reference()[..16_000];
    let got = decode_all(&fixture("jfk-44k-stereo.wav")).unwrap();
    assert!((got.len() as i64 - 16_000).abs() <= 2, "{}", got.len());
    let (lag, c) = best_alignment(reference, &got, 40);
    assert!(c > 0.99, "correlation {c}");
    assert!(lag.abs() <= 1, "timing shifted by {lag} samples");
    // Average of 1.0 and 0.5 gains is 0.75.
    let rms = |v: &[f32]| (v.iter().map(|x| (x * x) as f64).sum::<f64>() / v.len() as f64).sqrt();
    let gain = rms(&got[1000..15_000]) / rms(&reference[1000..15_000]);
    assert!((gain - 0.75).abs() < 0.02, "gain {gain}");
}

#[test]
fn click_at_one_second_lands_on_sample_16000() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, channels) in [(44_100, 1u16), (44_100, 2), (48_000, 2), (22_050, 1), (8_000, 1)] {
        let path = dir.path().join(format!("click-{rate}-{channels}.wav"));
        let frames = rate as u64 * 3;
        write_wav(&path, rate, channels, frames, |i, f| {
            f.fill(if i == rate as u64 { 0.9 } else { 0.0 });
        });
        let got = decode_all(&path).unwrap();
        let peak =
            got.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0 as i64;
        assert!((peak - 16_000).abs() <= 2, "{rate} Hz x{channels}: click at {peak}");
        assert!((got.len() as i64 - 48_000).abs() <= 2, "{rate} Hz: len {}", got.len());
    }
}

#[test]
fn long_file_is_streamed_in_bounded_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.wav");
    let rate = 22_050u32;
    let frames = rate as u64 * 600;
    write_wav(&path, rate, 2, frames, |i, f| {
        let t = i as f32 / rate as f32;
        f[0] = 0.3 * (2.0 * std::f32::consts::PI * 220.0 * t).sin();
        f[1] = f[0];
    });
    let mut stream = AudioStream::open(&path).unwrap();
    let hint = stream.duration_hint().unwrap();
    assert!((hint - 600.0).abs() < 0.01, "{hint}");
    let (mut total, mut chunks) = (0usize, 0usize);
    while let Some(chunk) = stream.next_chunk().unwrap() {
        assert!(!chunk.is_empty());
        assert!(chunk.len() <= MAX_CHUNK_SAMPLES, "chunk of {} samples", chunk.len());
        // What stays buffered inside must not grow with the file either.
        assert!(stream.pending.capacity() <= 4 * CHUNK_SAMPLES, "{}", stream.pending.capacity());
        total += chunk.len();
        chunks += 1;
    }
    assert_eq!(total, 600 * SAMPLE_RATE as usize);
    assert!(chunks >= 60, "{chunks} chunks");
    assert!(stream.next_chunk().unwrap().is_none(), "end is sticky");
}

#[test]
fn vec_source_round_trips() {
    let samples: Vec<f32> = (0..200_001).map(|i| i as f32).collect();
    let mut src = VecSource::new(samples.clone());
    assert_eq!(src.duration_hint(), Some(200_001.0 / 16_000.0));
    let mut got = Vec::new();
    while let Some(c) = src.next_chunk().unwrap() {
        assert!(!c.is_empty() && c.len() <= MAX_CHUNK_SAMPLES);
        got.extend(c);
    }
    assert_eq!(got, samples);
    assert!(VecSource::new(Vec::new()).next_chunk().unwrap().is_none());
}

#[test]
fn stream_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<AudioStream>();
    assert_send::<VecSource>();
}
