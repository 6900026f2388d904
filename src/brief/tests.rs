//! The renderers (Markdown, HTML) on a sample brief whose every text tries to inject markup;
//! the sample is shared with `schema_tests`.

use std::collections::BTreeMap;

use super::*;

const EVIL: &str = "<script>alert(1)</script> \"quotes\" & 'apostrophes'";

/// Two entries: one ordinary with related items, one whose every text tries to inject markup.
pub(super) fn sample() -> Brief {
    let first = Entry {
        rank: 1,
        headline: "Sleep debt cannot be repaid on weekends".into(),
        text: "The guest argues that two nights of long sleep do not undo a week of short ones. \
               Reaction times stayed slow after the recovery nights."
            .into(),
        quote: "you can't bank sleep, and you can't pay it back on Saturday".into(),
        speaker: Some("Dr. Ana Ruiz".into()),
        edited: true,
        episode: "Episode 12: Sleep".into(),
        episode_index: 0,
        start: 754.2,
        end: 761.9,
        score: 0.91,
        scores: ScoreParts {
            support: 0.8,
            specificity: 0.7,
            episodes: 0.5,
            interest: 0.9,
            quality: 1.0,
        },
        origin: Origin::Llm,
        related: vec![
            Related {
                text: "Weekend lie-ins only mask tiredness".into(),
                quote: "the lie-in just hides it".into(),
                speaker: None,
                episode: "Episode 12: Sleep".into(),
                episode_index: 0,
                start: 1500.0,
                end: 1504.5,
                kind: RelatedKind::Merged,
                similarity: 0.88,
            },
            Related {
                text: "Naps help alertness but not memory".into(),
                quote: "a nap is coffee, not a night".into(),
                speaker: None,
                episode: "Bonus".into(),
                episode_index: 1,
                start: 3725.4,
                end: 3730.0,
                kind: RelatedKind::Nearby,
                similarity: 0.71,
            },
        ],
    };
    let second = Entry {
        rank: 2,
        headline: EVIL.into(),
        text: format!("# Not a heading\n[link](javascript:alert(1)) {EVIL}"),
        quote: EVIL.into(),
        speaker: Some(EVIL.into()),
        edited: false,
        episode: EVIL.into(),
        episode_index: 1,
        start: 61.0,
        end: 64.0,
        score: 0.5,
        scores: ScoreParts {
            support: 0.2,
            specificity: 0.3,
            episodes: 0.0,
            interest: 0.0,
            quality: 0.6,
        },
        origin: Origin::Extractive,
        related: vec![],
    };
    let third =
        Entry { rank: 3, headline: "Below the cut".into(), related: vec![], ..first.clone() };
    Brief {
        version: SCHEMA_VERSION,
        title: "Brief of 2 episodes".into(),
        created: "2025-01-31T12:00:00Z".into(),
        episodes: vec![
            EpisodeInfo {
                title: "Episode 12: Sleep".into(),
                source: "ep12.mp3".into(),
                sha256: "ab".repeat(32),
                duration: 3900.0,
                ads: vec![AdSpan { start: 600.0, end: 645.5, sponsor: Some("Typewell".into()) }],
                chapters: vec![
                    ChapterInfo {
                        start: 0.0,
                        end: 600.0,
                        title: "Why we sleep".into(),
                        sponsor: false,
                    },
                    ChapterInfo {
                        start: 600.0,
                        end: 645.5,
                        title: "Sponsor: Typewell".into(),
                        sponsor: true,
                    },
                    ChapterInfo { start: 645.5, end: 3900.0, title: EVIL.into(), sponsor: false },
                ],
            },
            EpisodeInfo {
                title: EVIL.into(),
                source: format!("{EVIL}.mp3"),
                sha256: "cd".repeat(32),
                duration: 3800.5,
                ads: Vec::new(),
                chapters: Vec::new(),
            },
        ],
        interests: vec!["sleep".into(), EVIL.into()],
        models: ModelsUsed {
            asr: Some("whisper-base.en".into()),
            embed: "all-MiniLM-L6-v2".into(),
            llm: "qwen2.5-1.5b-instruct-q4_k_m".into(),
        },
        brief: vec![first.clone(), second.clone()],
        clusters: vec![first, second, third],
        stats: Stats {
            sentences: 900,
            nominated: 30,
            llm_passages: 28,
            verified: 20,
            rejected: 30,
            clusters: 3,
            seconds: BTreeMap::from([("distill".into(), 42.5), ("transcribe".into(), 310.0)]),
        },
        rejected: vec![Rejected {
            claim: "Everyone needs exactly 8 hours".into(),
            quote: "eight hours for everyone".into(),
            episode: EVIL.into(),
            reason: "quote not found in the transcript".into(),
        }],
    }
}

/// Prints the sample in every format, for eyeballing a change to a renderer:
/// `cargo test --release --lib brief::tests::show_sample -- --ignored --nocapture`.
#[test]
#[ignore]
fn show_sample() {
    for format in [Format::Md, Format::Html, Format::Json] {
        println!("{}", render(&sample(), format));
    }
}

