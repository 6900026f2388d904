//! New episodes → files on disk: the publisher's transcript when it has a usable one (no speech
//! recognition needed), else the audio, and the publisher's chapters beside either. A failing
//! episode is recorded with its reason and the rest go on; a file is recorded only once it is
//! complete and in place (downloads resume from `.part` files).

use std::path::{Path, PathBuf};

use super::fetch::{Client, FetchError};
use super::update::{transcript_extension, DownloadReport, Progress, Settings, UpdateError};
use crate::store;
use crate::store::library::{EpisodeRow, Library, LibraryError, MediaKind};

/// Downloads every episode still to fetch: the publisher's transcript when there is a usable
/// one (no speech recognition needed), else the audio.
pub fn fetch_episodes(
    library: &Library,
    client: &Client,
    settings: &Settings,
    progress: &dyn Progress,
) -> Result<Vec<DownloadReport>, LibraryError> {
    let mut reports = Vec::new();
    for ep in library.episodes_to_fetch(settings.max_attempts)? {
        let report = match fetch_one(library, client, settings, &ep, progress) {
            Ok(r) => r,
            Err(e) => {
                let message = e.to_string();
                library.record_failure(ep.id, &message)?;
                report_of(&ep, None, None, 0, 0, Some(message))
            }
        };
        progress.download_done(&report);
        reports.push(report);
    }
    Ok(reports)
}

fn fetch_one(
    library: &Library,
    client: &Client,
    settings: &Settings,
    ep: &EpisodeRow,
    progress: &dyn Progress,
) -> Result<DownloadReport, UpdateError> {
    let dir = settings.media_dir.join(ep.feed_id.unwrap_or(0).to_string());
    if let (Some(url), Some(ext)) =
        (&ep.transcript_url, ep.transcript_mime.as_deref().and_then(transcript_extension))
    {
        let path = dir.join(format!("{}.{ext}", ep.id));
        progress.download_start(ep, MediaKind::Transcript);
        let got = client
            .download(url, &path, &mut |d, t| progress.download_bytes(d, t))
            .map_err(UpdateError::from)
            .and_then(|d| check_transcript(&path).map(|()| d));
        match got {
            Ok(d) => return finish(library, client, ep, &path, MediaKind::Transcript, d),
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                tracing::warn!(
                    "{}: publisher transcript unusable ({e}); fetching the audio",
                    ep.title
                );
            }
        }
    }
    let Some(url) = &ep.enclosure_url else {
        return Err(UpdateError::Fetch(FetchError::BadUrl {
            url: String::new(),
            reason: "the episode has neither audio nor a transcript".into(),
        }));
    };
    let path = dir.join(format!("{}.{}", ep.id, audio_extension(url)));
    progress.download_start(ep, MediaKind::Audio);
    let d = client.download(url, &path, &mut |d, t| progress.download_bytes(d, t))?;
    finish(library, client, ep, &path, MediaKind::Audio, d)
}

fn finish(
    library: &Library,
    client: &Client,
    ep: &EpisodeRow,
    path: &Path,
    kind: MediaKind,
    d: super::fetch::Downloaded,
) -> Result<DownloadReport, UpdateError> {
    let sha = store::sha256_file(path, &mut |_| {})
        .map_err(|source| FetchError::Io { path: path.to_path_buf(), source })?;
    library.set_fetched(ep.id, path, kind, &sha)?;
    let mut report = report_of(ep, Some(kind), Some(path), d.bytes, d.resumed_from, None);
    report.chapters =
        ep.chapters_url.as_deref().and_then(|url| fetch_chapters(client, ep, url, path));
    Ok(report)
}

/// The publisher's chapters (`podcast:chapters`) beside the episode's file, as
/// `NAME.chapters.json`, where `podbrief chapters` and the brief's outline look for them.
/// Chapters are a refinement: a failed or malformed download is logged and removed, and the
/// episode stands without them.
fn fetch_chapters(client: &Client, ep: &EpisodeRow, url: &str, media: &Path) -> Option<PathBuf> {
    let path = media.with_extension("chapters.json");
    let checked =
        client.download(url, &path, &mut |_, _| {}).map_err(|e| e.to_string()).and_then(|_| {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            match json.get("chapters") {
                Some(serde_json::Value::Array(_)) => Ok(()),
                _ => Err("not a Podcasting 2.0 chapters file (no \"chapters\" list)".to_string()),
            }
        });
    match checked {
        Ok(()) => Some(path),
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            tracing::warn!(
                "{}: publisher chapters unusable ({e}); the episode stands without",
                ep.title
            );
            None
        }
    }
}

fn check_transcript(path: &Path) -> Result<(), UpdateError> {
    crate::transcript::parse::read(path).map(|_| ()).map_err(|e| {
        UpdateError::Fetch(FetchError::BadUrl {
            url: path.display().to_string(),
            reason: e.to_string(),
        })
    })
}

fn report_of(
    ep: &EpisodeRow,
    kind: Option<MediaKind>,
    path: Option<&Path>,
    bytes: u64,
    resumed_from: u64,
    error: Option<String>,
) -> DownloadReport {
    DownloadReport {
        episode_id: ep.id,
        show: ep.show.clone(),
        title: ep.title.clone(),
        kind: kind.map(|k| match k {
            MediaKind::Audio => "audio",
            MediaKind::Transcript => "transcript",
        }),
        path: path.map(Path::to_path_buf),
        bytes,
        resumed_from,
        chapters: None,
        error,
    }
}

/// The audio file's extension from its URL (the decoder probes the content anyway, so a wrong
/// guess only affects the name).
fn audio_extension(url: &str) -> &'static str {
    let path = url::Url::parse(url).map(|u| u.path().to_ascii_lowercase()).unwrap_or_default();
    crate::audio::EXTENSIONS
        .iter()
        .copied()
        .find(|ext| path.ends_with(&format!(".{ext}")))
        .unwrap_or("audio")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_extension_from_url() {
        assert_eq!(audio_extension("https://cdn.example/ep1.MP3?token=1"), "mp3");
        assert_eq!(audio_extension("https://cdn.example/listen/12345"), "audio");
    }
}
