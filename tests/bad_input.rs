//! Bad input gets one clear line, a non-zero exit, nothing half-written, and never stops the
//! other files of the same run.

mod common;

use std::path::Path;

use common::*;

fn transcribe_to(env: &Env, out_dir: &Path, files: &[&Path]) -> std::process::Output {
    require_model("whisper-tiny.en");
    let mut c = env.cmd();
    c.args(["transcribe", "--threads", "2", "--beam-size", "1", "-o"]).arg(out_dir);
    c.args(files);
    c.output().unwrap()
}

fn error_lines(o: &std::process::Output) -> Vec<String> {
    stderr(o).lines().filter(|l| l.starts_with("error:")).map(String::from).collect()
}

#[test]
fn each_bad_file_gets_a_clear_error_and_the_good_one_still_finishes() {
    let env = Env::new();
    let dir = env.home.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.mp3");
    std::fs::write(&empty, b"").unwrap();
    let random = dir.join("random.mp3");
    std::fs::write(
        &random,
        (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    let missing = dir.join("missing.mp3");
    let video = fixture("audio/video-only.mp4");
    let good = shared_fixture("jfk.mp3");
    let out_dir = env.home.path().join("out");

    let out = transcribe_to(&env, &out_dir, &[&empty, &random, &missing, &video, &good]);
    assert!(!out.status.success(), "a run with failures must exit non-zero");
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 4, "{}", stderr(&out));
    for (e, name, hint) in [
        (&errors[0], "empty.mp3", "empty"),
        (&errors[1], "random.mp3", "format"),
        (&errors[2], "missing.mp3", "not found"),
        (&errors[3], "video-only.mp4", "audio"),
    ] {
        assert!(e.contains(name) && e.to_lowercase().contains(hint), "{e}");
    }
    // The good file finished; no output (or temporary file) exists for the bad ones.
    let written: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, vec!["jfk.txt".to_string()]);
    assert_eq!(words(&std::fs::read_to_string(out_dir.join("jfk.txt")).unwrap()), words(JFK));
}

#[test]
fn a_truncated_mp3_transcribes_what_is_there() {
    let env = Env::new();
    let bytes = std::fs::read(shared_fixture("jfk.mp3")).unwrap();
    let cut = env.home.path().join("truncated.mp3");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out_dir = env.home.path().join("out");
    let out = transcribe_to(&env, &out_dir, &[&cut]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = words(&std::fs::read_to_string(out_dir.join("truncated.txt")).unwrap());
    assert!(text.starts_with("and so my fellow americans"), "{text}");
    assert!(!text.contains("do for your country"), "{text}");
}

#[test]
fn unknown_model_is_named_with_the_known_ones() {
    let env = Env::new();
    let out = env.run(&[
        "transcribe",
        "--model",
        "whisper-huge",
        shared_fixture("jfk.wav").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown model 'whisper-huge'") && err.contains("whisper-tiny.en"),
        "{err}"
    );
}

#[test]
fn a_corrupted_model_file_is_a_clear_error() {
    let env = Env::new();
    let src = require_model("whisper-tiny.en");
    let bad = env.home.path().join("bad-model");
    std::fs::create_dir_all(&bad).unwrap();
    for f in ["config.json", "tokenizer.json"] {
        std::fs::copy(src.join(f), bad.join(f)).unwrap();
    }
    let mut weights = std::fs::read(src.join("model.safetensors")).unwrap();
    weights.truncate(weights.len() / 3);
    std::fs::write(bad.join("model.safetensors"), weights).unwrap();
    let out = env.run(&[
        "transcribe",
        "--model",
        bad.to_str().unwrap(),
        shared_fixture("jfk.wav").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("model.safetensors") && err.starts_with("error:"), "{err}");
}

#[test]
fn verify_catches_a_tampered_store_and_passes_a_good_one() {
    let env = Env::new();
    let good = env.run(&["models", "verify", "whisper-tiny.en"]);
    assert!(good.status.success(), "{}{}", stdout(&good), stderr(&good));

    // A copy of the store with one byte flipped.
    let src = require_model("whisper-tiny.en");
    let store = env.home.path().join("models");
    let copy = store.join("whisper-tiny.en");
    copy_dir(&src, &copy);
    let victim = copy.join("source/tokenizer.json");
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 1;
    std::fs::write(&victim, bytes).unwrap();
    let bad = env
        .cmd()
        .env("PODBRIEF_MODELS", &store)
        .args(["models", "verify", "whisper-tiny.en"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("tokenizer.json") && stderr(&bad).contains("sha256"),
        "{}",
        stderr(&bad)
    );
}