#[test]
fn timestamps() {
    assert_eq!(timestamp(0.0), "0:00");
    assert_eq!(timestamp(59.9), "0:59");
    assert_eq!(timestamp(61.0), "1:01");
    assert_eq!(timestamp(754.2), "12:34");
    assert_eq!(timestamp(3599.99), "59:59");
    assert_eq!(timestamp(3600.0), "1:00:00");
    assert_eq!(timestamp(3725.0), "1:02:05");
    assert_eq!(timestamp(36000.0), "10:00:00");
    assert_eq!(timestamp(f64::NAN), "0:00");
    assert_eq!(timestamp(-5.0), "0:00");
    assert_eq!(timestamp(f64::INFINITY), "0:00");
    assert_eq!(timestamp(f64::NEG_INFINITY), "0:00");
}

#[test]
fn format_names_and_extensions() {
    use clap::ValueEnum;
    for (name, format, ext) in
        [("md", Format::Md, "md"), ("json", Format::Json, "json"), ("html", Format::Html, "html")]
    {
        assert_eq!(Format::from_str(name, true), Ok(format));
        assert_eq!(format.extension(), ext);
    }
}

#[test]
fn markdown_has_the_content() {
    let md = render(&sample(), Format::Md);
    assert!(md.starts_with("# Brief of 2 episodes\n"), "{md}");
    assert!(md.contains("## 1. Sleep debt cannot be repaid on weekends\n"), "{md}");
    assert!(md.contains("\n> you can't bank sleep, and you can't pay it back on Saturday\n"));
    assert!(md.contains("> — Dr. Ana Ruiz, Episode 12: Sleep, 12:34 (lightly edited)\n"), "{md}");
    assert!(md.contains("Related:"));
    assert!(md.contains("- Weekend lie-ins only mask tiredness (Episode 12: Sleep, 25:00, merged)"));
    assert!(md.contains("(Bonus, 1:02:05, nearby)"), "{md}");
    assert!(md.contains("## Rejected candidates"));
    assert!(md.contains("quote not found in the transcript"));
    assert!(!md.contains("Below the cut"), "only the brief's entries are rendered");
    let last = md.trim_end().lines().last().unwrap_or_default();
    assert!(last.contains("whisper-base.en") && last.contains("all-MiniLM-L6-v2"), "{last}");
    assert!(last.contains("qwen2.5-1.5b-instruct-q4\\_k\\_m"), "{last}");
}

#[test]
fn markdown_escapes_untrusted_text() {
    let md = render(&sample(), Format::Md);
    assert!(!md.to_lowercase().contains("<script"), "{md}");
    assert!(md.contains("&lt;script>alert(1)&lt;/script> \"quotes\" & 'apostrophes'"), "{md}");
    // The transcript's "# Not a heading" and link stay on the paragraph's line, escaped.
    assert!(!md.lines().any(|l| l.starts_with("# Not")), "{md}");
    assert!(md.contains("\\# Not a heading \\[link\\](javascript:alert(1))"), "{md}");
    // Headings are only the ones the renderer made.
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(headings.len(), 6, "{headings:?}");
}

#[test]
fn markdown_escape_edge_cases() {
    use super::markdown::escape;
    assert_eq!(escape("> quoted"), "\\> quoted");
    assert_eq!(escape("- item"), "\\- item");
    assert_eq!(escape("  1986. A year"), "1986\\. A year");
    assert_eq!(escape("1) first"), "1\\) first");
    assert_eq!(escape("=== "), "\\===");
    assert_eq!(escape("| a | b |"), "\\| a | b |");
    assert_eq!(
        escape("**bold** `code` _em_ ~~s~~"),
        "\\*\\*bold\\*\\* \\`code\\` \\_em\\_ \\~\\~s\\~\\~"
    );
    assert_eq!(escape("![img](x.png)"), "!\\[img\\](x.png)");
    assert_eq!(escape("AT&T &amp; &#60;"), "AT&T &amp;amp; &amp;#60;");
    assert_eq!(escape("a\\b"), "a\\\\b");
    assert_eq!(escape("line one\n\n# two\r\n"), "line one # two");
    assert_eq!(escape("We are number #"), "We are number \\#");
    assert_eq!(escape("C# and F# ##"), "C# and F# \\##");
    assert_eq!(escape("plain prose, 3.5 percent - fine."), "plain prose, 3.5 percent - fine.");
    assert_eq!(escape(""), "");
}

#[test]
fn markdown_of_an_empty_brief() {
    let mut brief = sample();
    brief.brief.clear();
    brief.clusters.clear();
    brief.rejected.clear();
    brief.models.asr = None;
    let md = render(&brief, Format::Md);
    assert!(md.contains("No insights were found."));
    assert!(!md.contains("Rejected"));
    assert!(md.contains("no ASR (transcript input)"));
}

