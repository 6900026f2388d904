//! `podbrief daily` end to end against the test HTTP server and SMTP sink: merging across
//! shows, publisher transcripts instead of Whisper, never repeating a sent insight, and mail.
//!
//! Fixtures in tests/fixtures/feeds: `show-a.vtt` and `show-b.vtt` are the Whisper tiny.en
//! transcripts of tests/fixtures/summarize/show-{a,b}.mp3 (`podbrief transcribe -f vtt`), served
//! as publisher transcripts; `show-a-2.mp3` is the next episode of show A, spoken from
//! `show-a-2.txt` with `BITRATE=32k scripts/make-eval-audio.sh tests/fixtures/feeds
//! tests/fixtures/feeds/show-a-2.txt`. It recaps show A's heat-pump point in new words (which the
//! second daily brief must not repeat) and adds a new one (the dishwasher at night).

mod common;

use common::feeds::*;
use common::httpd::Server;
use common::{fixture, stderr};
use serde_json::Value;

#[test]
fn daily_merges_across_shows_skips_whisper_for_transcripts_and_never_repeats() {
    common::require_model("all-minilm-l6-v2");
    let server = Server::start();
    let smtp = common::smtp::SmtpSink::start();
    server.put("/a1.vtt", read(&fixture("feeds/show-a.vtt")), "text/vtt");
    server.put("/b1.vtt", read(&fixture("feeds/show-b.vtt")), "text/vtt");
    server.put("/a1.mp3", read(&fixture("summarize/show-a.mp3")), "audio/mpeg");
    server.put("/b1.mp3", read(&fixture("summarize/show-b.mp3")), "audio/mpeg");
    server.put("/a2.mp3", read(&fixture("feeds/show-a-2.mp3")), "audio/mpeg");
    let (a1, a1t) = (server.url("/a1.mp3"), server.url("/a1.vtt"));
    let feed_a = |more: bool| {
        let mut items = vec![("a1", "Heat and light", a1.as_str(), Some(a1t.as_str()))];
        let a2 = server.url("/a2.mp3");
        if more {
            items.push(("a2", "Episode two", Box::leak(a2.into_boxed_str()), None));
        }
        rss("Power Talk", &items)
    };
    server.put("/a.xml", feed_a(false), "application/rss+xml");
    // Show B is Atom, with a title that must come out escaped.
    let atom = format!(
        "<?xml version=\"1.0\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" \
         xmlns:podcast=\"https://podcastindex.org/namespace/1.0\">\n\
         <title>Home Front &lt;script&gt;alert(1)&lt;/script&gt;</title><id>urn:b</id>\
         <updated>2026-11-25T06:00:00Z</updated>\n<entry><id>urn:b:1</id><title>Winter savings</title>\
         <updated>2026-11-25T06:00:00Z</updated>\
         <link rel=\"enclosure\" href=\"{}\" type=\"audio/mpeg\"/>\
         <podcast:transcript url=\"{}\" type=\"text/vtt\"/></entry>\n</feed>\n",
        server.url("/b1.mp3"),
        server.url("/b1.vtt")
    );
    server.put("/b.xml", atom.into_bytes(), "application/atom+xml");
    let env = env_allowing_loopback();
    // Day 1 has only publisher transcripts: a speech model that does not exist proves that
    // Whisper is never needed.
    write_config(&env, "[models]\nasr = \"/nonexistent/whisper\"\nllm_passages = 0\n");
    run_ok(&env, &["feeds", "add", &server.url("/a.xml")]);
    run_ok(&env, &["feeds", "add", &server.url("/b.xml")]);

    let day1_path = env.home.path().join("day1.json");
    run_ok(&env, &["daily", "--format", "json", "-o", day1_path.to_str().unwrap()]);
    assert!(
        gets(&server, "/a1.mp3").is_empty() && gets(&server, "/b1.mp3").is_empty(),
        "audio was fetched although transcripts exist"
    );
    let day1: Value = serde_json::from_slice(&read(&day1_path)).unwrap();
    assert_eq!(day1["models"]["asr"], Value::Null);
    let entries = day1["brief"].as_array().unwrap();
    let heat = entries
        .iter()
        .find(|e| e["headline"].as_str().unwrap().to_lowercase().contains("heat pump"))
        .unwrap_or_else(|| panic!("no heat-pump entry: {day1:#}"));
    let shows: Vec<String> = std::iter::once(heat["episode"].as_str().unwrap().to_string())
        .chain(
            heat["related"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["kind"] == "merged")
                .map(|r| r["episode"].as_str().unwrap().to_string()),
        )
        .collect();
    assert!(shows.iter().any(|s| s.starts_with("Power Talk — ")), "{shows:?}");
    assert!(shows.iter().any(|s| s.starts_with("Home Front <script>")), "{shows:?}");
    let heat_entries = entries
        .iter()
        .filter(|e| e["headline"].as_str().unwrap().to_lowercase().contains("heat pump"))
        .count();
    assert_eq!(heat_entries, 1, "the shared point is one entry: {day1:#}");

    // Day 2: a new audio-only episode of show A (Whisper this time), mailed as HTML.
    write_config(&env, "[models]\nllm_passages = 0\n");
    server.put("/a.xml", feed_a(true), "application/rss+xml");
    let day2_path = env.home.path().join("day2.json");
    let out = env
        .cmd()
        .env("PODBRIEF_ALLOW_PRIVATE_HOSTS", "1")
        .env("PODBRIEF_SMTP_SERVER", "127.0.0.1")
        .env("PODBRIEF_SMTP_PORT", smtp.port().to_string())
        .env("PODBRIEF_SMTP_SECURITY", "none")
        .env("PODBRIEF_SMTP_FROM", "podbrief <brief@example.com>")
        .args([
            "daily",
            "--format",
            "json",
            "-o",
            day2_path.to_str().unwrap(),
            "--mail-to",
            "me@example.com",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let day2: Value = serde_json::from_slice(&read(&day2_path)).unwrap();
    assert!(day2["models"]["asr"].is_string(), "episode two needed speech recognition");
    let day2_text = serde_json::to_string(&day2["brief"]).unwrap().to_lowercase();
    assert!(day2_text.contains("dishwasher"), "the new point is in the brief: {day2:#}");
    assert!(!day2_text.contains("heat pump"), "yesterday's point came back: {day2:#}");
    let day1_texts = brief_texts(&day1);
    for t in brief_texts(&day2) {
        assert!(!day1_texts.contains(&t), "repeated from yesterday: {t}");
    }

    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, ["me@example.com"]);
    let body = unquote_printable(&mails[0].data);
    assert!(body.contains("Content-Type: text/html"), "{body}");
    assert!(body.contains("Dishwasher") || body.to_lowercase().contains("dishwasher"));
    assert!(!body.to_lowercase().contains("<script"), "unescaped title in the mail");
    assert!(body.contains("Home Front &lt;script&gt;"), "{body}");
    assert!(!body.contains("<style") && !body.contains("https://"), "not email-ready");
}
