//! Command-line definitions and the wiring between stages; no pipeline logic lives here.

mod batch;
mod batch_stages;
mod brief;
mod chapters;
mod config;
mod daily;
mod embed;
mod feeds;
mod llm;
mod merge;
mod models;
mod summarize;
mod transcribe;

use std::process::ExitCode;

use std::io::Read;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "podbrief",
    version,
    about = "Podcast audio to a short, trustworthy brief, on your own machine"
)]
pub struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// CPU threads for decoding and inference (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Summarize episodes (audio or transcripts) into a brief of their top insights.
    Summarize(summarize::Args),
    /// Transcribe audio files into timestamped text (txt, srt, vtt or json).
    Transcribe(transcribe::Args),
    /// Chapters of each episode: start times, titles and summaries (Podcasting 2.0 JSON,
    /// Markdown or `MM:SS Title` lines), sponsor reads marked.
    Chapters(chapters::Args),
    /// Reply to one prompt with the local chat model.
    Llm(llm::Args),
    /// Sentence embeddings as JSON, one vector per text.
    Embed(embed::Args),
    /// List, fetch, verify, describe and convert the models podbrief uses.
    #[command(subcommand)]
    Models(models::Command),
    /// Follow podcast feeds: add, list, remove, import and export (OPML) subscriptions.
    #[command(subcommand)]
    Feeds(feeds::Command),
    /// Fetch every feed (conditionally) and download the new episodes, resuming partial ones.
    Update(feeds::UpdateArgs),
    /// Update the feeds, then write (and optionally mail) one brief across everything new,
    /// leaving out what earlier briefs already said.
    Daily(daily::Args),
    /// Process whole folders or back-catalogues: models loaded once, resumable, shardable.
    Batch(batch::Args),
    /// One brief from the homes of several `batch --shard` runs.
    Merge(merge::Args),
    /// Where the config file is, and what it sets.
    #[command(subcommand)]
    Config(config::Command),
}

pub fn init(cli: &Cli) {
    if let Some(n) = cli.threads {
        // candle and rayon both size their pools from this, and must see it before any pool
        // starts; nothing else runs yet at this point.
        std::env::set_var("RAYON_NUM_THREADS", n.max(1).to_string());
    }
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("podbrief={level},symphonia=off,warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let threads = cli.threads.unwrap_or_else(podbrief::asr::default_threads);
    match cli.command {
        Command::Summarize(args) => summarize::run(args, threads),
        Command::Chapters(args) => chapters::run(args, threads),
        Command::Transcribe(args) => transcribe::run(args, threads),
        Command::Llm(args) => llm::run(args),
        Command::Embed(args) => embed::run(args),
        Command::Models(cmd) => models::run(cmd),
        Command::Feeds(cmd) => feeds::run(cmd),
        Command::Update(args) => feeds::run_update(args),
        Command::Daily(args) => daily::run(args, threads),
        Command::Config(cmd) => config::run(cmd),
        Command::Batch(args) => batch::run(args, threads),
        Command::Merge(args) => merge::run(args),
    }
}

/// Exit code of a run that finished but could not process some of its inputs (a bad file, a
/// failing feed or episode): the others were processed and the output written. The same in every
/// command, so a scheduler can tell it from a crash (1) and a usage error (2).
pub const SOME_INPUTS_FAILED: u8 = 3;

/// 0 when nothing failed, else [`SOME_INPUTS_FAILED`].
pub fn finished(failures: usize) -> ExitCode {
    if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(SOME_INPUTS_FAILED)
    }
}

/// An error and its causes on one line.
pub fn chain(e: &anyhow::Error) -> String {
    podbrief::error_chain(e.as_ref())
}

/// Writes a command's result to `path` (atomically: never a half-written file) or, without one,
/// to standard output.
pub fn write_output(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => podbrief::store::atomic_write(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// An argument that may be `-` for standard input. Input that is not UTF-8 is refused with
/// its position rather than silently patched.
pub fn read_arg_or_stdin(arg: &str) -> anyhow::Result<String> {
    if arg != "-" {
        return Ok(arg.to_string());
    }
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).context("reading standard input")?;
    String::from_utf8(buf).map_err(|e| {
        anyhow!(
            "standard input is not valid UTF-8 (bad byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
