//! `podbrief transcribe FILE…`

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use podbrief::asr::{self, Backend, DecodeOptions, DeviceSpec, Transcriber};
use podbrief::audio::{AudioStream, PcmSource};
use podbrief::chunk::ChunkOptions;
use podbrief::distill::ads;
use podbrief::models::{ModelStore, Registry, Role};
use podbrief::store::{self, transcripts, Home};
use podbrief::transcript::{format, Format, Transcript};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write each NAME.ext as DIR/NAME.FORMAT (default: one file to stdout; several files to the
    /// current directory).
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    #[arg(short, long, value_enum, default_value = "txt")]
    format: Format,
    /// Registry name (see `podbrief models list`) or a model folder.
    #[arg(short, long)]
    model: Option<String>,
    /// candle (default: the faster one on CPU here) or whisper-cpp (needs `--features whisper-cpp`).
    #[arg(long, value_enum, default_value = "candle")]
    backend: Backend,
    /// cpu, cuda, cuda:N or metal.
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// 1 decodes greedily with temperature fallback, as OpenAI's `transcribe()` does: on the
    /// benchmark speech as accurate as beam 5 at half the time. 5 is faster-whisper's default.
    #[arg(long, default_value_t = 1)]
    beam_size: usize,
    /// Spoken language for multilingual models (e.g. en, de); detected when not given.
    #[arg(long)]
    language: Option<String>,
    /// Ignore and replace cached transcripts.
    #[arg(long)]
    no_cache: bool,
}

/// The recogniser is loaded on first need, so a run whose files are all cached starts instantly.
pub(super) struct Lazy {
    pub backend: Backend,
    pub device: DeviceSpec,
    pub no_cache: bool,
    pub dir: PathBuf,
    pub threads: usize,
    pub loaded: Option<Box<dyn Transcriber>>,
}

impl Lazy {
    fn get(&mut self) -> anyhow::Result<&mut Box<dyn Transcriber>> {
        if self.loaded.is_none() {
            let t = asr::load(self.backend, &self.dir, self.device, self.threads)?;
            self.loaded = Some(t);
        }
        self.loaded.as_mut().ok_or_else(|| anyhow!("model not loaded"))
    }
}

pub fn run(args: Args, threads: usize) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let (model_name, dir) = resolve_model(&home, args.model.as_deref())?;
    let opts = DecodeOptions {
        beam_size: args.beam_size.max(1),
        threads,
        language: args.language.clone(),
        ..DecodeOptions::default()
    };
    let to_stdout = args.output.is_none() && args.files.len() == 1;
    let out_dir = args.output.clone().unwrap_or_else(|| PathBuf::from("."));
    let mut lazy = Lazy {
        backend: args.backend,
        device: args.device,
        no_cache: args.no_cache,
        dir,
        threads,
        loaded: None,
    };
    let mut failures = 0;
    for file in &args.files {
        let result =
            transcribe_one(&home, &mut lazy, &model_name, file, &opts).and_then(|mut t| {
                if args.format == Format::Json {
                    ads::mark_segments(&mut t.segments, &ChunkOptions::default());
                }
                let text = format::render(&t, args.format);
                if to_stdout {
                    print!("{text}");
                    return Ok(());
                }
                let stem = file.file_stem().unwrap_or(file.as_os_str()).to_string_lossy();
                let dest = out_dir.join(format!("{stem}.{}", args.format.extension()));
                store::atomic_write(&dest, text.as_bytes())
                    .with_context(|| format!("writing {}", dest.display()))?;
                eprintln!("{} -> {}", file.display(), dest.display());
                Ok(())
            });
        if let Err(e) = result {
            failures += 1;
            eprintln!("error: {}: {}", file.display(), crate::cli::chain(&e));
        }
    }
    Ok(crate::cli::finished(failures))
}

pub(super) fn resolve_model(home: &Home, model: Option<&str>) -> anyhow::Result<(String, PathBuf)> {
    let r = ModelStore::new(home).resolve(&Registry::builtin()?, model, Role::Asr)?;
    Ok((r.name, r.path))
}

