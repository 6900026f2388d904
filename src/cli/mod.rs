//! Command-line definitions and the wiring between stages; no pipeline logic lives here.

mod models;
mod transcribe;

use std::process::ExitCode;

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
    /// Transcribe audio files into timestamped text (txt, srt, vtt or json).
    Transcribe(transcribe::Args),
    /// List, fetch, verify and convert the models podbrief uses.
    #[command(subcommand)]
    Models(models::Command),
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
        Command::Transcribe(args) => transcribe::run(args, threads),
        Command::Models(cmd) => models::run(cmd),
    }
}

/// An error and its causes on one line.
pub fn chain(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}
