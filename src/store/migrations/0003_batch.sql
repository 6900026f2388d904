-- Schema 3: the files of `podbrief batch`, so an interrupted batch resumes where it stopped and a
-- shard's results can be merged with the others'. Never edit once released.
CREATE TABLE batch_items (
    key TEXT PRIMARY KEY,          -- the file's SHA-256, or "path:" + its path when unreadable
    path TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,           -- done | failed
    error TEXT,
    transcript TEXT,               -- the saved transcript, relative to the podbrief home
    asr_model TEXT,                -- NULL for transcript inputs
    duration REAL,
    reused INTEGER NOT NULL DEFAULT 0,
    asr_seconds REAL,
    distill_seconds REAL,
    runs INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
