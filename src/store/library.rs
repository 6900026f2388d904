//! The library database: subscribed feeds, their episodes and where each one is in the pipeline,
//! and the insights of briefs already sent (so a later brief can leave out what was said before).
//!
//! SQLite rather than JSON files because several podbrief processes (a cron job and a manual run)
//! may touch it at once: WAL lets readers and a writer work together, and the busy timeout makes a
//! second writer wait instead of failing with "database is locked".

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use thiserror::Error;

#[path = "library_batch.rs"]
mod batch;
#[path = "library_encoding.rs"]
mod encoding;
#[path = "library_episodes.rs"]
mod episodes;

pub use batch::{shard_of, BatchItem};
pub use encoding::{from_blob, to_blob, EpisodeState};
pub use episodes::{EpisodeRow, MediaKind, NewEpisode, StoredInsight};

/// Schema scripts, applied in order; `PRAGMA user_version` is how many have been applied.
/// Append only: a released script never changes, since databases in the field already ran it.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_library.sql"),
    include_str!("migrations/0002_downloads.sql"),
    include_str!("migrations/0003_batch.sql"),
    include_str!("migrations/0004_chapters.sql"),
];

/// Long enough to outlast another process's write transaction (they are all short).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Error)]
pub enum LibraryError {
    #[error("cannot create the folder of the library database {path}: {source}")]
    CreateDir { path: PathBuf, source: std::io::Error },
    #[error("cannot open the library database {path}: {source}")]
    Open { path: PathBuf, source: rusqlite::Error },
    #[error(
        "the library database {path} was written by a newer podbrief (schema {found}, this build \
         knows {known}); upgrade podbrief to use it"
    )]
    TooNew { path: PathBuf, found: i64, known: usize },
    #[error("cannot upgrade the library database {path} to schema {version}: {source}")]
    Migrate { path: PathBuf, version: usize, source: rusqlite::Error },
    #[error("library database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error(
        "corrupt embedding in the library database: {len} bytes is not a whole number of f32s"
    )]
    CorruptBlob { len: usize },
    #[error("unknown episode state {0:?} in the library database")]
    UnknownState(String),
    #[error("no feed with id {0} in the library")]
    NoFeed(i64),
    #[error("no episode with id {0} in the library")]
    NoEpisode(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedRow {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    /// HTTP cache validators from the last fetch, sent back so an unchanged feed costs a 304.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// Unix seconds.
    pub added_at: i64,
    /// When `update` last fetched it (Unix seconds), and what went wrong that time.
    pub checked_at: Option<i64>,
    pub last_error: Option<String>,
}

pub struct Library {
    conn: Connection,
}

impl Library {
    /// Opens (creating if needed) and upgrades the database at `path`.
    pub fn open(path: &Path) -> Result<Library, LibraryError> {
        Library::open_with(path, MIGRATIONS)
    }

    /// `open` with an explicit migration list, so tests can build databases of older schemas.
    fn open_with(path: &Path, migrations: &[&str]) -> Result<Library, LibraryError> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| LibraryError::CreateDir { path: dir.to_path_buf(), source })?;
        }
        let open_err = |source| LibraryError::Open { path: path.to_path_buf(), source };
        let conn = Connection::open(path).map_err(open_err)?;
        // The busy timeout first, so that switching to WAL waits for another process too.
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0))
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        let library = Library { conn };
        library.migrate(path, migrations)?;
        Ok(library)
    }

    /// Applies the missing migrations, each in its own IMMEDIATE transaction that re-reads the
    /// version, so two processes opening an old database at once cannot both apply a script.
    fn migrate(&self, path: &Path, migrations: &[&str]) -> Result<(), LibraryError> {
        // Fast path without the write lock: an up-to-date database is the usual case.
        let found: i64 = self.conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if usize::try_from(found).is_ok_and(|v| v == migrations.len()) {
            return Ok(());
        }
        loop {
            let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
                .map_err(|source| LibraryError::Open { path: path.to_path_buf(), source })?;
            let found: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let applied = usize::try_from(found).unwrap_or(usize::MAX);
            if applied > migrations.len() {
                return Err(LibraryError::TooNew {
                    path: path.to_path_buf(),
                    found,
                    known: migrations.len(),
                });
            }
            let Some(script) = migrations.get(applied) else {
                return Ok(());
            };
            let version = applied + 1;
            let err = |source| LibraryError::Migrate { path: path.to_path_buf(), version, source };
            tx.execute_batch(script).map_err(err)?;
            // PRAGMA takes no parameters; `version` is our own integer.
            tx.execute_batch(&format!("PRAGMA user_version = {version}")).map_err(err)?;
            tx.commit().map_err(err)?;
        }
    }

    /// A write transaction that takes the write lock up front: a deferred one that reads first
    /// could fail with SQLITE_BUSY without waiting when another process writes in between.
    fn write_tx(&self) -> Result<Transaction<'_>, LibraryError> {
        Ok(Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?)
    }

    /// Subscribes to `url`; subscribing twice keeps the first row and returns its id.
    pub fn add_feed(&self, url: &str, title: Option<&str>) -> Result<i64, LibraryError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO feeds (url, title, added_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(url) DO NOTHING",
            params![url, title, now()],
        )?;
        let id = tx.query_row("SELECT id FROM feeds WHERE url = ?1", [url], |r| r.get(0))?;
        tx.commit()?;
        Ok(id)
    }

    /// All feeds, oldest subscription first.
    pub fn feeds(&self) -> Result<Vec<FeedRow>, LibraryError> {
        let mut stmt =
            self.conn.prepare(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id"))?;
        let rows = stmt.query_map([], read_feed)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The feed subscribed as `url`, or with id `url` when it is a number (as `feeds list`
    /// shows them).
    pub fn find_feed(&self, url_or_id: &str) -> Result<Option<FeedRow>, LibraryError> {
        let id: i64 = url_or_id.trim().parse().unwrap_or(-1);
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ?1 OR id = ?2"),
                params![url_or_id, id],
                read_feed,
            )
            .optional()?)
    }

    /// Records the outcome of fetching a feed: its title when it was read, and the error if any
    /// (`None` clears the last one).
    pub fn set_feed_checked(
        &self,
        id: i64,
        title: Option<&str>,
        error: Option<&str>,
    ) -> Result<(), LibraryError> {
        let n = self.conn.execute(
            "UPDATE feeds SET title = COALESCE(?2, title), last_error = ?3, checked_at = ?4
             WHERE id = ?1",
            params![id, title, error, now()],
        )?;
        if n == 0 {
            return Err(LibraryError::NoFeed(id));
        }
        Ok(())
    }

    /// Unsubscribes; the feed's episodes (and their insights) go with it. False if not subscribed.
    pub fn remove_feed(&self, id: i64) -> Result<bool, LibraryError> {
        Ok(self.conn.execute("DELETE FROM feeds WHERE id = ?1", [id])? > 0)
    }

    pub fn set_feed_cache(
        &self,
        id: i64,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<(), LibraryError> {
        let n = self.conn.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3 WHERE id = ?1",
            params![id, etag, last_modified],
        )?;
        if n == 0 {
            return Err(LibraryError::NoFeed(id));
        }
        Ok(())
    }

    /// Stores a sent brief with its insights' headlines and embeddings, all or nothing, so that a
    /// brief is never remembered without the insights that keep the next one from repeating it.
    pub fn record_brief<S: AsRef<str>, E: AsRef<[f32]>>(
        &self,
        format: &str,
        body: &str,
        insights: &[(S, E)],
    ) -> Result<i64, LibraryError> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO briefs (created_at, format, body) VALUES (?1, ?2, ?3)",
            params![now(), format, body],
        )?;
        let brief_id = tx.last_insert_rowid();
        {
            let mut stmt = tx.prepare(
                "INSERT INTO brief_insights (brief_id, headline, embedding) VALUES (?1, ?2, ?3)",
            )?;
            for (headline, embedding) in insights {
                stmt.execute(params![brief_id, headline.as_ref(), to_blob(embedding.as_ref())])?;
            }
        }
        tx.commit()?;
        Ok(brief_id)
    }

    /// Headlines and embeddings of every insight sent so far, oldest first.
    pub fn sent_insights(&self) -> Result<Vec<(String, Vec<f32>)>, LibraryError> {
        let mut stmt =
            self.conn.prepare("SELECT headline, embedding FROM brief_insights ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
        rows.map(|row| {
            let (headline, blob) = row?;
            Ok((headline, from_blob(&blob)?))
        })
        .collect()
    }
}

const FEED_COLUMNS: &str = "id, url, title, etag, last_modified, added_at, checked_at, last_error";

fn read_feed(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        id: r.get(0)?,
        url: r.get(1)?,
        title: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        added_at: r.get(5)?,
        checked_at: r.get(6)?,
        last_error: r.get(7)?,
    })
}

/// Unix seconds, the clock of every time the library stores; a clock before 1970 is recorded as
/// 0 rather than failing a write.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
#[path = "library_tests.rs"]
mod tests;
