//! Episodes in the library: what a feed said about them, where their downloaded file is, and how
//! far the pipeline got. A file path is recorded only after the file is complete and in place,
//! so a run killed mid-download leaves the episode `new` and the next run resumes it.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};

use super::{now, EpisodeState, Library, LibraryError};

/// An episode as a feed describes it, before podbrief has done anything with it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewEpisode {
    pub guid: String,
    pub title: String,
    pub show: Option<String>,
    /// Unix seconds.
    pub published: Option<i64>,
    pub enclosure_url: Option<String>,
    /// The publisher's transcript, fetched instead of the audio when present.
    pub transcript_url: Option<String>,
    pub transcript_mime: Option<String>,
    /// Seconds, as the feed states it.
    pub duration: Option<f64>,
    /// The publisher's chapters (`podcast:chapters`), fetched beside the media file.
    pub chapters_url: Option<String>,
}

/// What an episode's local file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    /// A publisher transcript (SRT, VTT, JSON or text): no speech recognition needed.
    Transcript,
}

impl MediaKind {
    fn as_str(self) -> &'static str {
        match self {
            MediaKind::Audio => "audio",
            MediaKind::Transcript => "transcript",
        }
    }

    fn parse(s: &str) -> Option<MediaKind> {
        match s {
            "audio" => Some(MediaKind::Audio),
            "transcript" => Some(MediaKind::Transcript),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeRow {
    pub id: i64,
    /// `None` is allowed by the schema (an episode not from a subscribed feed).
    pub feed_id: Option<i64>,
    pub guid: String,
    pub title: String,
    pub show: Option<String>,
    pub published: Option<i64>,
    pub enclosure_url: Option<String>,
    pub transcript_url: Option<String>,
    pub transcript_mime: Option<String>,
    pub duration: Option<f64>,
    pub chapters_url: Option<String>,
    pub audio_sha256: Option<String>,
    pub state: EpisodeState,
    /// Why the episode failed, kept so `Failed` is diagnosable later.
    pub error: Option<String>,
    /// The complete downloaded file, once there is one.
    pub media: Option<(PathBuf, MediaKind)>,
    /// Unix seconds: first seen in its feed, and when its file was downloaded.
    pub first_seen: Option<i64>,
    pub fetched_at: Option<i64>,
    /// Failed download attempts so far.
    pub attempts: u32,
}

impl Library {
    /// Records an episode seen in a feed. A GUID already known is not inserted again (its state is
    /// kept), but its title and links are refreshed, since publishers fix both after release.
    pub fn upsert_episode(
        &self,
        feed_id: i64,
        ep: &NewEpisode,
    ) -> Result<(i64, bool), LibraryError> {
        let tx = self.write_tx()?;
        let existing: Option<i64> = tx
            .query_row(
                "SELECT id FROM episodes WHERE feed_id = ?1 AND guid = ?2",
                params![feed_id, ep.guid],
                |r| r.get(0),
            )
            .optional()?;
        let result = match existing {
            Some(id) => {
                tx.execute(
                    "UPDATE episodes SET title = ?2, enclosure_url = ?3, transcript_url = ?4,
                     transcript_mime = ?5, duration = COALESCE(?6, duration), chapters_url = ?7
                     WHERE id = ?1",
                    params![
                        id,
                        ep.title,
                        ep.enclosure_url,
                        ep.transcript_url,
                        ep.transcript_mime,
                        ep.duration,
                        ep.chapters_url
                    ],
                )?;
                (id, false)
            }
            None => {
                tx.execute(
                    "INSERT INTO episodes (feed_id, guid, title, show, published, enclosure_url,
                     transcript_url, transcript_mime, duration, first_seen, chapters_url)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        feed_id,
                        ep.guid,
                        ep.title,
                        ep.show,
                        ep.published,
                        ep.enclosure_url,
                        ep.transcript_url,
                        ep.transcript_mime,
                        ep.duration,
                        now(),
                        ep.chapters_url
                    ],
                )?;
                (tx.last_insert_rowid(), true)
            }
        };
        tx.commit()?;
        Ok(result)
    }

    /// Episodes in `state`, in the order they were first seen.
    pub fn episodes_in_state(&self, state: EpisodeState) -> Result<Vec<EpisodeRow>, LibraryError> {
        self.select("WHERE state = ?1 ORDER BY id", params![state.as_str()])
    }

    /// One feed's episodes, in the order they were first seen.
    pub fn feed_episodes(&self, feed_id: i64) -> Result<Vec<EpisodeRow>, LibraryError> {
        self.select("WHERE feed_id = ?1 ORDER BY id", params![feed_id])
    }

    /// Episodes whose file is still to be fetched: new ones, and failed ones with attempts left.
    pub fn episodes_to_fetch(&self, max_attempts: u32) -> Result<Vec<EpisodeRow>, LibraryError> {
        self.select(
            "WHERE media_path IS NULL AND (state = 'new' OR (state = 'failed' AND attempts < ?1))
             ORDER BY id",
            params![max_attempts],
        )
    }

    /// Episodes with a file, downloaded at or after `since` (Unix seconds), oldest first.
    pub fn fetched_since(&self, since: i64) -> Result<Vec<EpisodeRow>, LibraryError> {
        self.select(
            "WHERE media_path IS NOT NULL AND fetched_at >= ?1 ORDER BY fetched_at, id",
            params![since],
        )
    }

    /// One episode by id, whatever its state.
    pub fn episode(&self, id: i64) -> Result<Option<EpisodeRow>, LibraryError> {
        Ok(self.select("WHERE id = ?1", params![id])?.pop())
    }

    /// Moves an episode along; `error` is stored as given, so leaving `Failed` clears it.
    pub fn set_episode_state(
        &self,
        id: i64,
        state: EpisodeState,
        error: Option<&str>,
    ) -> Result<(), LibraryError> {
        self.update_episode(
            id,
            "UPDATE episodes SET state = ?2, error = ?3 WHERE id = ?1",
            params![id, state.as_str(), error],
        )
    }

    /// Records a complete download, in place at `path`: the episode becomes `downloaded`.
    pub fn set_fetched(
        &self,
        id: i64,
        path: &Path,
        kind: MediaKind,
        sha256: &str,
    ) -> Result<(), LibraryError> {
        self.update_episode(
            id,
            "UPDATE episodes SET state = 'downloaded', error = NULL, media_path = ?2,
             media_kind = ?3, audio_sha256 = ?4, fetched_at = ?5 WHERE id = ?1",
            params![id, path.to_string_lossy(), kind.as_str(), sha256, now()],
        )
    }

    /// A failed fetch: the episode is `failed` with its reason, and one attempt is used up.
    pub fn record_failure(&self, id: i64, error: &str) -> Result<(), LibraryError> {
        self.update_episode(
            id,
            "UPDATE episodes SET state = 'failed', error = ?2, attempts = attempts + 1
             WHERE id = ?1",
            params![id, error],
        )
    }

    fn update_episode(
        &self,
        id: i64,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<(), LibraryError> {
        if self.conn.execute(sql, params)? == 0 {
            return Err(LibraryError::NoEpisode(id));
        }
        Ok(())
    }

    fn select(
        &self,
        clause: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<EpisodeRow>, LibraryError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {EPISODE_COLUMNS} FROM episodes {clause}"))?;
        let rows = stmt.query_map(params, read_episode)?;
        rows.map(|row| row?.parse()).collect()
    }
}

const EPISODE_COLUMNS: &str = "id, feed_id, guid, title, show, published, enclosure_url, \
                               audio_sha256, state, error, transcript_url, transcript_mime, \
                               duration, media_path, media_kind, first_seen, fetched_at, attempts, \
                               chapters_url";

/// A row with its state still text: rusqlite's row closures can only fail with its own error
/// type, so the state is parsed afterwards into a `LibraryError`.
struct RawEpisode(EpisodeRow, String);

impl RawEpisode {
    fn parse(self) -> Result<EpisodeRow, LibraryError> {
        let RawEpisode(mut row, state) = self;
        row.state = state.parse()?;
        Ok(row)
    }
}

fn read_episode(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEpisode> {
    let path: Option<String> = r.get(13)?;
    let kind: Option<String> = r.get(14)?;
    let media = path.zip(kind.as_deref().and_then(MediaKind::parse)).map(|(p, k)| (p.into(), k));
    Ok(RawEpisode(
        EpisodeRow {
            id: r.get(0)?,
            feed_id: r.get(1)?,
            guid: r.get(2)?,
            title: r.get(3)?,
            show: r.get(4)?,
            published: r.get(5)?,
            enclosure_url: r.get(6)?,
            audio_sha256: r.get(7)?,
            state: EpisodeState::New,
            error: r.get(9)?,
            transcript_url: r.get(10)?,
            transcript_mime: r.get(11)?,
            duration: r.get(12)?,
            media,
            first_seen: r.get(15)?,
            fetched_at: r.get(16)?,
            attempts: r.get(17)?,
            chapters_url: r.get(18)?,
        },
        r.get(8)?,
    ))
}

/// An insight found in an episode, as the library keeps it (for later briefs and merges).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredInsight {
    pub headline: String,
    pub text: String,
    pub quote: String,
    pub start: f64,
    pub end: f64,
    pub embedding: Vec<f32>,
}

impl Library {
    /// Replaces an episode's insights, all or nothing.
    pub fn save_insights(
        &self,
        episode_id: i64,
        insights: &[StoredInsight],
    ) -> Result<(), LibraryError> {
        let tx = self.write_tx()?;
        tx.execute("DELETE FROM insights WHERE episode_id = ?1", [episode_id])?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO insights (episode_id, headline, text, quote, start, end, embedding,
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for i in insights {
                stmt.execute(params![
                    episode_id,
                    i.headline,
                    i.text,
                    i.quote,
                    i.start,
                    i.end,
                    super::to_blob(&i.embedding),
                    now()
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
