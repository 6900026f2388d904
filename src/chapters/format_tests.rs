use super::*;
use crate::chapters::TitleSource;
use crate::distill::ads::AdRead;

fn sample() -> Vec<Chapter> {
    let topic = |start: f64, end: f64, title: &str| Chapter {
        start,
        end,
        title: title.into(),
        summary: Some(format!("What {title} says.")),
        title_source: TitleSource::Model,
        ad: None,
    };
    let ad =
        AdRead { start: 600.0, end: 640.0, sponsor: Some("Typewell".into()), first: 0, last: 0 };
    vec![
        topic(0.0, 600.0, "Introduction"),
        Chapter {
            start: 600.0,
            end: 640.0,
            title: "Sponsor: Typewell".into(),
            summary: None,
            title_source: TitleSource::Sponsor,
            ad: Some(ad),
        },
        topic(640.0, 4000.0, "Memory safety"),
    ]
}

#[test]
fn json_is_podcasting_2_chapters_and_marks_sponsor_reads_out_of_the_toc() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../docs/podcast-chapters.schema.json")).unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&render("Ep 1", &sample(), Format::Json)).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(doc["version"], "1.2.0");
    assert_eq!(doc["chapters"][1]["toc"], false);
    assert_eq!(doc["chapters"][2]["startTime"], 640.0);
    // The schema is not a rubber stamp.
    let bad = serde_json::json!({"version": "1.2.0", "chapters": [{"title": "no start"}]});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn text_lines_are_youtube_style_and_markdown_quotes_summaries() {
    let txt = render("Ep 1", &sample(), Format::Txt);
    assert_eq!(txt, "00:00 Introduction\n10:00 Sponsor: Typewell\n10:40 Memory safety\n");
    let md = render("Ep 1", &sample(), Format::Md);
    assert!(md.starts_with("# Ep 1\n"));
    assert!(md.contains("- **10:40** Memory safety: “What Memory safety says.”"), "{md}");
    assert_eq!(clock(3725.4), "1:02:05");
}

#[test]
fn a_publishers_chapters_json_reads_back_in_time_order() {
    let text = r#"{"version": "1.2.0", "chapters": [
        {"startTime": 94.5, "title": "Donation Segment", "toc": false},
        {"startTime": 0, "title": "Intro", "img": "https://example.com/a.jpg"},
        {"startTime": 300, "endTime": 360, "title": "Outro"}]}"#;
    let got = read_json(text).unwrap();
    let want = vec![
        FileChapter { start: 0.0, end: 94.5, title: "Intro".into() },
        FileChapter { start: 94.5, end: 300.0, title: "Donation Segment".into() },
        FileChapter { start: 300.0, end: 360.0, title: "Outro".into() },
    ];
    assert_eq!(got, want);
    // Our own output reads back too.
    let ours = read_json(&render("Ep 1", &sample(), Format::Json)).unwrap();
    assert_eq!(ours.iter().map(|c| c.start).collect::<Vec<_>>(), vec![0.0, 600.0, 640.0]);
    assert!(read_json(r#"{"chapters": [{"title": "no start"}]}"#).is_err());
}
