//! Bad inputs: each must fail (or degrade) with the one-line error a user can act on.

use std::path::Path;

use super::tests::{best_alignment, fixture, jfk_reference, shared_fixture, write_wav};
use super::*;

fn open_err(path: &Path) -> AudioError {
    match AudioStream::open(path) {
        Ok(mut s) => loop {
            match s.next_chunk() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("{} decoded without error", path.display()),
                Err(e) => break e,
            }
        },
        Err(e) => e,
    }
}

fn assert_names_file(e: &AudioError, path: &Path) {
    let msg = e.to_string();
    eprintln!("{msg}");
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(!msg.contains('\n'), "{msg}");
    assert_eq!(e.path(), path);
}

#[test]
fn missing_file() {
    let path = Path::new("/definitely/not/here.mp3");
    let e = open_err(path);
    assert!(matches!(e, AudioError::NotFound { .. }), "{e:?}");
    assert_names_file(&e, path);
}

#[test]
fn directory_is_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_err(dir.path());
    assert!(matches!(e, AudioError::NotAFile { .. }), "{e:?}");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.mp3");
    std::fs::write(&path, b"").unwrap();
    let e = open_err(&path);
    assert!(matches!(e, AudioError::Empty { .. }), "{e:?}");
    assert!(e.to_string().contains("0 bytes"));
    assert_names_file(&e, &path);
}

#[test]
fn random_bytes_are_not_audio() {
    let dir = tempfile::tempdir().unwrap();
    // Deterministic xorshift noise; sizes from tiny to bigger than the probe window.
    for (n, seed) in [(100usize, 1u64), (5_000, 7), (300_000, 42)] {
        let path = dir.path().join(format!("noise-{n}.mp3"));
        let mut x = seed;
        let bytes: Vec<u8> = (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        std::fs::write(&path, bytes).unwrap();
        let e = open_err(&path);
        assert!(matches!(e, AudioError::UnrecognisedFormat { .. }), "{n} bytes: {e:?}");
        assert_names_file(&e, &path);
    }
    // The multiplicative-hash noise the CLI's integration test uses.
    let path = dir.path().join("random.mp3");
    let bytes: Vec<u8> =
        (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&path, bytes).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, AudioError::UnrecognisedFormat { .. }), "{e:?}");
}

#[test]
fn text_file_is_not_audio() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.wav");
    std::fs::write(&path, "this is not audio\n".repeat(100)).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, AudioError::UnrecognisedFormat { .. }), "{e:?}");
}

#[test]
fn video_only_mp4_has_no_audio_track() {
    let path = fixture("video-only.mp4");
    let e = open_err(&path);
    assert!(matches!(e, AudioError::NoAudioTrack { .. }), "{e:?}");
    assert_names_file(&e, &path);
}

#[test]
fn opus_is_named_as_unsupported() {
    let path = fixture("tiny.opus");
    let e = open_err(&path);
    match &e {
        AudioError::UnsupportedCodec { codec, .. } => assert_eq!(codec, "Opus"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("Opus"));
    assert_names_file(&e, &path);
}

#[test]
fn truncated_mp3_decodes_what_is_there() {
    let bytes = std::fs::read(shared_fixture("jfk.mp3")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("truncated.mp3");
    std::fs::write(&path, &bytes[..bytes.len() * 3 / 10]).unwrap();
    let got = decode_all(&path).unwrap();
    let secs = got.len() as f64 / SAMPLE_RATE as f64;
    assert!((2.0..5.0).contains(&secs), "{secs} s");
    // What did decode still matches the source.
    let reference = jfk_reference();
    let (_, c) = best_alignment(&reference[..got.len()], &got, 3000);
    assert!(c > 0.9, "{c}");
}

#[test]
fn mp3_cut_before_any_audio_is_corrupt() {
    let bytes = std::fs::read(shared_fixture("jfk.mp3")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = first_frame_offset(&bytes);
    // Mid ID3 tag, right after it, and inside the first frames.
    for cut in [10, first, first + 20, first + 200] {
        let path = dir.path().join(format!("stub-{cut}.mp3"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let e = open_err(&path);
        assert!(matches!(e, AudioError::Corrupt { .. }), "cut at {cut}: {e:?}");
        assert_names_file(&e, &path);
    }
}

#[test]
fn truncated_wav_header_is_corrupt() {
    let bytes = std::fs::read(shared_fixture("jfk.wav")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    std::fs::write(&path, &bytes[..30]).unwrap();
    let e = open_err(&path);
    assert!(matches!(e, AudioError::Corrupt { .. }), "{e:?}");
}

/// Offset of the first MPEG frame sync after any ID3v2 tag.
fn first_frame_offset(bytes: &[u8]) -> usize {
    let mut start = 0;
    if bytes.starts_with(b"ID3") {
        let size = bytes[6..10].iter().fold(0usize, |acc, &b| (acc << 7) | (b & 0x7f) as usize);
        start = 10 + size;
    }
    start + bytes[start..].windows(2).position(|w| w[0] == 0xff && w[1] & 0xe0 == 0xe0).unwrap()
}

#[test]
fn damaged_middle_of_mp3_is_skipped() {
    let mut bytes = std::fs::read(shared_fixture("jfk.mp3")).unwrap();
    let n = bytes.len();
    for (i, b) in bytes[n / 2..n / 2 + 3000].iter_mut().enumerate() {
        *b = (i * 7919 % 251) as u8;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.mp3");
    std::fs::write(&path, bytes).unwrap();
    let got = decode_all(&path).unwrap();
    let secs = got.len() as f64 / SAMPLE_RATE as f64;
    assert!(secs > 9.0, "{secs} s");
}

#[test]
fn wav_with_no_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silent.wav");
    write_wav(&path, 16_000, 1, 0, |_, _| {});
    let e = open_err(&path);
    assert!(matches!(e, AudioError::NoSamples { .. }), "{e:?}");
    assert!(e.to_string().contains("no audio samples"));
    assert_names_file(&e, &path);
}
