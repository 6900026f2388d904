//! Feeds end to end: the real binary against a real HTTP server on 127.0.0.1 (tests/common/httpd)
//! serving RSS/Atom documents, publisher transcripts and audio fixtures with ETags.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::feeds::*;
use common::httpd::Server;
use common::{fixture, stderr, stdout, Env};
use serde_json::Value;

#[test]
fn update_fetches_each_new_episode_once_with_conditional_gets() {
    let server = Server::start();
    let a1 = read(&fixture("summarize/show-a.mp3"));
    let a2 = read(&fixture("feeds/show-a-2.mp3"));
    server.put("/a1.mp3", a1.clone(), "audio/mpeg");
    server.put("/a2.mp3", a2.clone(), "audio/mpeg");
    let two = [("a1", "One", "/a1.mp3", None), ("a2", "Two", "/a2.mp3", None)];
    let with_urls = |items: &[(&str, &str, &str, Option<&str>)]| -> Vec<u8> {
        let owned: Vec<(String, String, String)> = items
            .iter()
            .map(|(g, t, e, _)| (g.to_string(), t.to_string(), server.url(e)))
            .collect();
        let refs: Vec<(&str, &str, &str, Option<&str>)> =
            owned.iter().map(|(g, t, e)| (g.as_str(), t.as_str(), e.as_str(), None)).collect();
        rss("Power Talk", &refs)
    };
    server.put("/a.xml", with_urls(&two), "application/rss+xml");
    let env = env_allowing_loopback();

    let out = run_ok(&env, &["feeds", "add", &server.url("/a.xml")]);
    assert!(stderr(&out).contains("Power Talk: 2 new episodes"), "{}", stderr(&out));
    let out = run_ok(&env, &["update", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["feeds"][0]["status"], "not_modified", "add already fetched the feed");
    assert_eq!(report["downloads"].as_array().unwrap().len(), 2);
    for d in report["downloads"].as_array().unwrap() {
        assert_eq!(d["error"], Value::Null);
        let path = PathBuf::from(d["path"].as_str().unwrap());
        let want = if d["title"] == "One" { &a1 } else { &a2 };
        assert_eq!(&read(&path), want, "downloaded bytes differ");
    }
    assert_eq!((gets(&server, "/a1.mp3"), gets(&server, "/a2.mp3")), (vec![200], vec![200]));

    // Nothing new: one conditional GET answered 304, no downloads.
    server.clear_hits();
    let out = run_ok(&env, &["update", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(report["downloads"].as_array().unwrap().is_empty());
    let hits = server.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!((hits[0].status, hits[0].if_none_match.is_some()), (304, true));

    // A new item: only it is fetched.
    server.put("/a3.mp3", a1.clone(), "audio/mpeg");
    let three = [two[0], two[1], ("a3", "Three", "/a3.mp3", None)];
    server.put("/a.xml", with_urls(&three), "application/rss+xml");
    server.clear_hits();
    let out = run_ok(&env, &["update"]);
    assert!(stderr(&out).contains("Power Talk: 1 new episodes"), "{}", stderr(&out));
    let paths: Vec<String> = server.hits().iter().map(|h| h.path.clone()).collect();
    assert_eq!(paths, ["/a.xml", "/a3.mp3"]);
    let feeds = feeds_json(&env);
    assert_eq!((feeds[0]["episodes"].as_u64(), feeds[0]["fetched"].as_u64()), (Some(3), Some(3)));

    // OPML round trip: export, remove, import.
    let opml = env.home.path().join("subs.opml");
    run_ok(&env, &["feeds", "export", opml.to_str().unwrap()]);
    run_ok(&env, &["feeds", "remove", &server.url("/a.xml")]);
    assert!(feeds_json(&env).is_empty());
    run_ok(&env, &["feeds", "import", opml.to_str().unwrap()]);
    let feeds = feeds_json(&env);
    assert_eq!(feeds.len(), 1);
    assert_eq!(feeds[0]["title"], "Power Talk");
}

#[test]
fn loopback_hosts_are_refused_unless_allowed() {
    let server = Server::start();
    server.put("/a.xml", rss("Power Talk", &[]), "application/rss+xml");
    let env = Env::new();
    let out = env.cmd().args(["feeds", "add", &server.url("/a.xml")]).output().unwrap();
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("loopback") && err.contains("PODBRIEF_ALLOW_PRIVATE_HOSTS=1"), "{err}");
    assert!(server.hits().is_empty(), "nothing may be sent to a refused host");
    let out = env.run(&["feeds", "add", "file:///etc/passwd"]);
    assert!(
        stderr(&out).contains("only http:// and https:// URLs are fetched"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn killed_download_resumes_and_the_store_stays_consistent() {
    let server = Server::start();
    // Any bytes will do: update does not decode what it downloads.
    let body: Vec<u8> =
        (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    server.put("/big.mp3", body.clone(), "audio/mpeg");
    server.throttle("/big.mp3", 1_000_000, 50);
    let feed = rss("Slow Show", &[("b1", "Big", &server.url("/big.mp3"), None)]);
    server.put("/b.xml", feed, "application/rss+xml");
    let env = env_allowing_loopback();
    run_ok(&env, &["feeds", "add", &server.url("/b.xml")]);

    let mut child = env
        .cmd()
        .env("PODBRIEF_ALLOW_PRIVATE_HOSTS", "1")
        .arg("update")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let part = env.home.path().join("episodes/1/1.mp3.part");
    let start = Instant::now();
    while std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0) < 1_000_000 {
        assert!(start.elapsed() < Duration::from_secs(60), "the download never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let have = std::fs::metadata(&part).unwrap().len();
    assert!(have >= 1_000_000 && have < body.len() as u64, "{have}");
    assert!(!env.home.path().join("episodes/1/1.mp3").exists());
    assert_eq!(feeds_json(&env)[0]["fetched"].as_u64(), Some(0), "a partial file is not fetched");

    server.unthrottle("/big.mp3");
    server.clear_hits();
    let out = run_ok(&env, &["update"]);
    assert!(stderr(&out).contains("resumed at"), "{}", stderr(&out));
    let big = server.hits_for("/big.mp3");
    assert_eq!(big.len(), 1);
    assert_eq!(big[0].status, 206);
    assert_eq!(big[0].range.as_deref(), Some(format!("bytes={have}-").as_str()));
    assert_eq!(read(&env.home.path().join("episodes/1/1.mp3")), body);
    assert!(!part.exists());
    let feeds = feeds_json(&env);
    assert_eq!((feeds[0]["episodes"].as_u64(), feeds[0]["fetched"].as_u64()), (Some(1), Some(1)));
    let db = rusqlite::Connection::open(env.home.path().join("library.sqlite3")).unwrap();
    let ok: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(ok, "ok");
    let states: Vec<String> = db
        .prepare("SELECT state FROM episodes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(states, ["downloaded"]);
}

#[test]
fn hostile_feeds_and_enclosures_fail_alone_with_clear_messages() {
    let server = Server::start();
    let env = env_allowing_loopback();
    let good = read(&fixture("summarize/show-a.mp3"));
    server.put("/good.mp3", good.clone(), "audio/mpeg");
    server.endless("/endless.mp3");
    server.claim_length("/huge.mp3", 5 << 30);
    server.redirect("/loop.mp3", "/loop.mp3");
    server.redirect("/to-file.mp3", "file:///etc/passwd");
    let items = [
        ("g1", "<script>alert(1)</script> Good one", server.url("/good.mp3")),
        ("g1", "Same GUID again", server.url("/good.mp3")),
        ("g2", "Passwords", "file:///etc/passwd".to_string()),
        ("g3", "Endless", server.url("/endless.mp3")),
        ("g4", "Huge", server.url("/huge.mp3")),
        ("g5", "Loop", server.url("/loop.mp3")),
        ("g6", "Redirect to a file", server.url("/to-file.mp3")),
    ];
    let escaped: Vec<(String, String, String)> = items
        .iter()
        .map(|(g, t, u)| (g.to_string(), t.replace('<', "&lt;").replace('>', "&gt;"), u.clone()))
        .collect();
    let refs: Vec<(&str, &str, &str, Option<&str>)> =
        escaped.iter().map(|(g, t, u)| (g.as_str(), t.as_str(), u.as_str(), None)).collect();
    // new_feed_episodes is 3 by default; these items have no dates, so keep them all.
    write_config(
        &env,
        "[network]\nmax_download_mib = 1\ntimeout_secs = 10\nnew_feed_episodes = 10\n",
    );
    server.put("/hostile.xml", rss("Hostile", &refs), "application/rss+xml");
    server.put(
        "/b.xml",
        rss("Fine Show", &[("b1", "Fine", &server.url("/good.mp3"), None)]),
        "application/rss+xml",
    );
    server.put(
        "/bad.xml",
        b"<rss><channel><title>Broken</title><item>".to_vec(),
        "application/rss+xml",
    );
    let big: Vec<u8> = std::iter::repeat_n(b' ', 50 << 20).collect();
    server.put("/big.xml", big, "application/rss+xml");

    let out = run_ok(&env, &["feeds", "add", &server.url("/hostile.xml")]);
    assert!(stderr(&out).contains("duplicate GUID \"g1\""), "{}", stderr(&out));
    run_ok(&env, &["feeds", "add", &server.url("/b.xml")]);
    let out = run_any(&env, &["feeds", "add", &server.url("/bad.xml")]);
    assert!(stderr(&out).contains("not a valid RSS or Atom feed"), "{}", stderr(&out));
    let out = run_any(&env, &["feeds", "add", &server.url("/big.xml")]);
    assert!(stderr(&out).contains("over the size limit of 10485760 bytes"), "{}", stderr(&out));

    // A subscribed feed that turns malformed fails alone, as do the bad enclosures.
    server.put("/b.xml", b"<rss><channel><title>Fine Show".to_vec(), "application/rss+xml");
    let out = run_any(&env, &["update", "--json"]);
    assert_eq!(out.status.code(), Some(3), "finished, some inputs failed: the one exit code");
    let err = stderr(&out);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let error_of = |title: &str| -> String {
        let d = report["downloads"].as_array().unwrap().iter().find(|d| d["title"] == title);
        d.unwrap_or_else(|| panic!("no download of {title}: {report}"))["error"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(error_of("Passwords").contains("only http:// and https:// URLs"), "{err}");
    assert!(error_of("Redirect to a file").contains("only http:// and https:// URLs"), "{err}");
    assert!(error_of("Endless").contains("over the size limit of 1048576 bytes"), "{err}");
    assert!(error_of("Huge").contains("it is 5368709120 bytes"), "{err}");
    assert!(error_of("Loop").contains("more than 5 redirects"), "{err}");
    assert_eq!(error_of("<script>alert(1)</script> Good one"), "");
    assert_eq!(server.hits_for("/loop.mp3").len(), 6, "the first request and 5 redirects");
    let feed_b =
        report["feeds"].as_array().unwrap().iter().find(|f| f["url"] == server.url("/b.xml"));
    assert!(feed_b.unwrap()["error"].as_str().unwrap().contains("not a valid RSS"), "{report}");
    let feeds = feeds_json(&env);
    assert_eq!(feeds[0]["fetched"].as_u64(), Some(1), "the good episode is fetched: {feeds:?}");
    assert_eq!(feeds[0]["failed"].as_u64(), Some(5));
    // Nothing of /etc/passwd, and no partial download, anywhere in the home.
    for entry in walk(env.home.path()) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.ends_with(".part"), "left behind: {}", entry.display());
        if let Ok(text) = std::fs::read_to_string(&entry) {
            assert!(!text.contains("root:x:0:0"), "{} holds /etc/passwd", entry.display());
        }
    }
}

/// `podcast:chapters` is fetched beside the episode as NAME.chapters.json, where `chapters`
/// finds it; a broken chapters file is dropped with a warning and the episode still counts.
#[test]
fn publisher_chapters_are_fetched_beside_the_episode() {
    let server = Server::start();
    let audio = read(&fixture("summarize/show-a.mp3"));
    server.put("/c1.mp3", audio.clone(), "audio/mpeg");
    server.put("/c2.mp3", audio, "audio/mpeg");
    let chapters = r#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"Cold open"},{"startTime":21,"title":"Small gardens"}]}"#;
    server.put("/c1.json", chapters.as_bytes().to_vec(), "application/json+chapters");
    server.put("/c2.json", b"<html>not found</html>".to_vec(), "text/html");
    let items = [("c1", "One", server.url("/c1.mp3")), ("c2", "Two", server.url("/c2.mp3"))];
    let refs: Vec<(&str, &str, &str, Option<&str>)> =
        items.iter().map(|(g, t, e)| (*g, *t, e.as_str(), None)).collect();
    let mut feed = String::from_utf8(rss("Garden Talk", &refs)).unwrap();
    for (guid, _, _) in &items {
        let tag = format!(
            "<podcast:chapters url=\"{}\" type=\"application/json+chapters\"/></item>",
            server.url(&format!("/{guid}.json"))
        );
        let at = feed.find(&format!("<guid>{guid}</guid>")).unwrap();
        let end = at + feed[at..].find("</item>").unwrap();
        feed.replace_range(end..end + "</item>".len(), &tag);
    }
    server.put("/c.xml", feed.into_bytes(), "application/rss+xml");
    let env = env_allowing_loopback();
    run_ok(&env, &["feeds", "add", &server.url("/c.xml")]);
    let out = run_ok(&env, &["update", "--json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let downloads = report["downloads"].as_array().unwrap();
    assert_eq!(downloads.len(), 2);
    for d in downloads {
        assert_eq!(d["error"], Value::Null, "a bad chapters file never fails the episode");
        let media = PathBuf::from(d["path"].as_str().unwrap());
        let beside = media.with_extension("chapters.json");
        if d["title"] == "One" {
            assert_eq!(d["chapters"].as_str().map(PathBuf::from), Some(beside.clone()));
            assert_eq!(std::fs::read_to_string(&beside).unwrap(), chapters);
            let o = env.cmd().args(["chapters", media.to_str().unwrap()]).output().unwrap();
            assert!(o.status.success(), "{}", stderr(&o));
            assert_eq!(stdout(&o), "00:00 Cold open\n00:21 Small gardens\n");
        } else {
            assert_eq!(d["chapters"], Value::Null);
            assert!(!beside.exists(), "a broken chapters file is not kept");
        }
    }
    assert!(stderr(&out).contains("publisher chapters unusable"), "{}", stderr(&out));
}
