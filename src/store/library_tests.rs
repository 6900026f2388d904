use super::*;

fn db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    // A nested path, so `open` must create the folder.
    let path = dir.path().join("home").join("library.sqlite3");
    (dir, path)
}

fn episode(guid: &str, title: &str) -> NewEpisode {
    NewEpisode {
        guid: guid.into(),
        title: title.into(),
        show: Some("Show".into()),
        published: Some(1_700_000_000),
        enclosure_url: Some(format!("https://example.com/{guid}.mp3")),
        ..NewEpisode::default()
    }
}

fn user_version(lib: &Library) -> i64 {
    lib.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn two_connections_write_without_locking_errors() {
    let (_dir, path) = db();
    let a = Library::open(&path).unwrap();
    let b = Library::open(&path).unwrap();
    let mode: String = a.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
    let fa = a.add_feed("https://a.example/feed", Some("A")).unwrap();
    let fb = b.add_feed("https://b.example/feed", None).unwrap();
    std::thread::scope(|s| {
        let path = &path;
        let handles: Vec<_> = (0..2)
            .map(|t| {
                s.spawn(move || {
                    // Each thread is its own connection, as a second process would be.
                    let lib = Library::open(path).unwrap();
                    let feed = if t == 0 { fa } else { fb };
                    for i in 0..50 {
                        lib.upsert_episode(feed, &episode(&format!("{t}-{i}"), "t")).unwrap();
                        lib.record_brief("md", "body", &[("h", vec![t as f32, i as f32])]).unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(a.episodes_in_state(EpisodeState::New).unwrap().len(), 100);
    assert_eq!(b.sent_insights().unwrap().len(), 100);
}

#[test]
fn feeds_add_list_remove() {
    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    let id = lib.add_feed("https://x.example/rss", Some("X")).unwrap();
    assert_eq!(lib.add_feed("https://x.example/rss", Some("other title")).unwrap(), id);
    let other = lib.add_feed("https://y.example/rss", None).unwrap();
    assert_ne!(other, id);

    let feeds = lib.feeds().unwrap();
    assert_eq!(feeds.len(), 2);
    assert_eq!(feeds[0].url, "https://x.example/rss");
    assert_eq!(feeds[0].title.as_deref(), Some("X"));
    assert!(feeds[0].added_at > 0);
    assert_eq!(feeds[0].etag, None);

    lib.set_feed_cache(id, Some("\"abc\""), Some("Wed, 21 Oct 2015 07:28:00 GMT")).unwrap();
    let feeds = lib.feeds().unwrap();
    assert_eq!(feeds[0].etag.as_deref(), Some("\"abc\""));
    assert_eq!(feeds[0].last_modified.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert!(matches!(lib.set_feed_cache(9999, None, None), Err(LibraryError::NoFeed(9999))));

    lib.upsert_episode(id, &episode("g1", "One")).unwrap();
    lib.upsert_episode(other, &episode("g1", "Same GUID, other feed")).unwrap();
    assert_eq!(lib.find_feed(&id.to_string()).unwrap().unwrap().url, "https://x.example/rss");
    let found = lib.find_feed("https://x.example/rss").unwrap().unwrap();
    assert_eq!(found.id, id);
    assert!(lib.find_feed("https://nope.example/").unwrap().is_none());
    lib.set_feed_checked(id, Some("X2"), Some("HTTP 500")).unwrap();
    let found = lib.find_feed("https://x.example/rss").unwrap().unwrap();
    assert_eq!(
        (found.title.as_deref(), found.last_error.as_deref()),
        (Some("X2"), Some("HTTP 500"))
    );
    assert!(found.checked_at.is_some());
    assert!(lib.remove_feed(id).unwrap());
    assert!(!lib.remove_feed(id).unwrap());
    let left = lib.episodes_in_state(EpisodeState::New).unwrap();
    assert_eq!(left.len(), 1, "the removed feed's episodes cascade away");
    assert_eq!(left[0].feed_id, Some(other));
    assert_eq!(lib.feeds().unwrap().len(), 1);
}

#[test]
fn upsert_and_states() {
    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    let feed = lib.add_feed("https://x.example/rss", None).unwrap();
    let (id, inserted) = lib.upsert_episode(feed, &episode("g1", "Old title")).unwrap();
    assert!(inserted);
    lib.set_episode_state(id, EpisodeState::Downloaded, None).unwrap();

    let mut renamed = episode("g1", "New title");
    renamed.enclosure_url = Some("https://cdn.example/g1.mp3".into());
    let (again, inserted) = lib.upsert_episode(feed, &renamed).unwrap();
    assert_eq!((again, inserted), (id, false));
    let rows = lib.episodes_in_state(EpisodeState::Downloaded).unwrap();
    assert_eq!(rows.len(), 1, "a known GUID keeps its state");
    assert_eq!(rows[0].title, "New title");
    assert_eq!(rows[0].enclosure_url.as_deref(), Some("https://cdn.example/g1.mp3"));
    assert_eq!(rows[0].guid, "g1");
    assert_eq!(rows[0].show.as_deref(), Some("Show"));
    assert_eq!(rows[0].published, Some(1_700_000_000));
    assert_eq!(lib.episode(id).unwrap().as_ref(), rows.first());

    for state in [
        EpisodeState::New,
        EpisodeState::Downloaded,
        EpisodeState::Transcribed,
        EpisodeState::Summarized,
    ] {
        lib.set_episode_state(id, state, None).unwrap();
        let rows = lib.episodes_in_state(state).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, state);
        assert_eq!(state.as_str().parse::<EpisodeState>().unwrap(), state);
    }

    lib.set_episode_state(id, EpisodeState::Failed, Some("HTTP 404")).unwrap();
    let failed = lib.episodes_in_state(EpisodeState::Failed).unwrap();
    assert_eq!(failed[0].error.as_deref(), Some("HTTP 404"));
    assert!(lib.episodes_in_state(EpisodeState::Summarized).unwrap().is_empty());
    lib.set_episode_state(id, EpisodeState::New, None).unwrap();
    assert_eq!(lib.episodes_in_state(EpisodeState::New).unwrap()[0].error, None);
    assert!(matches!(
        lib.set_episode_state(9999, EpisodeState::New, None),
        Err(LibraryError::NoEpisode(9999))
    ));
}

#[test]
fn unknown_state_text_is_an_error() {
    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    let feed = lib.add_feed("https://x.example/rss", None).unwrap();
    let (id, _) = lib.upsert_episode(feed, &episode("g1", "One")).unwrap();
    lib.conn.execute("UPDATE episodes SET state = 'archived' WHERE id = ?1", [id]).unwrap();
    let err = lib.episode(id).unwrap_err();
    assert!(err.to_string().contains("unknown episode state \"archived\""), "{err}");
    assert!(lib.episode(9999).unwrap().is_none());
    let err = "bogus".parse::<EpisodeState>().unwrap_err();
    assert!(err.to_string().contains("unknown episode state \"bogus\""), "{err}");
}

#[test]
fn briefs_round_trip_embeddings_exactly() {
    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    let first = vec![0.1f32, -2.5e-8, f32::MAX, f32::MIN_POSITIVE, -0.0];
    let second = vec![1.0f32 / 3.0; 384];
    let id = lib
        .record_brief(
            "markdown",
            "# Brief",
            &[("First", first.clone()), ("Second", second.clone())],
        )
        .unwrap();
    let id2 = lib.record_brief::<&str, Vec<f32>>("json", "{}", &[]).unwrap();
    assert_ne!(id, id2);
    let sent = lib.sent_insights().unwrap();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0, "First");
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&sent[0].1), bits(&first));
    assert_eq!(bits(&sent[1].1), bits(&second));
}

#[test]
fn corrupt_blob_is_an_error() {
    assert!(matches!(from_blob(&[0, 0, 128]), Err(LibraryError::CorruptBlob { len: 3 })));
    assert_eq!(from_blob(&to_blob(&[1.5, -2.0])).unwrap(), vec![1.5, -2.0]);
    assert!(from_blob(&[]).unwrap().is_empty());

    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    let brief = lib.record_brief("md", "b", &[("h", [1.0f32])]).unwrap();
    lib.conn
        .execute("UPDATE brief_insights SET embedding = x'0102' WHERE brief_id = ?1", [brief])
        .unwrap();
    let err = lib.sent_insights().unwrap_err();
    assert!(err.to_string().contains("2 bytes is not a whole number of f32s"), "{err}");
}

#[test]
fn schema_1_database_opens_and_upgrades() {
    let (_dir, path) = db();
    {
        let old = Library::open_with(&path, &MIGRATIONS[..1]).unwrap();
        assert_eq!(user_version(&old), 1);
        old.add_feed("https://x.example/rss", Some("X")).unwrap();
    }
    let lib = Library::open(&path).unwrap();
    assert_eq!(user_version(&lib), MIGRATIONS.len() as i64);
    assert_eq!(lib.feeds().unwrap()[0].title.as_deref(), Some("X"));
    drop(lib);

    // A later migration is applied on top of schema 1 and keeps the data.
    let mut later = MIGRATIONS.to_vec();
    later.push("ALTER TABLE feeds ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;");
    let lib = Library::open_with(&path, &later).unwrap();
    assert_eq!(user_version(&lib), later.len() as i64);
    let paused: i64 = lib
        .conn
        .query_row("SELECT paused FROM feeds WHERE url = 'https://x.example/rss'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(paused, 0);
    drop(lib);
    // Reopening is a no-op (the scripts are not re-run, which ALTER TABLE would reject).
    Library::open_with(&path, &later).unwrap();
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, path) = db();
    let lib = Library::open(&path).unwrap();
    lib.conn.execute_batch("PRAGMA user_version = 999").unwrap();
    drop(lib);
    let err = match Library::open(&path) {
        Err(e) => e,
        Ok(_) => panic!("a schema-999 database must be refused"),
    };
    let want =
        format!("written by a newer podbrief (schema 999, this build knows {})", MIGRATIONS.len());
    assert!(err.to_string().contains(&want), "{err}");
}
