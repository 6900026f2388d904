//! `podbrief batch PATH…`: every episode under the paths, each through speech recognition and
//! distillation by one of `--jobs` workers (their stages overlap when there are several), with
//! each worker's models loaded once; resumable from the library, shardable across machines,
//! with a report. `podbrief merge` is in `merge.rs`.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
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
    /// Episode workers. Each takes the next file through both stages with its own models and
    /// `--threads`/N cores, so one transcribes while another distills. 1 by default: on 2 cores
    /// two workers were slower (scripts/bench-batch.sh).
    #[arg(long)]
    jobs: Option<usize>,
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

    let opts = Options {
        llm_passages: args.out.llm_passages,
        llm_per_episode: true,
        ..Options::default()
    };
    let bars = StageBars::new(inputs.len() as u64);
    let (jobs, per_job) = split_threads(&args, threads);
    let decode = DecodeOptions { threads: per_job, ..DecodeOptions::default() };
    let shared = Shared {
        home: home.clone(),
        out: &args.out,
        opts,
        speech: Speech {
            home: home.clone(),
            model: args.asr_model.clone(),
            device: args.out.device,
            threads: per_job,
            decode,
        },
        bars: &bars,
        queue: Mutex::new(inputs.into_iter().collect::<VecDeque<Input>>()),
        report: Mutex::new(report),
    };
    // Episode workers, each with its own share of the cores (its own rayon pool, which
    // candle's and gemm's parallel loops run in) and its own models, loaded at its first
    // episode. While one worker transcribes an episode another distills the one before: the
    // stages overlap without two of them fighting over the same cores, which on a small
    // machine costs more than it gains (measured: see the README).
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..jobs)
            .map(|_| {
                let shared = &shared;
                scope.spawn(move || -> anyhow::Result<()> {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(per_job).build()?;
                    pool.install(|| shared.work())
                })
            })
            .collect();
        for w in workers {
            w.join().map_err(|_| anyhow::anyhow!("a batch worker panicked"))??;
        }
        Ok(())
    })?;
    let mut report = shared.report.into_inner().map_err(|_| anyhow::anyhow!("report lock"))?;
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
        write_brief_of_homes(&home, std::slice::from_ref(&home.root), &args.out)?;
    }
    // 3, not 1: the run finished and recorded what failed, which a scheduler should not retry.
    Ok(super::finished(report.failed.len()))
}

/// Workers and threads per worker: `--jobs` (default 1) share the threads evenly.
fn split_threads(args: &Args, threads: usize) -> (usize, usize) {
    let threads = threads.max(1);
    let jobs = args.jobs.unwrap_or(1).clamp(1, threads);
    (jobs, (threads / jobs).max(1))
}

/// What the workers share: settings, the queue of inputs, the bars and the report.
struct Shared<'a> {
    home: Home,
    out: &'a BriefArgs,
    opts: Options,
    speech: Speech,
    bars: &'a StageBars,
    queue: Mutex<VecDeque<Input>>,
    report: Mutex<Report>,
}

impl Shared<'_> {
    /// One worker: takes inputs until none are left, each through both stages.
    fn work(&self) -> anyhow::Result<()> {
        let library = Library::open(&self.home.library_db())?;
        let mut speech = self.speech.worker();
        let mut models: Option<BriefModels> = None;
        while let Some(input) = pop(&self.queue) {
            let prepared = speech.prepare(input);
            self.bars.asr.inc(1);
            let t = Instant::now();
            let item = self.distill(prepared, &mut models);
            let (mut item, report_line) = item;
            item.distill_seconds = t.elapsed().as_secs_f64();
            library.record_batch_item(&item)?;
            let mut report = self.report.lock().map_err(|_| anyhow::anyhow!("report lock"))?;
            *report.seconds.entry("asr".into()).or_default() += item.asr_seconds;
            *report.seconds.entry("distill".into()).or_default() += item.distill_seconds;
            match report_line {
                Ok(reused) => {
                    report.processed += 1;
                    report.reused_transcripts += usize::from(reused);
                    report.audio_hours += item.duration / 3600.0;
                }
                Err(error) => {
                    eprintln!("error: {}: {error}", item.path);
                    report.failed.push(Failure { path: item.path.clone(), error });
                }
            }
            self.bars.distill.inc(1);
        }
        Ok(())
    }

    /// The distill stage of one prepared input, as the item to record (distill seconds unset)
    /// and, for the report, whether its transcript was reused, or its error.
    fn distill(
        &self,
        p: Prepared,
        models: &mut Option<BriefModels>,
    ) -> (BatchItem, Result<bool, String>) {
        let path = p.input.path.display().to_string();
        let mut item = BatchItem {
            key: format!("path:{path}"),
            path: path.clone(),
            title: path.clone(),
            error: None,
            transcript: None,
            asr_model: None,
            duration: 0.0,
            reused: false,
            asr_seconds: p.asr_seconds,
            distill_seconds: 0.0,
            runs: 0,
        };
        let result = match (p.input.key, p.result) {
            (Ok(key), Ok((episode, asr_model, reused))) => {
                item.key = key.clone();
                item.title = episode.title.clone();
                item.duration = episode.duration;
                item.asr_model = asr_model;
                item.reused = reused;
                self.distill_episode(models, &key, &episode).map(|rel| {
                    item.transcript = Some(rel);
                    reused
                })
            }
            (Ok(key), Err(e)) => {
                item.key = key;
                Err(e)
            }
            (Err(e), _) => Err(anyhow::anyhow!("{e}")),
        };
        let result = result.map_err(|e| super::chain(&e));
        if let Err(e) = &result {
            item.error = Some(e.clone());
            item.duration = 0.0;
            item.transcript = None;
        }
        (item, result)
    }

    fn distill_episode(
        &self,
        models: &mut Option<BriefModels>,
        key: &str,
        episode: &podbrief::distill::Episode,
    ) -> anyhow::Result<String> {
        if models.is_none() {
            let o = self.out;
            *models = Some(BriefModels::load(
                &self.home,
                o.device,
                o.embed_model.as_deref(),
                o.llm_model.as_deref(),
                o.llm_passages,
            )?);
        }
        let Some(m) = models.as_mut() else { bail!("models not loaded") };
        m.distill(&self.home, std::slice::from_ref(episode), &[], &self.opts, false, &Quiet)?;
        save_transcript(&self.home, key, episode)
    }
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
