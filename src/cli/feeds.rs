//! `podbrief feeds add|list|remove|import|export` and `podbrief update`.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use podbrief::config::Config;
use podbrief::feed::fetch::{Client, Limits};
use podbrief::feed::update::{self, DownloadReport, FeedReport, Settings};
use podbrief::feed::{read_opml, write_opml, OpmlFeed};
use podbrief::store::library::{EpisodeRow, EpisodeState, Library, MediaKind};
use podbrief::store::Home;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Subscribe to a feed URL (fetched once to check it), or to every feed of an OPML file.
    Add { url_or_file: String },
    /// The subscribed feeds, with their episode counts and last error.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Unsubscribe (by URL or by the id `feeds list` shows); its episodes' records go too.
    Remove { url_or_id: String },
    /// Subscribe to every feed of an OPML file (the podcast apps' export format).
    Import { file: PathBuf },
    /// Write the subscriptions as OPML, to FILE or standard output.
    Export { file: Option<PathBuf> },
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Only check the feeds; download nothing.
    #[arg(long)]
    no_download: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

pub(super) struct Network {
    pub library: Library,
    pub client: Client,
    pub settings: Settings,
}

impl Network {
    pub fn open(home: &Home, config: &Config) -> anyhow::Result<Network> {
        let n = &config.network;
        let limits = Limits {
            timeout: Duration::from_secs(n.timeout_secs.max(1)),
            max_feed_bytes: n.max_feed_mib.saturating_mul(1 << 20),
            max_download_bytes: n.max_download_mib.saturating_mul(1 << 20),
            allow_private: n.allow_private_hosts,
        };
        Ok(Network {
            library: Library::open(&home.library_db())?,
            client: Client::new(limits),
            settings: Settings {
                media_dir: home.root.join("episodes"),
                new_feed_episodes: n.new_feed_episodes,
                max_attempts: n.max_attempts,
            },
        })
    }

