//! Subscribed feeds → episodes on disk: fetch each feed (conditionally), record its episodes in
//! the library, then download what is new ([`fetch_episodes`], in `download.rs`). A failing feed
//! or episode is recorded with its reason and the rest go on; an episode's file is recorded only
//! once it is complete and in place.

use std::path::PathBuf;

use serde::Serialize;

use super::fetch::{Client, FeedFetch, FetchError};
use super::{Feed, FeedEpisode, TranscriptLink};
use crate::store::library::LibraryError;
use crate::store::library::{EpisodeRow, EpisodeState, FeedRow, Library, MediaKind, NewEpisode};

#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url}: {source}")]
    Parse { url: String, source: super::FeedError },
    #[error(transparent)]
    Library(#[from] LibraryError),
}

/// Settings of an update that come from the config file.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where downloaded episodes go: `DIR/FEED_ID/EPISODE_ID.EXT`.
    pub media_dir: PathBuf,
    /// Episodes fetched from a newly added feed (its latest ones).
    pub new_feed_episodes: usize,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedReport {
    pub url: String,
    pub title: Option<String>,
    /// `not_modified`, `fetched` or `failed`.
    pub status: &'static str,
    pub new_episodes: usize,
    /// New episodes recorded but not fetched (older back-catalogue of a newly added feed).
    pub skipped: usize,
    pub warnings: Vec<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DownloadReport {
    pub episode_id: i64,
    pub show: Option<String>,
    pub title: String,
    /// `audio` or `transcript`.
    pub kind: Option<&'static str>,
    pub path: Option<PathBuf>,
    pub bytes: u64,
    /// Bytes an earlier, interrupted run had already fetched.
    pub resumed_from: u64,
    /// The publisher's chapters, fetched beside the file (`NAME.chapters.json`).
    pub chapters: Option<PathBuf>,
    pub error: Option<String>,
}

pub use super::download::fetch_episodes;

/// Progress callbacks for terminals; every method has a do-nothing default.
pub trait Progress {
    fn feed_done(&self, _report: &FeedReport) {}
    fn download_start(&self, _ep: &EpisodeRow, _kind: MediaKind) {}
    fn download_bytes(&self, _done: u64, _total: Option<u64>) {}
    fn download_done(&self, _report: &DownloadReport) {}
}

/// Subscribes to `url` after fetching and parsing it, so a typo or a web page is refused before
/// it is stored. Its latest `new_feed_episodes` episodes are marked for download.
pub fn add(
    library: &Library,
    client: &Client,
    url: &str,
    settings: &Settings,
) -> Result<FeedReport, UpdateError> {
    let (bytes, etag, last_modified) = match client.get_feed(url, None, None)? {
        FeedFetch::Fetched { bytes, etag, last_modified } => (bytes, etag, last_modified),
        FeedFetch::NotModified => (Vec::new(), None, None),
    };
    let feed = parse(client, url, &bytes)?;
    let id = library.add_feed(url, Some(feed.title.as_str()).filter(|t| !t.is_empty()))?;
    let report = apply(library, id, url, &feed, Some(settings.new_feed_episodes))?;
    library.set_feed_cache(id, etag.as_deref(), last_modified.as_deref())?;
    library.set_feed_checked(id, None, None)?;
    Ok(report)
}

/// Fetches every subscribed feed; one failing does not stop the others.
pub fn refresh_all(
    library: &Library,
    client: &Client,
    progress: &dyn Progress,
) -> Result<Vec<FeedReport>, LibraryError> {
    let mut reports = Vec::new();
    for feed in library.feeds()? {
        let report = match refresh(library, client, &feed) {
            Ok(r) => r,
            Err(UpdateError::Library(e)) => return Err(e),
            Err(e) => {
                let message = e.to_string();
                library.set_feed_checked(feed.id, None, Some(&message))?;
                FeedReport {
                    url: feed.url.clone(),
                    title: feed.title.clone(),
                    status: "failed",
                    new_episodes: 0,
                    skipped: 0,
                    warnings: Vec::new(),
                    error: Some(message),
                }
            }
        };
        progress.feed_done(&report);
        reports.push(report);
    }
    Ok(reports)
}

fn refresh(library: &Library, client: &Client, row: &FeedRow) -> Result<FeedReport, UpdateError> {
    let fetched = client.get_feed(&row.url, row.etag.as_deref(), row.last_modified.as_deref())?;
    let FeedFetch::Fetched { bytes, etag, last_modified } = fetched else {
        library.set_feed_checked(row.id, None, None)?;
        return Ok(FeedReport {
            url: row.url.clone(),
            title: row.title.clone(),
            status: "not_modified",
            new_episodes: 0,
            skipped: 0,
            warnings: Vec::new(),
            error: None,
        });
    };
    let feed = parse(client, &row.url, &bytes)?;
    let report = apply(library, row.id, &row.url, &feed, None)?;
    // Validators are stored only after the episodes are, so a failure here refetches in full.
    library.set_feed_cache(row.id, etag.as_deref(), last_modified.as_deref())?;
    let title = Some(feed.title.as_str()).filter(|t| !t.is_empty());
    library.set_feed_checked(row.id, title, None)?;
    Ok(report)
}

/// A fetched feed, parsed under the same size limit the fetch enforced (the configured one, which
/// may be above `MAX_FEED_BYTES`).
fn parse(client: &Client, url: &str, bytes: &[u8]) -> Result<Feed, UpdateError> {
    let limit = usize::try_from(client.limits().max_feed_bytes).unwrap_or(usize::MAX);
    super::parse_with_limit(bytes, limit)
        .map_err(|source| UpdateError::Parse { url: url.to_string(), source })
}

/// Records a parsed feed's episodes. With `keep_latest` (a newly added feed) only that many of
/// the newest are left to download; the rest are recorded as skipped.
fn apply(
    library: &Library,
    feed_id: i64,
    url: &str,
    feed: &Feed,
    keep_latest: Option<usize>,
) -> Result<FeedReport, LibraryError> {
    let show = Some(feed.title.clone()).filter(|t| !t.is_empty());
    let mut order: Vec<&FeedEpisode> = feed.episodes.iter().collect();
    // Newest first; undated items keep their feed order, which is newest first by convention.
    order.sort_by_key(|e| std::cmp::Reverse(e.published.unwrap_or(i64::MIN)));
    let (mut new_episodes, mut skipped) = (0, 0);
    for (i, ep) in order.into_iter().enumerate() {
        let transcript = choose_transcript(&ep.transcripts);
        let row = NewEpisode {
            guid: ep.guid.clone(),
            title: ep.title.clone(),
            show: show.clone(),
            published: ep.published,
            enclosure_url: ep.enclosure.as_ref().map(|e| e.url.clone()),
            transcript_url: transcript.map(|t| t.url.clone()),
            transcript_mime: transcript.map(|t| t.mime.clone()),
            duration: ep.duration,
            chapters_url: ep.chapters.clone(),
        };
        let (id, inserted) = library.upsert_episode(feed_id, &row)?;
        if !inserted {
            continue;
        }
        if keep_latest.is_some_and(|k| i >= k) {
            library.set_episode_state(id, EpisodeState::Skipped, None)?;
            skipped += 1;
        } else {
            new_episodes += 1;
        }
    }
    Ok(FeedReport {
        url: url.to_string(),
        title: show,
        status: "fetched",
        new_episodes,
        skipped,
        warnings: feed.warnings.clone(),
        error: None,
    })
}

/// The publisher transcript to use: timed formats first (they give the brief its timestamps),
/// plain text last; HTML is not used.
fn choose_transcript(links: &[TranscriptLink]) -> Option<&TranscriptLink> {
    let rank = |t: &TranscriptLink| match transcript_extension(&t.mime) {
        Some("vtt") => Some(0),
        Some("srt") => Some(1),
        Some("json") => Some(2),
        Some("txt") => Some(3),
        _ => None,
    };
    links.iter().filter_map(|t| Some((rank(t)?, t))).min_by_key(|(r, _)| *r).map(|(_, t)| t)
}

pub(super) fn transcript_extension(mime: &str) -> Option<&'static str> {
    let m = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    Some(match m.as_str() {
        "text/vtt" => "vtt",
        "application/x-subrip" | "application/srt" | "text/srt" => "srt",
        "application/json" => "json",
        "text/plain" => "txt",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(mime: &str) -> TranscriptLink {
        TranscriptLink { url: format!("https://x/{mime}"), mime: mime.into(), language: None }
    }

    #[test]
    fn timed_transcripts_are_preferred_and_html_is_not_used() {
        let links = vec![link("text/html"), link("text/plain"), link("application/x-subrip")];
        assert_eq!(choose_transcript(&links).unwrap().mime, "application/x-subrip");
        let links = vec![link("application/json"), link("text/vtt; charset=utf-8")];
        assert_eq!(choose_transcript(&links).unwrap().mime, "text/vtt; charset=utf-8");
        assert!(choose_transcript(&[link("text/html")]).is_none());
    }
}
