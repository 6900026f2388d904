use super::extensions::parse_duration;
use super::*;

const PODCAST_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:podcast="https://podcastindex.org/namespace/1.0">
  <channel>
    <title>  The Example Show  </title>
    <link>https://example.com/show</link>
    <item>
      <title>Episode 3</title>
      <guid isPermaLink="false">ep-3</guid>
      <pubDate>Tue, 03 Jun 2025 10:00:00 GMT</pubDate>
      <enclosure url="https://cdn.example.com/ep3.mp3" type="audio/mpeg" length="12345678"/>
      <itunes:duration>01:02:03</itunes:duration>
      <podcast:transcript url="https://example.com/ep3.vtt" type="text/vtt" language="en"/>
      <podcast:transcript url="https://example.com/ep3.srt?a=1&amp;b=2" type="application/x-subrip"/>
      <podcast:chapters url="https://example.com/ep3-chapters.json" type="application/json+chapters"/>
    </item>
    <item>
      <title>Episode 2</title>
      <guid>ep-2</guid>
      <enclosure url="https://cdn.example.com/ep2.mp3" type="audio/mpeg" length="99"/>
      <itunes:duration>12:34</itunes:duration>
    </item>
    <item>
      <title>Episode 1</title>
      <guid>ep-1</guid>
      <enclosure url="https://cdn.example.com/ep1.mp3" type="audio/mpeg"/>
      <itunes:duration>3600</itunes:duration>
    </item>
    <item>
      <title>Show notes only</title>
      <link>https://example.com/notes</link>
    </item>
  </channel>
</rss>"#;

#[test]
fn rss_podcast_feed() {
    let feed = parse(PODCAST_RSS.as_bytes()).expect("valid feed");
    assert_eq!(feed.title, "The Example Show");
    assert_eq!(feed.link.as_deref(), Some("https://example.com/show"));
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert_eq!(feed.episodes.len(), 4);

    let ep3 = &feed.episodes[0];
    assert_eq!(ep3.guid, "ep-3");
    assert_eq!(ep3.title, "Episode 3");
    assert_eq!(ep3.published, Some(1_748_944_800));
    assert_eq!(
        ep3.enclosure,
        Some(Enclosure {
            url: "https://cdn.example.com/ep3.mp3".into(),
            mime: Some("audio/mpeg".into()),
            length: Some(12_345_678),
        })
    );
    assert_eq!(ep3.duration, Some(3723.0));
    assert_eq!(
        ep3.transcripts,
        vec![
            TranscriptLink {
                url: "https://example.com/ep3.vtt".into(),
                mime: "text/vtt".into(),
                language: Some("en".into()),
            },
            TranscriptLink {
                url: "https://example.com/ep3.srt?a=1&b=2".into(),
                mime: "application/x-subrip".into(),
                language: None,
            },
        ]
    );
    assert_eq!(ep3.chapters.as_deref(), Some("https://example.com/ep3-chapters.json"));

    assert_eq!(feed.episodes[1].duration, Some(754.0));
    assert!(feed.episodes[1].transcripts.is_empty());
    assert_eq!(feed.episodes[1].chapters, None);
    assert_eq!(feed.episodes[2].duration, Some(3600.0));
    assert_eq!(feed.episodes[2].enclosure.as_ref().unwrap().length, None);

    // Kept without audio, identified by its link.
    let notes = &feed.episodes[3];
    assert_eq!(notes.enclosure, None);
    assert_eq!(notes.guid, "https://example.com/notes");
    assert_eq!(notes.duration, None);
}

#[test]
fn durations() {
    assert_eq!(parse_duration("45"), Some(45.0));
    assert_eq!(parse_duration(" 12:34 "), Some(754.0));
    assert_eq!(parse_duration("1:02:03"), Some(3723.0));
    assert_eq!(parse_duration("00:00:01.5"), Some(1.5));
    for bad in ["", "abc", "-5", "1:2:3:4", "1.5:00", "12:", "1e3"] {
        assert_eq!(parse_duration(bad), None, "{bad:?}");
    }
}