    /// Fetches every feed, then every episode still to fetch; prints what happened.
    /// Returns how many feeds and episodes failed.
    pub fn update(&self, download: bool, json: bool) -> anyhow::Result<usize> {
        let progress = Bars::default();
        let feeds = update::refresh_all(&self.library, &self.client, &progress)?;
        let downloads = if download {
            update::fetch_episodes(&self.library, &self.client, &self.settings, &progress)?
        } else {
            Vec::new()
        };
        if json {
            let report = serde_json::json!({ "feeds": feeds, "downloads": downloads });
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Ok(feeds.iter().filter(|f| f.error.is_some()).count()
            + downloads.iter().filter(|d| d.error.is_some()).count())
    }
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let config = super::config::load(&home)?;
    let net = Network::open(&home, &config)?;
    let lib = &net.library;
    match cmd {
        Command::Add { url_or_file } => {
            let path = Path::new(&url_or_file);
            if !url_or_file.contains("://") && path.is_file() {
                return import(&net, path);
            }
            let report = update::add(lib, &net.client, &url_or_file, &net.settings)?;
            print_feed(&report);
        }
        Command::List { json } => list(lib, json)?,
        Command::Remove { url_or_id } => {
            let Some(feed) = lib.find_feed(&url_or_id)? else {
                bail!("no subscribed feed is {url_or_id:?} (see `podbrief feeds list`)");
            };
            lib.remove_feed(feed.id)?;
            eprintln!("removed {}", feed.url);
        }
        Command::Import { file } => return import(&net, &file),
        Command::Export { file } => {
            let feeds: Vec<OpmlFeed> = lib
                .feeds()?
                .into_iter()
                .map(|f| OpmlFeed { title: f.title.unwrap_or_else(|| f.url.clone()), url: f.url })
                .collect();
            let text = write_opml(&feeds);
            super::write_output(file.as_deref(), &text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_update(args: UpdateArgs) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let config = super::config::load(&home)?;
    let net = Network::open(&home, &config)?;
    if net.library.feeds()?.is_empty() {
        bail!("no feeds yet: subscribe with `podbrief feeds add URL`");
    }
    let failed = net.update(!args.no_download, args.json)?;
    Ok(super::finished(failed))
}

/// Subscribes to each feed of an OPML file; one that cannot be fetched is reported and skipped.
fn import(net: &Network, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let feeds = read_opml(&bytes).with_context(|| file.display().to_string())?;
    let mut failed = 0;
    for f in &feeds {
        match update::add(&net.library, &net.client, &f.url, &net.settings) {
            Ok(report) => print_feed(&report),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    eprintln!("{} of {} feeds added", feeds.len() - failed, feeds.len());
    Ok(super::finished(failed))
}

fn list(lib: &Library, json: bool) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    for f in lib.feeds()? {
        let eps = lib.feed_episodes(f.id)?;
        let count = |s: EpisodeState| eps.iter().filter(|e| e.state == s).count();
        let fetched = eps.iter().filter(|e| e.media.is_some()).count();
        rows.push(serde_json::json!({
            "id": f.id,
            "url": f.url,
            "title": f.title,
            "episodes": eps.len(),
            "fetched": fetched,
            "failed": count(EpisodeState::Failed),
            "skipped": count(EpisodeState::Skipped),
            "checked_at": f.checked_at,
            "last_error": f.last_error,
        }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if rows.is_empty() {
        eprintln!("no feeds yet: subscribe with `podbrief feeds add URL`");
    }
    for r in rows {
        println!(
            "{:>3}  {}  ({} episodes, {} fetched, {} failed)\n     {}{}",
            r["id"],
            r["title"].as_str().unwrap_or("(untitled)"),
            r["episodes"],
            r["fetched"],
            r["failed"],
            r["url"].as_str().unwrap_or(""),
            r["last_error"].as_str().map(|e| format!("\n     last error: {e}")).unwrap_or_default()
        );
    }
    Ok(())
}

fn print_feed(r: &FeedReport) {
    let name = r.title.as_deref().unwrap_or(&r.url);
    for w in &r.warnings {
        eprintln!("warning: {name}: {w}");
    }
    match (&r.error, r.status) {
        (Some(e), _) => eprintln!("error: {e}"),
        (None, "not_modified") => eprintln!("{name}: not modified"),
        (None, _) if r.skipped > 0 => eprintln!(
            "{name}: {} new episodes to fetch ({} older ones skipped)",
            r.new_episodes, r.skipped
        ),
        (None, _) => eprintln!("{name}: {} new episodes", r.new_episodes),
    }
}

fn print_download(r: &DownloadReport) {
    let name = format!("{} — {}", r.show.as_deref().unwrap_or("?"), r.title);
    match &r.error {
        Some(e) => eprintln!("error: {name}: {e}"),
        None if r.resumed_from > 0 => eprintln!(
            "fetched {name} ({}, {} bytes, resumed at {})",
            r.kind.unwrap_or("?"),
            r.bytes,
            r.resumed_from
        ),
        None => eprintln!("fetched {name} ({}, {} bytes)", r.kind.unwrap_or("?"), r.bytes),
    }
}

/// A byte bar for the current download, drawn only on a terminal.
#[derive(Default)]
struct Bars {
    bar: RefCell<Option<ProgressBar>>,
}

impl update::Progress for Bars {
    fn feed_done(&self, report: &FeedReport) {
        print_feed(report);
    }
    fn download_start(&self, ep: &EpisodeRow, kind: MediaKind) {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:40!} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        let what = if kind == MediaKind::Transcript { " (transcript)" } else { "" };
        bar.set_message(format!("{}{what}", ep.title));
        *self.bar.borrow_mut() = Some(bar);
    }
    fn download_bytes(&self, done: u64, total: Option<u64>) {
        if let Some(bar) = self.bar.borrow().as_ref() {
            if let Some(t) = total {
                bar.set_length(t);
            }
            bar.set_position(done);
        }
    }
    fn download_done(&self, report: &DownloadReport) {
        if let Some(bar) = self.bar.borrow_mut().take() {
            bar.finish_and_clear();
        }
        print_download(report);
    }
}
