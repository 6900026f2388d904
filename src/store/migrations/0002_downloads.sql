-- Schema 2: where each episode's downloaded file is, how often fetching it failed, and when a
-- feed was last checked. Never edit once released.
ALTER TABLE episodes ADD COLUMN media_path TEXT;
ALTER TABLE episodes ADD COLUMN media_kind TEXT;
ALTER TABLE episodes ADD COLUMN transcript_url TEXT;
ALTER TABLE episodes ADD COLUMN transcript_mime TEXT;
ALTER TABLE episodes ADD COLUMN duration REAL;
ALTER TABLE episodes ADD COLUMN first_seen INTEGER;
ALTER TABLE episodes ADD COLUMN fetched_at INTEGER;
ALTER TABLE episodes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX episodes_fetched ON episodes(fetched_at);
ALTER TABLE feeds ADD COLUMN checked_at INTEGER;
ALTER TABLE feeds ADD COLUMN last_error TEXT;
ALTER TABLE insights ADD COLUMN created_at INTEGER;
