//! `podbrief batch PATH…`: every episode under the paths, through two overlapping stages (speech
//! recognition in worker threads, distillation on this one), each model loaded once; resumable
//! from the library, shardable across machines, with a report. `podbrief merge` is in
//! `merge.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context};
use podbrief::asr::DecodeOptions;
use podbrief::distill::{Options, Quiet};
use podbrief::store::library::{shard_of, BatchItem, Library};
use podbrief::store::{self, Home};
use rayon::prelude::*;
use serde::Serialize;

use super::batch_stages::{collect, save_transcript, Input, Prepared, Speech, StageBars};
use super::brief::BriefModels;
use super::merge::{write_brief_of_homes, BriefArgs};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio or transcript files, folders (searched recursively), `@LIST` (a file of paths, one
    /// per line) or `-` (paths on standard input).
    #[arg(required = true)]
    paths: Vec<String>,
    /// Speech-recognition workers (each loads its own recogniser).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Skip the files this home already finished.
    #[arg(long)]
    resume: bool,
    /// Only this share of the inputs, `K/N` (K from 1), by a hash of each file's content.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u32, u32)>,
    /// Write the run's report (counts, failures, seconds per stage, throughput) as JSON.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Also write a brief of everything this home has processed.
    #[arg(long)]
    brief: bool,
    #[command(flatten)]
    out: BriefArgs,
    /// Speech recognition model (registry name or folder).
    #[arg(long)]
    asr_model: Option<String>,
    /// Run the stages one after the other (for measuring what the overlap gains).
    #[arg(long, hide = true)]
    sequential: bool,
}

fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 2/3")?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| "K is not a number")?,
        n.trim().parse().map_err(|_| "N is not a number")?,
    );
    if n == 0 || k == 0 || k > n {
        return Err(format!("shard {k}/{n}: K must be 1..=N"));
    }
    Ok((k, n))
}

#[derive(Debug, Default, Serialize)]
struct Report {
    inputs: usize,
    shard: Option<String>,
    processed: usize,
    skipped_already_done: usize,
    reused_transcripts: usize,
    failed: Vec<Failure>,
    seconds: BTreeMap<String, f64>,
    audio_hours: f64,
    audio_hours_per_wall_hour: f64,
}

#[derive(Debug, Serialize)]
struct Failure {
    path: String,
    error: String,
}

