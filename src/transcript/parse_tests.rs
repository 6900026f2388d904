use super::*;

fn write(name: &str, body: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, body).unwrap();
    (dir, p)
}

#[test]
fn srt_with_speaker_labels() {
    let (_d, p) = write(
        "ep.srt",
        "1\n00:00:01,000 --> 00:00:03,500\nANA: Welcome to the show.\n\n\
         2\n00:00:03,500 --> 00:00:07,250\nToday we talk about\nsolar panels.\n\n",
    );
    let t = read(&p).unwrap();
    assert_eq!(t.segments.len(), 2);
    assert_eq!(t.segments[0].speaker.as_deref(), Some("ANA"));
    assert_eq!(t.segments[0].text, "Welcome to the show.");
    assert_eq!(t.segments[1].text, "Today we talk about solar panels.");
    assert_eq!((t.segments[1].start, t.segments[1].end), (3.5, 7.25));
    assert_eq!(t.duration, 7.25);
    assert_eq!(t.source, "ep.srt");
}

#[test]
fn vtt_voice_tags_and_settings() {
    let (_d, p) = write(
        "ep.vtt",
        "WEBVTT\n\nNOTE made by hand\n\n00:01.000 --> 00:04.000 align:start\n<v Ben Ortiz>It's <i>really</i> cheap &amp; fast.</v>\n\n\
         01:00:00.000 --> 01:00:02.000\nBye.\n",
    );
    let t = read(&p).unwrap();
    assert_eq!(t.segments.len(), 2);
    assert_eq!(t.segments[0].speaker.as_deref(), Some("Ben Ortiz"));
    assert_eq!(t.segments[0].text, "It's really cheap & fast.");
    assert_eq!(t.segments[1].start, 3600.0);
}

#[test]
fn podcasting20_json_joins_word_segments() {
    let (_d, p) = write(
        "ep.json",
        r#"{"version": "1.0.0", "segments": [
            {"speaker": "Ana", "startTime": 0.5, "endTime": 0.9, "body": "Hello"},
            {"speaker": "Ana", "startTime": 0.9, "endTime": 1.4, "body": "everyone."},
            {"speaker": "Ben", "startTime": 1.6, "endTime": 2.0, "body": "Hi."}
        ]}"#,
    );
    let t = read(&p).unwrap();
    assert_eq!(t.segments.len(), 2);
    assert_eq!(t.segments[0].text, "Hello everyone.");
    assert_eq!((t.segments[0].start, t.segments[0].end), (0.5, 1.4));
    assert_eq!(t.segments[1].speaker.as_deref(), Some("Ben"));
}

#[test]
fn own_json_round_trips() {
    let seg = Segment { start: 1.0, end: 2.0, text: "Hi there.".into(), ..Segment::default() };
    let t = Transcript {
        source: "a.mp3".into(),
        audio_sha256: "00".into(),
        model: "m".into(),
        backend: "b".into(),
        duration: 2.0,
        segments: vec![seg.clone()],
    };
    let (_d, p) = write("a.json", &serde_json::to_string(&t).unwrap());
    assert_eq!(read(&p).unwrap().segments, vec![seg]);
}

#[test]
fn plain_text_gets_estimated_times() {
    let (_d, p) = write("notes.txt", "HOST: one two three four five.\n\nGuest answers here.\n");
    let t = read(&p).unwrap();
    assert_eq!(t.segments.len(), 2);
    assert_eq!(t.segments[0].speaker.as_deref(), Some("HOST"));
    assert!((t.segments[0].end - 2.0).abs() < 1e-9, "5 words at 150 wpm");
    assert_eq!(t.segments[1].start, t.segments[0].end);
}

#[test]
fn bad_files_are_clear_errors() {
    for (name, body, want) in [
        ("e.srt", "   \n", "empty"),
        ("b.json", "{\"segments\": 3", "invalid JSON"),
        ("c.json", "{\"items\": []}", "segments"),
        ("d.srt", "1\n00:00:xx,000 --> 00:00:02,000\nHi\n", "bad time line"),
        ("f.vtt", "WEBVTT\n\n", "no transcript segments"),
    ] {
        let (_d, p) = write(name, body);
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains(want) && e.contains(name), "{name}: {e}");
    }
    let (_d, p) = write("g.txt", "");
    std::fs::write(&p, b"ok \xff").unwrap();
    assert!(read(&p).unwrap_err().to_string().contains("not UTF-8"));
}

#[test]
fn markdown_transcripts_keep_turns_times_and_drop_tags() {
    let body = "# Episode 12\n\n**Mat Ryer:** Hello, and welcome! \\[laughter\\]\n\n\
                **Aaron Schlesinger:** \\[00:03:54.26\\] So to me, cloud native is new.\n\n\
                And a second paragraph of Aaron's.\n\nJon: A plain label works too.\n";
    let (_d, p) = write("ep.md", body);
    let t = read(&p).unwrap();
    let got: Vec<(Option<&str>, &str)> =
        t.segments.iter().map(|s| (s.speaker.as_deref(), s.text.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (Some("Mat Ryer"), "Hello, and welcome!"),
            (Some("Aaron Schlesinger"), "So to me, cloud native is new."),
            (Some("Aaron Schlesinger"), "And a second paragraph of Aaron's."),
            (Some("Jon"), "A plain label works too."),
        ]
    );
    assert!((t.segments[1].start - 234.26).abs() < 1e-6, "the marker sets the clock");
    assert!(t.segments[2].start > t.segments[1].start);
}

#[test]
fn character_references_of_web_exports_are_decoded() {
    let body =
        "**Daniel Whitenack:** That&#39;s the R&D team &amp; it&#x27;s&nbsp;fine; &bogus; stays.\n";
    let (_d, p) = write("ep.md", body);
    let t = read(&p).unwrap();
    assert_eq!(t.segments[0].text, "That's the R&D team & it's fine; &bogus; stays.");
    assert_eq!(t.segments[0].speaker.as_deref(), Some("Daniel Whitenack"));
}

#[test]
fn text_between_markers_is_timed_to_meet_them_and_never_runs_backwards() {
    // 150 words a minute would put the second paragraph at 80 s; the marker says 40 s.
    let long = "word ".repeat(200);
    let body = format!("A: {long}\n\nB: \\[00:00:40\\] Short.\n\nA: After.\n");
    let (_d, p) = write("m.md", &body);
    let t = read(&p).unwrap();
    let starts: Vec<f64> = t.segments.iter().map(|s| s.start).collect();
    assert!((starts[1] - 40.0).abs() < 1e-9, "{starts:?}");
    assert!((t.segments[0].end - 40.0).abs() < 1e-9, "the first paragraph is squeezed to meet it");
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");
}
