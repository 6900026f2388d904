//! `podbrief chapters` end to end on a real Markdown transcript excerpt and on spoken audio:
//! each format, the Podcasting 2.0 schema, sponsor reads as chapters of their own, titles by
//! the default chat model, and a clear error for input that is not there.

mod common;

use common::*;
use serde_json::Value;

/// A 14-minute stretch of a real episode (go-time-150, CC BY-SA 4.0, see eval/real/README.md)
/// with a sponsor read written into it.
fn transcript(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/real/episodes/go-time-150.md"),
    )
    .unwrap();
    let paragraphs: Vec<&str> = text.split("\n\n").collect();
    let mut kept: Vec<&str> = paragraphs[40..110].to_vec();
    let read =
        "**Mat Ryer:** This episode is brought to you by Quillstack, the hosted notebook for \
                engineering teams. Quillstack keeps your runbooks and design docs in one place. \
                Try it free for thirty days at quillstack dot com slash gotime.";
    kept.insert(35, read);
    let path = dir.join("cloud-native.md");
    std::fs::write(&path, kept.join("\n\n")).unwrap();
    path
}

fn schema() -> jsonschema::Validator {
    let text = include_str!("../docs/podcast-chapters.schema.json");
    jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap()
}

#[test]
fn every_format_from_a_transcript_with_a_sponsor_read() {
    let env = Env::new();
    let md = transcript(env.home.path());
    let out = env.home.path().join("out");
    let o = env.run(&["chapters", md.to_str().unwrap(), "-f", "json", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let doc: Value =
        serde_json::from_slice(&std::fs::read(out.join("cloud-native.chapters.json")).unwrap())
            .unwrap();
    let errors: Vec<String> = schema().iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let chapters = doc["chapters"].as_array().unwrap();
    assert!((4..=15).contains(&chapters.len()), "{doc}");
    assert_eq!(chapters[0]["startTime"], 0.0);
    let starts: Vec<f64> = chapters.iter().map(|c| c["startTime"].as_f64().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    let sponsor: Vec<&Value> = chapters.iter().filter(|c| c["toc"] == false).collect();
    assert_eq!(sponsor.len(), 1, "{doc}");
    assert_eq!(sponsor[0]["title"], "Sponsor: Quillstack");
    for c in chapters.iter().filter(|c| c["toc"] != false) {
        let title = c["title"].as_str().unwrap();
        assert!((1..=8).contains(&title.split_whitespace().count()), "{title}");
    }

    let o = env.run(&["chapters", md.to_str().unwrap(), "--no-llm", "-f", "txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let txt = stdout(&o);
    assert!(txt.starts_with("00:00 "), "{txt}");
    assert!(
        txt.lines().all(|l| l.chars().take(5).all(|c| c.is_ascii_digit() || c == ':')),
        "{txt}"
    );

    let o = env.run(&["chapters", md.to_str().unwrap(), "--no-llm", "-f", "md"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("# cloud-native.md\n\n- **00:00** "), "{}", stdout(&o));
}

#[test]
fn a_missing_input_is_reported_and_the_others_still_get_chapters() {
    let env = Env::new();
    let md = transcript(env.home.path());
    let o = env.run(&["chapters", "no-such-file.md", md.to_str().unwrap(), "--no-llm"]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no-such-file.md"), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("00:00 "), "{}", stdout(&o));
}

/// speech-short.mp3 with its ID3 tag replaced by one carrying two chapters (written by ffmpeg).
fn mp3_with_chapters(dir: &std::path::Path) -> std::path::PathBuf {
    let audio = std::fs::read(fixture("speech/speech-short.mp3")).unwrap();
    let size = audio[6..10].iter().fold(0usize, |n, &b| (n << 7) | usize::from(b & 0x7F));
    let mut bytes = std::fs::read(fixture("audio/chapters-id3v24.tag")).unwrap();
    bytes.extend_from_slice(&audio[10 + size..]);
    let path = dir.join("tagged.mp3");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_mp3_with_its_own_chapters_shows_them_unless_regenerated() {
    let env = Env::new();
    let mp3 = mp3_with_chapters(env.home.path());
    let o = env.run(&["chapters", mp3.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "00:00 Cold open\n01:00 Tomatoes in small gardens\n");
    let o = env.run(&["chapters", mp3.to_str().unwrap(), "-f", "md"]);
    assert!(stdout(&o).starts_with("# Tagged Show\n"), "the file's title tag: {}", stdout(&o));

    let o = env.run(&["chapters", mp3.to_str().unwrap(), "--regenerate", "--no-llm"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let made = stdout(&o);
    assert!(made.starts_with("00:00 ") && !made.contains("Cold open"), "{made}");
}

#[test]
fn an_m4a_with_its_own_chapters_shows_them() {
    let env = Env::new();
    let m4a = fixture("audio/chapters.m4a");
    let o = env.run(&["chapters", m4a.to_str().unwrap(), "-f", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let json: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(schema().is_valid(&json), "{json}");
    let titles: Vec<&str> =
        json["chapters"].as_array().unwrap().iter().filter_map(|c| c["title"].as_str()).collect();
    assert_eq!(titles, ["Cold open", "Ask not — Café"]);
}

#[test]
fn a_chapters_file_beside_a_transcript_is_used_as_it_is() {
    let env = Env::new();
    let md = transcript(env.home.path());
    let beside = md.with_extension("chapters.json");
    std::fs::write(&beside, r#"{"version":"1.2.0","chapters":[{"startTime":0,"title":"Opening"},{"startTime":95,"title":"Cloud native, defined"}]}"#).unwrap();
    let o = env.run(&["chapters", md.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "00:00 Opening\n01:35 Cloud native, defined\n");
    // The brief's outline is the publisher's too.
    let o =
        env.run(&["summarize", md.to_str().unwrap(), "--llm-passages", "0", "--format", "json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let brief: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let titles: Vec<&str> = brief["episodes"][0]["chapters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["title"].as_str())
        .collect();
    assert_eq!(titles, ["Opening", "Cloud native, defined"]);
    std::fs::write(&beside, "{not json").unwrap();
    let o = env.run(&["chapters", md.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "a broken chapters file is an error, not ignored");
    assert!(stderr(&o).contains("cloud-native.chapters.json"), "{}", stderr(&o));
}
