//! `podbrief summarize FILE…`: audio or transcripts in, one brief out.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use podbrief::asr::DecodeOptions;
use podbrief::audio::AudioStream;
use podbrief::brief::{self, Format};
use podbrief::distill::{self, Episode, Options};
use podbrief::store::Home;
use podbrief::transcript::{parse, Transcript};

use super::brief::{make_brief, split_interests, BriefSettings, ModelArgs};
use super::transcribe::{transcribe_one, Lazy, OnDemandAsr};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files (mp3, m4a, ogg, flac, wav) or transcripts (srt, vtt, json, txt, md).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Entries in the brief.
    #[arg(long, default_value_t = 5)]
    top: usize,
    /// Topics you care about, comma-separated ("open source, AI policy"): closer insights rank
    /// higher.
    #[arg(long)]
    interests: Option<String>,
    #[arg(short, long, value_enum, default_value = "md")]
    format: Format,
    /// Write the brief here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// List the candidates the grounding checks rejected, and why.
    #[arg(long)]
    explain: bool,
    #[command(flatten)]
    models: ModelArgs,
    /// At most this many nominated passages are rewritten by the LLM, each episode's best
    /// first (bounds the time of long episodes); 0 skips the LLM: insights keep the words
    /// they were said in.
    #[arg(long, default_value_t = Options::default().llm_passages)]
    llm_passages: usize,
}

pub fn run(args: Args, threads: usize) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let bars = Bars::new();

    let mut asr = args.models.asr(threads);
    let (episodes, failures) = read_episodes(&home, &mut asr, &args.files, threads);
    if episodes.is_empty() {
        bail!("no input could be read; nothing to summarize");
    }
    let asr_name = asr.used();
    drop(asr);

    let interests = split_interests(args.interests.as_deref().unwrap_or(""));
    let settings = BriefSettings {
        device: args.models.device,
        embed_model: args.models.embed_model.as_deref(),
        llm_model: args.models.llm_model.as_deref(),
        llm_passages: args.llm_passages,
        interests: &interests,
        top: args.top,
        explain: args.explain,
        no_cache: args.models.no_cache,
        asr: asr_name,
        already_sent: Vec::new(),
        per_episode: false,
    };
    let (brief, _) = make_brief(&home, &episodes, settings, &bars)?;
    let text = brief::render(&brief, args.format);
    super::write_output(args.output.as_deref(), &text)?;
    Ok(super::finished(failures))
}

/// Every input as an episode: transcripts read, audio transcribed (the speech model loaded on
/// first need). An input that fails is reported and counted, and the others go on.
pub(super) fn read_episodes(
    home: &Home,
    asr: &mut OnDemandAsr,
    files: &[PathBuf],
    threads: usize,
) -> (Vec<Episode>, usize) {
    let decode = DecodeOptions { threads, ..DecodeOptions::default() };
    let mut episodes = Vec::new();
    let mut failures = 0;
    for file in files {
        let is_transcript = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| parse::EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
        let result = if is_transcript {
            read_transcript(file)
        } else {
            asr.get(home).and_then(|(name, lazy)| audio_episode(home, lazy, name, file, &decode))
        };
        match result {
            Ok(ep) if ep.segments.iter().any(|s| !s.text.trim().is_empty()) => episodes.push(ep),
            Ok(_) => {
                failures += 1;
                eprintln!("error: {}: no speech or text found; skipped", file.display());
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {}: {}", file.display(), super::chain(&e));
            }
        }
    }
    (episodes, failures)
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

pub(super) fn read_transcript(path: &Path) -> anyhow::Result<Episode> {
    let t = parse::read(path)?;
    Ok(with_chapters(episode(t, file_name(path)), path))
}

pub(super) fn audio_episode(
    home: &Home,
    lazy: &mut Lazy,
    model: &str,
    path: &Path,
    opts: &DecodeOptions,
) -> anyhow::Result<Episode> {
    let title = AudioStream::open(path)?.title().map(str::to_string);
    let t = transcribe_one(home, lazy, model, path, opts)?;
    Ok(with_chapters(episode(t, title.unwrap_or_else(|| file_name(path))), path))
}

/// The episode with the chapters its publisher gave it. A broken chapters file costs the
/// outline, not the brief: it is reported and the outline is made instead.
fn with_chapters(mut ep: Episode, path: &Path) -> Episode {
    match super::chapters::publisher_chapters(path) {
        Ok(list) => ep.chapters = list,
        Err(e) => {
            tracing::warn!("{}: its chapters are not used: {}", path.display(), super::chain(&e))
        }
    }
    ep
}

pub(super) fn episode(t: Transcript, title: String) -> Episode {
    Episode {
        title,
        source: t.source,
        sha256: t.audio_sha256,
        duration: t.duration,
        segments: t.segments,
        chapters: Vec::new(),
    }
}

/// One progress bar per long stage, drawn only on a terminal.
pub(super) struct Bars {
    multi: MultiProgress,
    bars: RefCell<HashMap<String, ProgressBar>>,
}

impl Bars {
    pub(super) fn new() -> Bars {
        Bars { multi: MultiProgress::new(), bars: RefCell::new(HashMap::new()) }
    }
}

impl distill::Progress for Bars {
    fn start(&self, stage: &str, total: u64) {
        let bar = self.multi.add(ProgressBar::new(total));
        let label = match stage {
            "embed" => "embedding sentences",
            "llm" => "rewriting with the LLM",
            other => other,
        };
        if let Ok(style) = ProgressStyle::with_template("{msg:30} [{bar:30}] {pos}/{len} ({eta})") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(label.to_string());
        self.bars.borrow_mut().insert(stage.to_string(), bar);
    }
    fn advance(&self, stage: &str) {
        if let Some(b) = self.bars.borrow().get(stage) {
            b.inc(1);
        }
    }
    fn finish(&self, stage: &str) {
        if let Some(b) = self.bars.borrow_mut().remove(stage) {
            b.finish_and_clear();
        }
    }
}
