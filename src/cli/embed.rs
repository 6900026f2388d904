//! `podbrief embed`: sentence embeddings as JSON, for users, scripts and benchmarks.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use podbrief::device::DeviceSpec;
use podbrief::embed::Embedder;
use podbrief::models::{ModelStore, Registry, Role};
use podbrief::store::Home;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Texts to embed; `-` reads one text per line of standard input.
    #[arg(value_name = "TEXT|-", required = true)]
    texts: Vec<String>,
    /// Registry name (see `podbrief models list`) or a model folder.
    #[arg(long, value_name = "NAME|PATH")]
    model: Option<String>,
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Print load and encode times to standard error.
    #[arg(long)]
    stats: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let texts: Vec<String> = if args.texts == ["-"] {
        super::read_arg_or_stdin("-")?.lines().map(str::to_string).collect()
    } else {
        args.texts
    };
    let home = Home::from_env();
    let model = ModelStore::new(&home).resolve(
        &Registry::builtin()?,
        args.model.as_deref(),
        Role::Embed,
    )?;
    let device = args.device.candle()?;
    let embedder = Embedder::load(&model.path, &device)
        .with_context(|| format!("loading {}", model.path.display()))?;
    let t1 = Instant::now();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let ids = embedder.tokenize(&refs)?;
    let t2 = Instant::now();
    let vectors = embedder.embed_ids(&ids)?;
    let t3 = Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer(&mut out, &vectors)?;
    writeln!(out)?;
    out.flush()?;
    if args.stats {
        eprintln!(
            "stats: load {:.3}s, tokenize {:.3}s, encode {:.3}s; {} texts, {} tokens",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t3 - t2).as_secs_f64(),
            texts.len(),
            ids.iter().map(Vec::len).sum::<usize>(),
        );
    }
    Ok(ExitCode::SUCCESS)
}
