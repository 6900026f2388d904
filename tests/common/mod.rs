//! Helpers shared by the integration tests: they run the real binary against the real model
//! store that `scripts/setup.sh` fills, with a private podbrief home per test.

#![allow(dead_code)]

pub mod feeds;
pub mod httpd;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const JFK: &str = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";

pub fn shared_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures").join(name)
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The model store the setup step fills (outside the repo).
pub fn models_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("PODBRIEF_MODELS") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("PODBRIEF_HOME")
        .map(PathBuf::from)
        .or_else(|| dirs_cache().map(|d| d.join("podbrief")))
        .expect("no home directory");
    home.join("models")
}

fn dirs_cache() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
}

/// Fails loudly (rather than skipping) when the setup step has not been run.
pub fn require_model(name: &str) -> PathBuf {
    let dir = models_dir().join(name);
    assert!(
        dir.join("config.json").is_file() || dir.join("model.gguf").is_file(),
        "model {name} is not in {}; run scripts/setup.sh first",
        models_dir().display()
    );
    dir
}

pub struct Env {
    pub home: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { home: tempfile::tempdir().unwrap() }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_podbrief"));
        c.env("PODBRIEF_HOME", self.home.path())
            .env("PODBRIEF_MODELS", models_dir())
            .env("PODBRIEF_SOURCE", "pypi")
            .env_remove("RUST_LOG");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Lowercase words without punctuation, for comparing transcripts "case and punctuation aside".
pub fn words(s: &str) -> String {
    s.to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '\'' { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `quote` was said in `transcript` (both as [`words`]): verbatim, or, for a quote
/// marked lightly edited, with only words left out (fillers, a false start), in order, within a
/// stretch at most half again as long as the quote.
pub fn said(transcript: &str, quote: &str, edited: bool) -> bool {
    if transcript.contains(quote) {
        return true;
    }
    if !edited {
        return false;
    }
    let t: Vec<&str> = transcript.split_whitespace().collect();
    let q: Vec<&str> = quote.split_whitespace().collect();
    let Some(first) = q.first() else { return false };
    let reach = q.len() + q.len() / 2 + 2;
    (0..t.len()).filter(|&i| t[i] == *first).any(|i| {
        let mut k = 0;
        for w in t[i..(i + reach).min(t.len())].iter() {
            if k < q.len() && *w == q[k] {
                k += 1;
            }
        }
        k == q.len()
    })
}

/// Copies a folder tree (a model store to tamper with, say).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// Writes 16 kHz mono 16-bit PCM samples as a WAV file.
pub fn write_wav(path: &Path, samples: &[f32]) {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&32_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(&data);
    std::fs::write(path, out).unwrap();
}
