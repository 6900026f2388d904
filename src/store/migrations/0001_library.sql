-- Schema 1 of the library database (see MIGRATIONS in library.rs). Never edit once released.
CREATE TABLE feeds (
    id INTEGER PRIMARY KEY,
    url TEXT UNIQUE NOT NULL,
    title TEXT,
    etag TEXT,
    last_modified TEXT,
    added_at INTEGER NOT NULL
);
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    feed_id INTEGER REFERENCES feeds(id) ON DELETE CASCADE,
    guid TEXT NOT NULL,
    title TEXT NOT NULL,
    show TEXT,
    published INTEGER,
    enclosure_url TEXT,
    audio_sha256 TEXT,
    state TEXT NOT NULL DEFAULT 'new',
    error TEXT,
    UNIQUE(feed_id, guid)
);
CREATE INDEX episodes_state ON episodes(state);
CREATE TABLE insights (
    id INTEGER PRIMARY KEY,
    episode_id INTEGER REFERENCES episodes(id) ON DELETE CASCADE,
    headline TEXT NOT NULL,
    text TEXT NOT NULL,
    quote TEXT NOT NULL,
    start REAL NOT NULL,
    end REAL NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX insights_episode ON insights(episode_id);
CREATE TABLE briefs (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    format TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE brief_insights (
    brief_id INTEGER REFERENCES briefs(id) ON DELETE CASCADE,
    headline TEXT NOT NULL,
    embedding BLOB NOT NULL
);
CREATE INDEX brief_insights_brief ON brief_insights(brief_id);
