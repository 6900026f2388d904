//! `podbrief merge HOME…`: one brief from the stores of several batch shards, the same brief one
//! machine would have written from all the inputs. Episodes are taken in the order of their
//! content hash, whichever shard they came from, and every shard's LLM replies are copied into
//! this home's cache first, so no rewrite is made twice and each is the one its shard made.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use podbrief::asr::DeviceSpec;
use podbrief::brief::{self, Format};
use podbrief::distill::{Episode, Options};
use podbrief::store::library::{BatchItem, Library};
use podbrief::store::{self, Home};

use super::brief::{make_brief, split_interests, BriefSettings};
use super::summarize::{self, Bars};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Podbrief homes written by `batch` (each shard's `PODBRIEF_HOME`).
    #[arg(required = true)]
    homes: Vec<PathBuf>,
    #[command(flatten)]
    out: BriefArgs,
}

/// How a batch's brief is written; `batch` and `merge` share them so both make the same brief.
#[derive(Debug, clap::Args)]
pub struct BriefArgs {
    #[arg(short, long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write the brief here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Entries in the brief.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
    /// Topics you care about, comma-separated.
    #[arg(long)]
    pub interests: Option<String>,
    /// List the candidates the grounding checks rejected, and why.
    #[arg(long)]
    pub explain: bool,
    /// cpu, cuda, cuda:N or metal (all models).
    #[arg(long, default_value = "cpu")]
    pub device: DeviceSpec,
    /// Sentence-embedding model (registry name or folder).
    #[arg(long)]
    pub embed_model: Option<String>,
    /// Chat model (registry name or GGUF file).
    #[arg(long)]
    pub llm_model: Option<String>,
    /// Passages the LLM rewrites in each episode (0: none). Shards and their merge must agree.
    #[arg(long, default_value_t = Options::default().llm_passages)]
    pub llm_passages: usize,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    write_brief_of_homes(&home, &args.homes, &args.out)?;
    Ok(ExitCode::SUCCESS)
}

/// The brief of every episode the homes finished, written as `out` says.
pub(super) fn write_brief_of_homes(
    home: &Home,
    homes: &[PathBuf],
    out: &BriefArgs,
) -> anyhow::Result<()> {
    let mut items: BTreeMap<String, (PathBuf, BatchItem)> = BTreeMap::new();
    for root in homes {
        let db = root.join("library.sqlite3");
        if !db.is_file() {
            bail!(
                "{} is not a podbrief home written by `batch` (no library.sqlite3)",
                root.display()
            );
        }
        for item in Library::open(&db)?.batch_items()? {
            if item.error.is_none() {
                items.entry(item.key.clone()).or_insert((root.clone(), item));
            }
        }
        copy_replies(&root.join("llm-replies"), &home.root.join("llm-replies"))?;
    }
    if items.is_empty() {
        bail!(
            "no processed episodes in {}",
            homes.iter().map(|h| h.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let mut episodes: Vec<Episode> = Vec::with_capacity(items.len());
    let mut asr = None;
    for (key, (root, item)) in &items {
        let rel = item.transcript.as_deref().unwrap_or_default();
        let mut ep = summarize::read_transcript(&root.join(rel))
            .with_context(|| format!("the saved transcript of {}", item.path))?;
        ep.title = item.title.clone();
        ep.sha256 = key.clone();
        ep.source = PathBuf::from(&item.path)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        asr = asr.or(item.asr_model.clone());
        episodes.push(ep);
    }
    let interests = split_interests(out.interests.as_deref().unwrap_or(""));
    let settings = BriefSettings {
        device: out.device,
        embed_model: out.embed_model.as_deref(),
        llm_model: out.llm_model.as_deref(),
        llm_passages: out.llm_passages,
        interests: &interests,
        top: out.top,
        explain: out.explain,
        no_cache: false,
        asr,
        already_sent: Vec::new(),
        per_episode: true,
    };
    let (brief, _) = make_brief(home, &episodes, settings, &Bars::new())?;
    let text = brief::render(&brief, out.format);
    super::write_output(out.output.as_deref(), &text)?;
    Ok(())
}

/// Copies the reply files (in their sub-folders) this cache lacks; names are content hashes,
/// so equal names are equal replies.
fn copy_replies(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    if from == to || !from.is_dir() {
        return Ok(());
    }
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_replies(&entry.path(), &dest)?;
        } else if entry.file_type()?.is_file() && !dest.exists() {
            let bytes = std::fs::read(entry.path())?;
            store::atomic_write(&dest, &bytes)
                .with_context(|| format!("writing {}", dest.display()))?;
        }
    }
    Ok(())
}
