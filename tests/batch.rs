//! `podbrief batch` and `merge` end to end: shards in separate processes merge into the brief one
//! batch writes, and a killed batch resumes with every file processed exactly once.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{fixture, shared_fixture, stderr, Env};
use serde_json::Value;

fn copy_into(dir: &Path, files: &[PathBuf]) {
    std::fs::create_dir_all(dir).unwrap();
    for f in files {
        std::fs::copy(f, dir.join(f.file_name().unwrap())).unwrap();
    }
}

/// The brief without what legitimately differs between runs: when it was made and how long
/// each stage took.
fn comparable(path: &Path) -> Value {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("created");
    v["stats"].as_object_mut().unwrap().remove("seconds");
    v
}

#[test]
fn three_shards_merge_into_the_brief_of_one_batch() {
    common::require_model("qwen2.5-coder-1.5b-instruct");
    let work = tempfile::tempdir().unwrap();
    let inputs = work.path().join("in");
    copy_into(
        &inputs,
        &[
            fixture("feeds/show-a.vtt"),
            fixture("feeds/show-b.vtt"),
            fixture("speech/speech-short.txt"),
            fixture("summarize/show-b.txt"),
        ],
    );
    std::fs::write(inputs.join("empty.mp3"), b"").unwrap();
    let inputs = inputs.to_str().unwrap();
    let brief_args = ["--llm-passages", "1", "--format", "json", "-o"];

    let one = Env::new();
    let one_brief = work.path().join("one.json");
    let report = work.path().join("report.json");
    // Two workers here, one per shard below: the brief must not depend on either.
    let mut args =
        vec!["batch", inputs, "--jobs", "2", "--brief", "--report", report.to_str().unwrap()];
    args.extend(brief_args);
    args.push(one_brief.to_str().unwrap());
    let out = one.run(&args);
    assert_eq!(out.status.code(), Some(3), "a bad file makes the exit code 3: {}", stderr(&out));
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["processed"], 4, "{r}");
    assert!(r["failed"][0]["error"].as_str().unwrap().contains("empty"), "{r}");
    assert!(r["seconds"]["distill"].as_f64().unwrap() > 0.0);

    // Each shard in its own process and home, all at once.
    let shards: Vec<Env> = (0..3).map(|_| Env::new()).collect();
    let children: Vec<_> = shards
        .iter()
        .enumerate()
        .map(|(k, env)| {
            let shard = format!("{}/3", k + 1);
            env.cmd()
                .args(["batch", inputs, "--llm-passages", "1", "--shard", &shard])
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        // The shard that drew the empty file exits 3; the others 0.
        assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    }
    let merger = Env::new();
    let merged = work.path().join("merged.json");
    let mut args = vec!["merge"];
    let homes: Vec<String> = shards.iter().map(|e| e.home.path().display().to_string()).collect();
    args.extend(homes.iter().map(String::as_str));
    args.extend(brief_args);
    args.push(merged.to_str().unwrap());
    let out = merger.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));

    let (a, b) = (comparable(&one_brief), comparable(&merged));
    assert_eq!(a["episodes"].as_array().unwrap().len(), 4);
    assert!(a["stats"]["verified"].as_u64().unwrap() > 0, "the LLM path was exercised: {a:#}");
    assert_eq!(a, b, "merged shards differ from one batch");
}

#[test]
fn killed_batch_resumes_and_processes_every_file_exactly_once() {
    common::require_model("whisper-tiny.en");
    let work = tempfile::tempdir().unwrap();
    let inputs = work.path().join("in");
    // Six encodings of one recording: six different files, so six episodes.
    copy_into(
        &inputs,
        &[
            shared_fixture("jfk.wav"),
            shared_fixture("jfk.mp3"),
            fixture("audio/jfk.flac"),
            fixture("audio/jfk.ogg"),
            fixture("audio/jfk.m4a"),
            fixture("audio/jfk-44k-stereo.wav"),
        ],
    );
    let env = Env::new();
    let args = ["batch", inputs.to_str().unwrap(), "--llm-passages", "0"];
    let mut child = env.cmd().args(args).stderr(std::process::Stdio::null()).spawn().unwrap();
    let db_path = env.home.path().join("library.sqlite3");
    let done = |db: &Path| -> i64 {
        let Ok(c) = rusqlite::Connection::open(db) else { return 0 };
        c.query_row("SELECT count(*) FROM batch_items WHERE state = 'done'", [], |r| r.get(0))
            .unwrap_or(0)
    };
    let start = Instant::now();
    while done(&db_path) < 1 {
        assert!(start.elapsed() < Duration::from_secs(120), "the batch never finished a file");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = done(&db_path);
    assert!((1..6).contains(&before), "killed after {before} files");

    let report = work.path().join("report.json");
    let mut resume = args.to_vec();
    resume.extend(["--resume", "--report", report.to_str().unwrap()]);
    let out = env.run(&resume);
    assert!(out.status.success(), "{}", stderr(&out));
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["skipped_already_done"].as_i64(), Some(before), "{r}");
    assert_eq!(r["processed"].as_i64(), Some(6 - before), "{r}");

    let db = rusqlite::Connection::open(&db_path).unwrap();
    let rows: Vec<(String, String, i64)> = db
        .prepare("SELECT path, state, runs FROM batch_items ORDER BY path")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 6, "{rows:?}");
    for (path, state, runs) in &rows {
        assert_eq!((state.as_str(), *runs), ("done", 1), "{path}");
        let key = Path::new(path);
        assert!(key.is_file(), "{path}");
    }
    let saved = std::fs::read_dir(env.home.path().join("batch")).unwrap().count();
    assert_eq!(saved, 6, "one saved transcript per file, no leftovers");
}