#[test]
fn atom_feed_with_enclosure_link() {
    let atom = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Atom Cast</title>
  <link href="https://atom.example.com/"/>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2025-01-02T03:04:05Z</updated>
  <entry>
    <title>First</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2025-01-02T03:04:05Z</updated>
    <link rel="alternate" href="https://atom.example.com/first"/>
    <link rel="enclosure" type="audio/mpeg" length="1337" href="https://atom.example.com/first.mp3"/>
  </entry>
</feed>"#;
    let feed = parse(atom.as_bytes()).expect("valid atom");
    assert_eq!(feed.title, "Atom Cast");
    assert_eq!(feed.link.as_deref(), Some("https://atom.example.com/"));
    let ep = &feed.episodes[0];
    assert_eq!(ep.guid, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
    assert_eq!(ep.published, Some(1_735_787_045));
    assert_eq!(
        ep.enclosure,
        Some(Enclosure {
            url: "https://atom.example.com/first.mp3".into(),
            mime: Some("audio/mpeg".into()),
            length: Some(1337),
        })
    );
}

#[test]
fn duplicate_guids_keep_the_first() {
    let rss = r#"<rss version="2.0"><channel><title>Dup</title>
      <item><title>A</title><guid>same</guid></item>
      <item><title>B</title><guid>same</guid></item>
      <item><title>C</title><guid>other</guid></item>
    </channel></rss>"#;
    let feed = parse(rss.as_bytes()).expect("valid feed");
    let titles: Vec<_> = feed.episodes.iter().map(|e| e.title.as_str()).collect();
    assert_eq!(titles, ["A", "C"]);
    assert_eq!(feed.warnings.len(), 1);
    assert!(feed.warnings[0].contains("same"), "{}", feed.warnings[0]);
}

#[test]
fn guid_falls_back_to_enclosure_then_title_and_date() {
    let rss = r#"<rss version="2.0"><channel><title>T</title>
      <item><title>Audio</title><enclosure url="https://e.com/a.mp3" type="audio/mpeg"/></item>
      <item><title>Bare</title><pubDate>Tue, 03 Jun 2025 10:00:00 GMT</pubDate></item>
    </channel></rss>"#;
    let feed = parse(rss.as_bytes()).expect("valid feed");
    assert_eq!(feed.episodes[0].guid, "https://e.com/a.mp3");
    assert_eq!(feed.episodes[1].guid, "Bare|1748944800");
}

#[test]
fn script_in_titles_stays_text() {
    let rss = r#"<rss version="2.0"><channel><title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
      <item><guid>1</guid><title><![CDATA[ <script>alert("x")</script> & more ]]></title></item>
      <item><guid>2</guid><title>&lt;script&gt;alert('y')&lt;/script&gt;</title></item>
    </channel></rss>"#;
    let feed = parse(rss.as_bytes()).expect("valid feed");
    assert_eq!(feed.title, "<script>alert(1)</script>");
    assert_eq!(feed.episodes[0].title, r#"<script>alert("x")</script> & more"#);
    assert_eq!(feed.episodes[1].title, "<script>alert('y')</script>");
}

#[test]
fn malformed_xml_is_an_error() {
    for bad in [
        "<rss version=\"2.0\"><channel><title>x</title><item></channel></rss>",
        "<rss version=\"2.0\"><channel><title>x</title>",
        "this is not xml at all",
        "<html><body>hello</body></html>",
    ] {
        let err = parse(bad.as_bytes()).expect_err(bad);
        assert!(matches!(err, FeedError::Malformed(_)), "{bad}: {err:?}");
        let msg = err.to_string();
        assert!(msg.starts_with("not a valid RSS or Atom feed: "), "{msg}");
        assert!(msg.len() > "not a valid RSS or Atom feed: ".len(), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

#[test]
fn oversize_input_is_refused_before_parsing() {
    // Not even XML: the size check must come first.
    let big = vec![b'x'; MAX_FEED_BYTES + 1];
    match parse(&big) {
        Err(FeedError::TooLarge { size, limit }) => {
            assert_eq!(size, MAX_FEED_BYTES + 1);
            assert_eq!(limit, MAX_FEED_BYTES);
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

#[test]
fn a_configured_limit_above_the_default_admits_a_bigger_feed() {
    let mut doc = b"<rss version=\"2.0\"><channel><title>Big</title><!--".to_vec();
    doc.resize(MAX_FEED_BYTES + 10, b' ');
    doc.extend_from_slice(b"--></channel></rss>");
    assert!(matches!(parse(&doc), Err(FeedError::TooLarge { .. })));
    let feed = parse_with_limit(&doc, 2 * MAX_FEED_BYTES).unwrap();
    assert_eq!(feed.title, "Big");
}

#[test]
fn empty_input_is_an_error() {
    for empty in ["", "  \n\t "] {
        let err = parse(empty.as_bytes()).expect_err("empty");
        assert!(matches!(err, FeedError::Empty), "{err:?}");
        assert!(err.to_string().contains("empty"));
    }
}

#[test]
fn only_http_and_https_are_fetchable() {
    for ok in [
        "http://example.com/feed.xml",
        "https://example.com/feed.xml",
        "HTTPS://EXAMPLE.COM/feed",
        "Http://example.com",
    ] {
        assert!(is_fetchable(ok), "{ok}");
    }
    for bad in [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "javascript:alert(1)",
        "/relative/feed.xml",
        "feed.xml",
        "//example.com/feed.xml",
        "https://",
        "",
    ] {
        assert!(!is_fetchable(bad), "{bad}");
    }
}

#[test]
fn opml_round_trip() {
    let feeds = vec![
        OpmlFeed { title: "Show One".into(), url: "https://one.example.com/feed".into() },
        OpmlFeed { title: "Show Two".into(), url: "http://two.example.com/rss".into() },
    ];
    assert_eq!(read_opml(write_opml(&feeds).as_bytes()).unwrap(), feeds);
}

#[test]
fn opml_escapes_special_characters() {
    let feeds = vec![OpmlFeed {
        title: r#"Tom & Jerry's <Show> "live""#.into(),
        url: r#"https://e.com/feed?a=1&b=<2>&c="3""#.into(),
    }];
    let xml = write_opml(&feeds);
    assert!(xml.contains("Tom &amp; Jerry"), "{xml}");
    assert!(!xml.contains("<Show>"), "{xml}");
    assert_eq!(read_opml(xml.as_bytes()).unwrap(), feeds);
}

#[test]
fn opml_reads_nested_outlines() {
    let opml = r#"<?xml version="1.0"?>
<opml version="1.0"><head><title>subs</title></head><body>
  <outline text="Tech">
    <outline text="Text Name" type="rss" xmlUrl="https://a.example.com/feed"/>
    <outline title="Title Name" text="ignored" xmlUrl="https://b.example.com/feed"></outline>
  </outline>
  <outline text="No feed here" htmlUrl="https://c.example.com/"/>
  <outline xmlurl="https://d.example.com/feed"/>
</body></opml>"#;
    let feeds = read_opml(opml.as_bytes()).unwrap();
    let got: Vec<_> = feeds.iter().map(|f| (f.title.as_str(), f.url.as_str())).collect();
    assert_eq!(
        got,
        [
            ("Text Name", "https://a.example.com/feed"),
            ("Title Name", "https://b.example.com/feed"),
            ("https://d.example.com/feed", "https://d.example.com/feed"),
        ]
    );
}

#[test]
fn opml_errors() {
    for bad in ["", "<rss/>", "<opml><body><outline xmlUrl=\"x\"></body></opml>"] {
        let err = read_opml(bad.as_bytes()).expect_err(bad);
        assert!(matches!(err, FeedError::InvalidOpml(_)), "{bad}: {err:?}");
        assert!(err.to_string().starts_with("not a valid OPML document: "));
    }
}