/// The candle recogniser for runs that mix audio and transcripts (`summarize`, `daily`,
/// `batch`): the model (the default when `None`) is looked up in the store only when the first
/// audio file needs it, so a user with transcripts alone needs no speech model at all.
pub(super) struct OnDemandAsr {
    model: Option<String>,
    device: DeviceSpec,
    threads: usize,
    no_cache: bool,
    ready: Option<(String, Lazy)>,
}

impl OnDemandAsr {
    pub(super) fn new(
        model: Option<&str>,
        device: DeviceSpec,
        threads: usize,
        no_cache: bool,
    ) -> OnDemandAsr {
        OnDemandAsr { model: model.map(str::to_string), device, threads, no_cache, ready: None }
    }

    /// The model's registry name and its recogniser (loaded at its first transcription).
    pub(super) fn get(&mut self, home: &Home) -> anyhow::Result<(&str, &mut Lazy)> {
        if self.ready.is_none() {
            let (name, dir) = resolve_model(home, self.model.as_deref())?;
            let (device, no_cache, threads) = (self.device, self.no_cache, self.threads);
            let lazy =
                Lazy { backend: Backend::Candle, device, no_cache, dir, threads, loaded: None };
            self.ready = Some((name, lazy));
        }
        let Some((name, lazy)) = self.ready.as_mut() else { bail!("speech model not loaded") };
        Ok((name.as_str(), lazy))
    }

    /// The model's name once an audio file needed it (what the brief credits).
    pub(super) fn used(&self) -> Option<String> {
        self.ready.as_ref().map(|(name, _)| name.clone())
    }
}

pub(super) fn transcribe_one(
    home: &Home,
    lazy: &mut Lazy,
    model: &str,
    file: &Path,
    opts: &DecodeOptions,
) -> anyhow::Result<Transcript> {
    // Open first: a missing, empty or non-audio file gets the audio stage's clear error.
    let mut stream = AudioStream::open(file)?;
    let sha = store::sha256_file(file, &mut |_| {})
        .with_context(|| format!("reading {}", file.display()))?;
    let key = cache_key(lazy, model, &sha, opts);
    if !lazy.no_cache {
        if let Some(t) = transcripts::get(home, &key) {
            tracing::info!("{}: cached transcript", file.display());
            return Ok(t);
        }
    }
    let bar = progress_bar(stream.duration_hint(), file);
    let mut done = 0.0;
    let segments = lazy.get()?.transcribe(&mut stream, opts, &mut |secs| {
        done = secs;
        bar.set_position(secs as u64);
    })?;
    bar.finish_and_clear();
    let duration =
        stream.duration_hint().unwrap_or(done).max(segments.last().map(|s| s.end).unwrap_or(0.0));
    let t = Transcript {
        source: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        audio_sha256: sha,
        model: model.to_string(),
        backend: key.backend.clone(),
        duration,
        segments,
    };
    if let Err(e) = transcripts::put(home, &key, &t) {
        tracing::warn!("could not cache the transcript: {e}");
    }
    Ok(t)
}

fn cache_key(lazy: &Lazy, model: &str, sha: &str, opts: &DecodeOptions) -> transcripts::CacheKey {
    transcripts::CacheKey {
        audio_sha256: sha.to_string(),
        model: model.to_string(),
        backend: lazy.backend.name().to_string(),
        beam_size: opts.beam_size,
        language: opts.language.clone(),
    }
}

/// Whether [`transcribe_one`] would answer from the cache (batches report reused work).
pub(super) fn is_cached(
    home: &Home,
    lazy: &Lazy,
    model: &str,
    sha: &str,
    opts: &DecodeOptions,
) -> bool {
    !lazy.no_cache && transcripts::get(home, &cache_key(lazy, model, sha, opts)).is_some()
}

fn progress_bar(duration: Option<f64>, file: &Path) -> ProgressBar {
    let bar = ProgressBar::new(duration.unwrap_or(0.0) as u64);
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Ok(style) =
        ProgressStyle::with_template("{msg:30} [{bar:30}] {pos}/{len}s audio ({eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(name);
    bar
}
