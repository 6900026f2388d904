//! `podbrief transcribe` end to end: real recordings, real Whisper weights, both backends.

mod common;

use common::*;

fn transcribe(
    env: &Env,
    backend: &str,
    file: &std::path::Path,
    extra: &[&str],
) -> std::process::Output {
    require_model("whisper-tiny.en");
    let mut args = vec!["transcribe", "--backend", backend, "--threads", "2"];
    args.extend_from_slice(extra);
    let f = file.to_str().unwrap();
    args.push(f);
    env.run(&args)
}

fn assert_jfk(backend: &str, name: &str) {
    let env = Env::new();
    let out = transcribe(&env, backend, &shared_fixture(name), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(words(&stdout(&out)), words(JFK), "{backend} on {name}");
}

#[test]
fn jfk_wav_candle() {
    assert_jfk("candle", "jfk.wav");
}

#[test]
fn jfk_mp3_candle() {
    assert_jfk("candle", "jfk.mp3");
}

#[cfg(feature = "whisper-cpp")]
#[test]
fn jfk_wav_whisper_cpp() {
    assert_jfk("whisper-cpp", "jfk.wav");
}

#[cfg(feature = "whisper-cpp")]
#[test]
fn jfk_mp3_whisper_cpp() {
    assert_jfk("whisper-cpp", "jfk.mp3");
}

#[test]
fn json_has_segments_with_times_and_scores_and_second_run_is_cached() {
    let env = Env::new();
    let out = transcribe(&env, "candle", &shared_fixture("jfk.mp3"), &["--format", "json", "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let segs = v["segments"].as_array().unwrap();
    assert!(!segs.is_empty());
    let mut last_end = 0.0;
    for s in segs {
        let (start, end) = (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap());
        assert!(start >= last_end - 0.01 && end >= start && end <= 11.5, "{s}");
        assert!(s["avg_logprob"].as_f64().unwrap() <= 0.0);
        let p = s["no_speech_prob"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p));
        last_end = end;
    }
    assert!(!stderr(&out).contains("cached transcript"));
    let again = transcribe(&env, "candle", &shared_fixture("jfk.mp3"), &["--format", "json", "-v"]);
    assert!(stderr(&again).contains("cached transcript"), "{}", stderr(&again));
    assert_eq!(stdout(&again), stdout(&out));
    let fresh = transcribe(
        &env,
        "candle",
        &shared_fixture("jfk.mp3"),
        &["--format", "json", "-v", "--no-cache"],
    );
    assert!(!stderr(&fresh).contains("cached transcript"));
}

#[test]
fn srt_and_vtt_outputs_go_to_the_output_dir() {
    let env = Env::new();
    let out_dir = env.home.path().join("out");
    let o = out_dir.to_str().unwrap();
    for fmt in ["srt", "vtt"] {
        let out =
            transcribe(&env, "candle", &shared_fixture("jfk.wav"), &["--format", fmt, "-o", o]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let srt = std::fs::read_to_string(out_dir.join("jfk.srt")).unwrap();
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    let vtt = std::fs::read_to_string(out_dir.join("jfk.vtt")).unwrap();
    assert!(vtt.starts_with("WEBVTT\n\n00:00:0"), "{vtt}");
}

/// A three-minute, two-voice TTS recording (scripts/make-tts-fixtures.sh) against its script.
fn assert_speech_wer(backend: &str, args: &[&str]) {
    let env = Env::new();
    let reference = std::fs::read_to_string(fixture("speech/speech-short.txt")).unwrap();
    let out = transcribe(&env, backend, &fixture("speech/speech-short.mp3"), args);
    assert!(out.status.success(), "{}", stderr(&out));
    let wer = podbrief::transcript::wer::wer(&reference, &stdout(&out));
    eprintln!("{backend} {args:?}: WER {:.2}%", wer * 100.0);
    assert!(wer <= 0.05, "{backend}: WER {:.2}% > 5%\n{}", wer * 100.0, stdout(&out));
}

#[test]
fn speech_fixture_wer_candle() {
    assert_speech_wer("candle", &[]);
}

/// Beam search runs its own decoder path: beams widened from the prompt's one row, reordered in
/// the key/value cache, several rows per matrix product (0.44 % WER when written).
#[test]
fn speech_fixture_wer_candle_beam_5() {
    assert_speech_wer("candle", &["--beam-size", "5"]);
}

#[cfg(feature = "whisper-cpp")]
#[test]
fn speech_fixture_wer_whisper_cpp() {
    assert_speech_wer("whisper-cpp", &[]);
}

/// Silence and noise are where small Whisper models invent text or loop; the no-speech check and
/// the compression-ratio fallback must keep the output (nearly) empty.
#[test]
fn silence_and_noise_do_not_turn_into_words() {
    let env = Env::new();
    let wav = env.home.path().join("quiet.wav");
    // 40 s of silence, then 20 s of low white noise.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut samples = vec![0f32; 40 * 16_000];
    samples.extend((0..20 * 16_000).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 0.02
    }));
    write_wav(&wav, &samples);
    let out = transcribe(&env, "candle", &wav, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = words(&stdout(&out));
    assert!(text.split_whitespace().count() <= 4, "invented text: {text}");
}
