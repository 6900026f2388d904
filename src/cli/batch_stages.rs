//! The stages of `podbrief batch` and what they hand each other: finding and hashing the
//! inputs, speech recognition (one recogniser per worker), saving transcripts for
//! `merge`, and the progress bars.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use podbrief::asr::{DecodeOptions, DeviceSpec};
use podbrief::audio::EXTENSIONS as AUDIO;
use podbrief::distill::Episode;
use podbrief::store::{self, Home};
use podbrief::transcript::parse::EXTENSIONS as TRANSCRIPTS;
use podbrief::transcript::{self, Transcript};

use super::summarize;
use super::transcribe::{is_cached, OnDemandAsr};

/// One input, hashed: its identity is its content, so shards and resumes agree on every machine.
pub(super) struct Input {
    pub(super) path: PathBuf,
    pub(super) key: Result<String, String>,
}

/// What the speech stage hands the distill stage.
pub(super) struct Prepared {
    pub(super) input: Input,
    pub(super) result: anyhow::Result<(Episode, Option<String>, bool)>,
    pub(super) asr_seconds: f64,
}

/// Saves the transcript a merge will read, in the home (relative path returned).
pub(super) fn save_transcript(home: &Home, key: &str, episode: &Episode) -> anyhow::Result<String> {
    let rel = format!("batch/{key}.json");
    let t = Transcript {
        source: episode.source.clone(),
        audio_sha256: key.to_string(),
        model: String::new(),
        backend: String::new(),
        duration: episode.duration,
        segments: episode.segments.clone(),
    };
    let text = transcript::format::render(&t, transcript::Format::Json);
    store::atomic_write(&home.root.join(&rel), text.as_bytes())?;
    Ok(rel)
}

/// How the speech stage is set up; each worker thread builds its own recogniser from it.
pub(super) struct Speech {
    pub(super) home: Home,
    pub(super) model: Option<String>,
    pub(super) device: DeviceSpec,
    pub(super) threads: usize,
    pub(super) decode: DecodeOptions,
}

impl Speech {
    pub(super) fn worker(&self) -> Worker<'_> {
        let asr = OnDemandAsr::new(self.model.as_deref(), self.device, self.threads, false);
        Worker { speech: self, asr }
    }
}

pub(super) struct Worker<'a> {
    speech: &'a Speech,
    /// Loaded at the first audio file, so a batch of transcripts needs no speech model.
    asr: OnDemandAsr,
}

impl Worker<'_> {
    pub(super) fn prepare(&mut self, input: Input) -> Prepared {
        let t = Instant::now();
        let result = match &input.key {
            Ok(key) => self.episode(&input.path, key),
            Err(e) => Err(anyhow::anyhow!("{e}")),
        };
        Prepared { input, result, asr_seconds: t.elapsed().as_secs_f64() }
    }

    fn episode(
        &mut self,
        path: &Path,
        key: &str,
    ) -> anyhow::Result<(Episode, Option<String>, bool)> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let (mut ep, asr, reused) = if TRANSCRIPTS.contains(&ext.as_str()) {
            (summarize::read_transcript(path)?, None, false)
        } else {
            let s = self.speech;
            let (name, lazy) = self.asr.get(&s.home)?;
            let reused = is_cached(&s.home, lazy, name, key, &s.decode);
            let ep = summarize::audio_episode(&s.home, lazy, name, path, &s.decode)?;
            (ep, Some(name.to_string()), reused)
        };
        if ep.segments.iter().all(|s| s.text.trim().is_empty()) {
            bail!("no speech or text found");
        }
        ep.sha256 = key.to_string();
        Ok((ep, asr, reused))
    }
}

/// Files under the arguments, sorted, without duplicates.
pub(super) fn collect(args: &[String]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" || arg.starts_with('@') {
            let text = if arg == "-" {
                super::read_arg_or_stdin("-")?
            } else {
                std::fs::read_to_string(&arg[1..])
                    .with_context(|| format!("reading the list {}", &arg[1..]))?
            };
            out.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(PathBuf::from),
            );
        } else {
            let path = PathBuf::from(arg);
            if path.is_dir() {
                walk(&path, &mut out).with_context(|| format!("reading the folder {arg}"))?;
            } else {
                // A missing file is reported as that file's failure, not the whole run's.
                out.push(path);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
            if AUDIO.contains(&ext.as_str()) || TRANSCRIPTS.contains(&ext.as_str()) {
                out.push(path);
            }
        }
    }
    Ok(())
}

/// One bar per stage; the distill bar, the last stage, carries the overall ETA.
pub(super) struct StageBars {
    pub(super) _multi: MultiProgress,
    pub(super) asr: ProgressBar,
    pub(super) distill: ProgressBar,
}

impl StageBars {
    pub(super) fn new(total: u64) -> StageBars {
        let multi = MultiProgress::new();
        let bar = |label: &str, template: &str| {
            let b = multi.add(ProgressBar::new(total));
            if let Ok(style) = ProgressStyle::with_template(template) {
                b.set_style(style.progress_chars("=> "));
            }
            b.set_message(label.to_string());
            b
        };
        let asr = bar("transcribed", "{msg:14} [{bar:30}] {pos}/{len}");
        let distill =
            bar("distilled", "{msg:14} [{bar:30}] {pos}/{len} (elapsed {elapsed}, ETA {eta})");
        StageBars { _multi: multi, asr, distill }
    }

    pub(super) fn finish(&self) {
        self.asr.finish_and_clear();
        self.distill.finish_and_clear();
    }
}
