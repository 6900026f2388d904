//! The files of `podbrief batch`: which are done (and where their transcript is), which failed
//! and why. An item is written once, when its work is complete, so a killed batch leaves no
//! half-done item and `--resume` skips exactly the finished ones.

use rusqlite::params;

use super::{now, Library, LibraryError};

#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    /// The file's SHA-256 (its identity on every machine), or `path:PATH` if it was unreadable.
    pub key: String,
    pub path: String,
    pub title: String,
    /// The error of a failed item; `None` when done.
    pub error: Option<String>,
    /// The saved transcript, relative to the podbrief home.
    pub transcript: Option<String>,
    pub asr_model: Option<String>,
    pub duration: f64,
    /// The transcript came from the cache rather than from speech recognition.
    pub reused: bool,
    pub asr_seconds: f64,
    pub distill_seconds: f64,
    /// How many times the item was completed (done or failed) by a batch.
    pub runs: u32,
}

/// The shard (of `n`) an episode belongs to, from its SHA-256: stable across machines, runs
/// and file names, and uniform because the digest is.
pub fn shard_of(sha256: &str, n: u32) -> u32 {
    let head = sha256.get(..16).and_then(|h| u64::from_str_radix(h, 16).ok()).unwrap_or(0);
    (head % u64::from(n.max(1))) as u32
}

impl Library {
    /// Records a finished (done or failed) item; a later run of the same file replaces it.
    pub fn record_batch_item(&self, item: &BatchItem) -> Result<(), LibraryError> {
        let state = if item.error.is_some() { "failed" } else { "done" };
        self.conn.execute(
            "INSERT INTO batch_items (key, path, title, state, error, transcript, asr_model,
             duration, reused, asr_seconds, distill_seconds, runs, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 1, ?12)
             ON CONFLICT(key) DO UPDATE SET path = ?2, title = ?3, state = ?4, error = ?5,
             transcript = ?6, asr_model = ?7, duration = ?8, reused = ?9, asr_seconds = ?10,
             distill_seconds = ?11, runs = runs + 1, updated_at = ?12",
            params![
                item.key,
                item.path,
                item.title,
                state,
                item.error,
                item.transcript,
                item.asr_model,
                item.duration,
                item.reused,
                item.asr_seconds,
                item.distill_seconds,
                now()
            ],
        )?;
        Ok(())
    }

    /// Every recorded item, done and failed, by key (so in a stable order on every machine).
    pub fn batch_items(&self) -> Result<Vec<BatchItem>, LibraryError> {
        let mut stmt = self.conn.prepare(
            "SELECT key, path, title, error, transcript, asr_model, duration, reused,
             asr_seconds, distill_seconds, runs FROM batch_items ORDER BY key",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(BatchItem {
                key: r.get(0)?,
                path: r.get(1)?,
                title: r.get(2)?,
                error: r.get(3)?,
                transcript: r.get(4)?,
                asr_model: r.get(5)?,
                duration: r.get::<_, Option<f64>>(6)?.unwrap_or(0.0),
                reused: r.get(7)?,
                asr_seconds: r.get::<_, Option<f64>>(8)?.unwrap_or(0.0),
                distill_seconds: r.get::<_, Option<f64>>(9)?.unwrap_or(0.0),
                runs: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_cover_everything() {
        assert_eq!(shard_of("00000000000000ff", 3), 255 % 3);
        let keys: Vec<String> =
            (0..300u32).map(|i| crate::store::sha256_bytes(&i.to_le_bytes())).collect();
        let mut counts = [0; 3];
        for k in &keys {
            counts[shard_of(k, 3) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 70), "{counts:?}");
        assert_eq!(shard_of("not hex", 3), 0);
    }

    #[test]
    fn items_are_replaced_and_runs_counted() {
        let dir = tempfile::tempdir().unwrap();
        let lib = Library::open(&dir.path().join("l.db")).unwrap();
        let mut item = BatchItem {
            key: "abc".into(),
            path: "/x.mp3".into(),
            title: "X".into(),
            error: Some("bad".into()),
            transcript: None,
            asr_model: None,
            duration: 0.0,
            reused: false,
            asr_seconds: 0.0,
            distill_seconds: 0.0,
            runs: 0,
        };
        lib.record_batch_item(&item).unwrap();
        item.error = None;
        item.transcript = Some("batch/abc.json".into());
        lib.record_batch_item(&item).unwrap();
        let items = lib.batch_items().unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!((items[0].error.as_deref(), items[0].runs), (None, 2));
        assert_eq!(items[0].transcript.as_deref(), Some("batch/abc.json"));
    }
}
