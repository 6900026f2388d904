//! `podbrief chapters FILE…`: an outline of each episode, as Podcasting 2.0 JSON, Markdown or
//! `MM:SS Title` lines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use podbrief::audio::chapters::FileChapter;
use podbrief::audio::AudioStream;
use podbrief::chapters::{self, format};
use podbrief::models::{Registry, Role};
use podbrief::store::Home;

use super::brief::{BriefModels, ModelArgs};
use super::summarize::{read_episodes, Bars};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files (mp3, m4a, ogg, flac, wav) or transcripts (srt, vtt, json, txt, md).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    #[arg(short, long, value_enum, default_value = "txt")]
    format: format::Format,
    /// Write FILE-STEM.chapters.{json,md,txt} into this folder (atomically) instead of printing
    /// every episode's chapters to standard output one after another.
    #[arg(short, long, value_name = "DIR")]
    output: Option<PathBuf>,
    /// Titles from each section's most distinctive words, without loading the chat model.
    #[arg(long)]
    no_llm: bool,
    /// Make chapters even for episodes that have their own (`NAME.chapters.json` beside the
    /// file, an MP3's ID3 `CHAP` frames, an MP4's chapter track), which are otherwise shown as
    /// they are, without transcribing.
    #[arg(long)]
    regenerate: bool,
    #[command(flatten)]
    models: ModelArgs,
}

pub fn run(args: Args, threads: usize) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let bars = Bars::new();
    let mut failures = 0;
    let mut todo = Vec::new();
    for file in &args.files {
        match given(file, args.regenerate) {
            Ok(Some(list)) => {
                let name = file.file_name().map_or(String::new(), |n| n.to_string_lossy().into());
                let tagged =
                    AudioStream::open(file).ok().and_then(|a| a.title().map(str::to_string));
                let text = format::render(tagged.as_deref().unwrap_or(&name), &list, args.format);
                write(args.output.as_deref(), &name, args.format, &text)?;
            }
            Ok(None) => todo.push(file.clone()),
            Err(e) => {
                failures += 1;
                eprintln!("error: {}: {e}", file.display());
            }
        }
    }
    if todo.is_empty() {
        return Ok(super::finished(failures));
    }
    let mut asr = args.models.asr(threads);
    let (episodes, read_failures) = read_episodes(&home, &mut asr, &todo, threads);
    failures += read_failures;
    drop(asr);
    if episodes.is_empty() {
        bail!("no input could be read; no chapters written");
    }
    let passages = if args.no_llm { 0 } else { 1 };
    // Titles come from the default LLM, as the brief's outline does, unless one is named: the
    // 1.5B model's titles were judged accurate more often than the 0.5B's (57 % against 41 %,
    // same judges), and with the integer prompt kernels it titles an hour in under 30 s.
    let registry = Registry::builtin()?;
    let llm = args.models.llm_model.as_deref().unwrap_or(&registry.default_for(Role::Llm).name);
    let mut models = BriefModels::load(
        &home,
        args.models.device,
        args.models.embed_model.as_deref(),
        Some(llm),
        passages,
    )?;
    let (lines, reads) = models.prepare(&episodes, &bars)?;
    let no_cache = args.models.no_cache;
    for (e, result) in models.chapters(&home, (&lines, &reads), &episodes, no_cache, &|_| true) {
        let episode = &episodes[e];
        match result {
            Ok(list) => {
                let text = format::render(&episode.title, &list, args.format);
                write(args.output.as_deref(), &episode.source, args.format, &text)?;
            }
            Err(err) => {
                failures += 1;
                eprintln!("error: {}: {err}", episode.source);
            }
        }
    }
    Ok(super::finished(failures))
}

/// The chapters an episode already has, unless `regenerate` (see [`publisher_chapters`]);
/// `None` when there are none.
fn given(file: &Path, regenerate: bool) -> anyhow::Result<Option<Vec<chapters::Chapter>>> {
    if regenerate {
        return Ok(None);
    }
    let list = publisher_chapters(file)?;
    Ok((!list.is_empty()).then(|| chapters::from_file(list)))
}

/// The chapters a publisher gave an episode: a Podcasting 2.0 chapters file beside it
/// (`NAME.chapters.json`, as a feed's `podcast:chapters` serves it and `update` saves it), else
/// an MP3's ID3 `CHAP` frames or an MP4's chapter track or `chpl` list; empty when none.
pub(super) fn publisher_chapters(file: &Path) -> anyhow::Result<Vec<FileChapter>> {
    if !file.is_file() {
        return Ok(Vec::new());
    }
    let beside = file.with_extension("chapters.json");
    if beside.is_file() {
        let text = std::fs::read_to_string(&beside)
            .with_context(|| format!("reading {}", beside.display()))?;
        return format::read_json(&text).with_context(|| format!("reading {}", beside.display()));
    }
    let ext = file.extension().map(|e| e.to_string_lossy().to_lowercase());
    Ok(match ext.as_deref() {
        Some("mp3") => podbrief::audio::chapters::id3_chapters(file)?,
        Some("m4a" | "m4b" | "mp4" | "mov") => podbrief::audio::mp4_chapters::mp4_chapters(file)?,
        _ => Vec::new(),
    })
}

fn write(
    dir: Option<&Path>,
    source: &str,
    format: format::Format,
    text: &str,
) -> anyhow::Result<()> {
    let Some(dir) = dir else {
        print!("{text}");
        return Ok(());
    };
    let stem = Path::new(source).file_stem().map_or("episode".into(), |s| s.to_string_lossy());
    let path = dir.join(format!("{stem}.{}", format.extension()));
    super::write_output(Some(&path), text)
}