pub fn run(args: Args, threads: usize) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let home = Home::from_env();
    let library = Library::open(&home.library_db())?;
    let paths = collect(&args.paths)?;
    let mut report = Report { inputs: paths.len(), ..Report::default() };

    let hashing = Instant::now();
    let mut inputs: Vec<Input> = paths
        .into_par_iter()
        .map(|path| {
            let key = store::sha256_file(&path, &mut |_| {}).map_err(|e| e.to_string());
            Input { path, key }
        })
        .collect();
    report.seconds.insert("hash".into(), hashing.elapsed().as_secs_f64());
    if let Some((k, n)) = args.shard {
        report.shard = Some(format!("{k}/{n}"));
        inputs.retain(|i| {
            let id = i
                .key
                .clone()
                .unwrap_or_else(|_| store::sha256_bytes(i.path.to_string_lossy().as_bytes()));
            shard_of(&id, n) == k - 1
        });
    }
    // The same content under two names is one episode.
    let mut seen = std::collections::HashSet::new();
    inputs.retain(|i| i.key.as_ref().map_or(true, |k| seen.insert(k.clone())));
    if args.resume {
        let done: std::collections::HashSet<String> = library
            .batch_items()?
            .into_iter()
            .filter(|i| i.error.is_none())
            .map(|i| i.key)
            .collect();
        let before = inputs.len();
        inputs.retain(|i| i.key.as_ref().map_or(true, |k| !done.contains(k)));
        report.skipped_already_done = before - inputs.len();
    }

    // A shard with nothing to do loads nothing.
    let mut models = None;
    if !inputs.is_empty() {
        models = Some(BriefModels::load(
            &home,
            args.out.device,
            args.out.embed_model.as_deref(),
            args.out.llm_model.as_deref(),
            args.out.llm_passages,
        )?);
    }
    let opts = Options {
        llm_passages: args.out.llm_passages,
        llm_per_episode: true,
        ..Options::default()
    };
    let bars = StageBars::new(inputs.len() as u64);
    let decode = DecodeOptions { threads, ..DecodeOptions::default() };
    let speech = Speech {
        home: home.clone(),
        model: args.asr_model.clone(),
        device: args.out.device,
        threads,
        decode,
    };
    let mut distill_one = |p: Prepared, report: &mut Report| -> anyhow::Result<()> {
        bars.asr.inc(1);
        let t = Instant::now();
        let path = p.input.path.display().to_string();
        let outcome = match (p.input.key, p.result) {
            (Ok(key), Ok((episode, asr_model, reused))) => {
                let Some(models) = models.as_mut() else { bail!("models not loaded") };
                let result = models
                    .distill(&home, std::slice::from_ref(&episode), &[], &opts, false, &Quiet)
                    .and_then(|_| save_transcript(&home, &key, &episode));
                match result {
                    Ok(rel) => {
                        report.processed += 1;
                        report.reused_transcripts += usize::from(reused);
                        report.audio_hours += episode.duration / 3600.0;
                        Ok((key, episode, asr_model, reused, rel))
                    }
                    Err(e) => Err((Some(key), super::chain(&e))),
                }
            }
            (Ok(key), Err(e)) => Err((Some(key), super::chain(&e))),
            (Err(e), _) => Err((None, e)),
        };
        let distill_seconds = t.elapsed().as_secs_f64();
        let item = match outcome {
            Ok((key, episode, asr_model, reused, rel)) => BatchItem {
                key,
                path: path.clone(),
                title: episode.title.clone(),
                error: None,
                transcript: Some(rel),
                asr_model,
                duration: episode.duration,
                reused,
                asr_seconds: p.asr_seconds,
                distill_seconds,
                runs: 0,
            },
            Err((key, error)) => {
                eprintln!("error: {path}: {error}");
                report.failed.push(Failure { path: path.clone(), error: error.clone() });
                BatchItem {
                    key: key.unwrap_or_else(|| format!("path:{path}")),
                    path: path.clone(),
                    title: path.clone(),
                    error: Some(error),
                    transcript: None,
                    asr_model: None,
                    duration: 0.0,
                    reused: false,
                    asr_seconds: p.asr_seconds,
                    distill_seconds,
                    runs: 0,
                }
            }
        };
        *report.seconds.entry("asr".into()).or_default() += p.asr_seconds;
        *report.seconds.entry("distill".into()).or_default() += distill_seconds;
        library.record_batch_item(&item)?;
        bars.distill.inc(1);
        Ok(())
    };

    let queue = Arc::new(Mutex::new(inputs.into_iter().collect::<VecDeque<Input>>()));
    if args.sequential {
        let mut worker = speech.worker();
        while let Some(input) = pop(&queue) {
            distill_one(worker.prepare(input), &mut report)?;
        }
    } else {
        // A bounded hand-over: at most `jobs` transcripts wait for the distiller, so memory
        // stays flat however many files there are.
        let (tx, rx) = mpsc::sync_channel::<Prepared>(args.jobs.max(1));
        std::thread::scope(|scope| -> anyhow::Result<()> {
            for _ in 0..args.jobs.max(1) {
                let (tx, queue, speech) = (tx.clone(), Arc::clone(&queue), &speech);
                scope.spawn(move || {
                    let mut worker = speech.worker();
                    while let Some(input) = pop(&queue) {
                        if tx.send(worker.prepare(input)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop(tx);
            for prepared in rx {
                distill_one(prepared, &mut report)?;
            }
            Ok(())
        })?;
    }
    bars.finish();

    let wall = start.elapsed().as_secs_f64();
    report.seconds.insert("wall".into(), wall);
    report.audio_hours_per_wall_hour = report.audio_hours / (wall / 3600.0).max(1e-9);
    eprintln!(
        "{} processed ({} transcripts reused), {} skipped as already done, {} failed; \
         {:.2} h of audio in {:.0} s ({:.1} audio hours per wall hour)",
        report.processed,
        report.reused_transcripts,
        report.skipped_already_done,
        report.failed.len(),
        report.audio_hours,
        wall,
        report.audio_hours_per_wall_hour
    );
    if let Some(path) = &args.report {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        store::atomic_write(path, json.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.brief {
        drop(models);
        write_brief_of_homes(&home, std::slice::from_ref(&home.root), &args.out)?;
    }
    Ok(if report.failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn pop(queue: &Mutex<VecDeque<Input>>) -> Option<Input> {
    queue.lock().ok()?.pop_front()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_syntax() {
        assert_eq!(parse_shard("2/3"), Ok((2, 3)));
        assert!(
            parse_shard("0/3").is_err() && parse_shard("4/3").is_err() && parse_shard("3").is_err()
        );
    }
}