#[test]
fn html_is_self_contained_and_escaped() {
    let html = render(&sample(), Format::Html);
    let lower = html.to_lowercase();
    assert!(lower.starts_with("<!doctype html>\n"));
    assert!(lower.contains("<meta charset=\"utf-8\">"));
    assert!(lower.contains("<title>brief of 2 episodes</title>"));
    assert_eq!(lower.matches("<style>").count(), 1);
    assert!(lower.contains("prefers-color-scheme: dark") && lower.contains("@media print"));
    for banned in
        ["<script", "http://", "https://", "src=", "@import", "url(", "<link", "<img", "<iframe"]
    {
        assert!(!lower.contains(banned), "found {banned:?} in the page");
    }
    let escaped =
        "&lt;script&gt;alert(1)&lt;/script&gt; &quot;quotes&quot; &amp; &#39;apostrophes&#39;";
    assert!(html.contains(&format!("<h2><span class=\"rank\">2.</span> {escaped}</h2>")));
    let cite = format!("<cite>— {escaped}, {escaped}, <time datetime=\"PT61S\">1:01</time></cite>");
    assert!(html.contains(&cite), "{html}");
    // A file name inside an attribute: quotes escaped so it cannot close the attribute.
    assert!(html.contains(&format!("<span title=\"{escaped}.mp3 · sha256 ")), "{html}");
    assert!(html.contains("Sleep debt cannot be repaid on weekends"));
    assert!(html.contains("(Bonus, <time datetime=\"PT3725S\">1:02:05</time>, nearby)"));
    assert!(html.contains("<summary>Rejected candidates (1)</summary>"));
    assert!(!html.contains("Below the cut"));
    assert_eq!(html.matches("<article").count(), 2);
}

#[test]
fn html_is_well_formed() {
    for brief in [sample(), Brief { brief: vec![], rejected: vec![], ..sample() }] {
        let html = render(&brief, Format::Html);
        assert_eq!(html.matches("<html").count(), 1);
        assert!(html.trim_end().ends_with("</html>"));
        check_nesting(&html);
    }
}

/// Every non-void element is closed, in order: a cheap stand-in for an HTML parser that
/// catches a missing or misordered closing tag in the templates.
pub(super) fn check_nesting(html: &str) {
    const VOID: [&str; 3] = ["meta", "br", "!doctype"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>').expect("unterminated tag");
        let tag = &after[..close];
        let name: String =
            tag.trim_start_matches('/').chars().take_while(|c| !c.is_whitespace()).collect();
        let name = name.to_lowercase();
        if tag.starts_with('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "misnested </{name}>");
        } else if !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
        rest = &after[close + 1..];
        if stack.last().map(String::as_str) == Some("style") {
            // CSS has `>` selectors; skip to the end of the block.
            let end = rest.find("</style>").expect("unclosed style");
            rest = &rest[end..];
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

#[test]
fn the_outline_puts_each_entry_under_the_chapter_it_comes_from() {
    let b = sample();
    let md = render(&b, Format::Md);
    let outline = &md[md.find("## Outline").expect("an outline")..];
    assert!(outline.starts_with("## Outline\n\n### Episode 12: Sleep\n\n- 0:00 Why we sleep\n"));
    assert!(outline.contains("- 10:00 Sponsor: Typewell *(sponsor read)*\n- 10:45 "), "{outline}");
    // The first entry is quoted from 12:34, in the third chapter.
    let third = &outline[outline.find("- 10:45").unwrap()..];
    assert!(third.contains("\n  - 1. Sleep debt cannot be repaid on weekends"), "{third}");
    assert!(!outline.contains("<script>"), "chapter titles are escaped");
    let html = render(&b, Format::Html);
    assert!(html.contains("<h2>Outline</h2>") && html.contains("(sponsor read)"));
    assert!(!html.contains("<script>alert"));
    let email = render_email(&b);
    assert!(email.contains("Outline: Episode 12: Sleep") && email.contains("Why we sleep"));
    // Without chapters there is no outline.
    let mut plain = sample();
    plain.episodes.iter_mut().for_each(|e| e.chapters.clear());
    assert!(!render(&plain, Format::Md).contains("## Outline"));
}

/// An entry that stands as it was said has its sentence as headline and quote: every format
/// shows the sentence once, then the citation.
#[test]
fn a_headline_that_is_its_quote_is_shown_once() {
    let said = "Solar panels got about 90% cheaper, because every time output doubles, costs drop.";
    let mut b = sample();
    b.brief.truncate(1);
    b.brief[0].headline = said.into();
    b.brief[0].quote = format!("So, {}", said.to_lowercase());
    b.brief[0].related.clear();
    assert!(quote_is_headline(&b.brief[0]));
    let md = render(&b, Format::Md);
    let html = render(&b, Format::Html);
    let mail = super::email::render(&b);
    for (name, text) in [("md", &md), ("html", &html), ("mail", &mail)] {
        assert!(text.contains(said), "{name}: {text}");
        assert!(!text.to_lowercase().contains("so, solar panels"), "{name} quotes it: {text}");
        assert!(text.contains("Dr. Ana Ruiz"), "{name} keeps the citation: {text}");
    }
    check_nesting(&html);
    check_nesting(&mail);
    // A quote that says more than its headline is shown.
    b.brief[0].quote = format!("{said} That explains the new rooftops.");
    assert!(!quote_is_headline(&b.brief[0]));
}
