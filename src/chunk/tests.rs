use super::*;

fn seg(start: f64, end: f64, text: &str) -> Segment {
    Segment { start, end, text: text.into(), ..Segment::default() }
}

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

#[test]
fn sentences_keep_times_across_segments() {
    let segs = [
        seg(0.0, 4.0, " Welcome back. Today Dr. Smith explains"),
        seg(4.0, 8.0, " why rates rose 3.5 percent. Is that bad?"),
        seg(8.0, 10.0, " No."),
    ];
    let s = sentences(&segs, &ChunkOptions::default());
    let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Welcome back.",
            "Today Dr. Smith explains why rates rose 3.5 percent.",
            "Is that bad?",
            "No."
        ]
    );
    assert_eq!(s[0].start, 0.0);
    assert!(s[1].start > 0.5 && s[1].start < 2.0, "{:?}", s[1]);
    assert!(s[1].end > 4.0 && s[1].end < 8.0, "{:?}", s[1]);
    assert!((s[3].end - 10.0).abs() < 1e-9);
    assert!(s.windows(2).all(|w| w[0].start <= w[1].start));
}

#[test]
fn a_sentence_may_start_with_a_digit() {
    let segs = [seg(
        0.0,
        6.0,
        "They read 12,000 books in 10 weeks. 12,000 books is a lot. See p. 4 here.",
    )];
    let s = sentences(&segs, &ChunkOptions::default());
    let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        ["They read 12,000 books in 10 weeks.", "12,000 books is a lot.", "See p. 4 here."]
    );
}

#[test]
fn unpunctuated_runs_are_cut_at_segment_ends() {
    let segs: Vec<Segment> = (0..10)
        .map(|i| {
            seg(i as f64 * 3.0, i as f64 * 3.0 + 3.0, "so we went on talking about the budget and")
        })
        .collect();
    let opts = ChunkOptions { max_sentence_words: 25, ..ChunkOptions::default() };
    let s = sentences(&segs, &opts);
    assert!(s.len() >= 4, "{s:?}");
    for x in &s {
        assert!(words(&x.text) <= 25, "{:?}", x.text);
    }
    // Cuts fall on segment ends (every 9 words), so pieces are whole segments.
    assert!(s.iter().all(|x| words(&x.text).is_multiple_of(9)), "{s:?}");
    let total: usize = s.iter().map(|x| words(&x.text)).sum();
    assert_eq!(total, 90);
}

#[test]
fn a_run_without_any_boundary_is_cut_by_words() {
    let text = vec!["word"; 100].join(" ");
    let s = sentences(&[seg(0.0, 50.0, &text)], &ChunkOptions::default());
    assert_eq!(s.iter().map(|x| words(&x.text)).sum::<usize>(), 100);
    assert!(s.iter().all(|x| words(&x.text) <= 40));
}

#[test]
fn chunks_respect_budget_and_overlap() {
    let sents: Vec<Sentence> = (0..30)
        .map(|i| Sentence {
            text: format!("sentence number {i} has six words"),
            start: i as f64,
            end: i as f64 + 1.0,
            ..Default::default()
        })
        .collect();
    let count = |t: &str| words(t);
    let opts = ChunkOptions { max_tokens: 50, overlap_tokens: 15, max_sentence_words: 40 };
    let chunks = chunk(&sents, &opts, &count);
    assert!(chunks.len() > 3);
    for c in &chunks {
        assert!(c.tokens <= 50, "{c:?}");
        assert_eq!(c.start, sents[c.first].start);
        assert_eq!(c.end, sents[c.last].end);
    }
    for w in chunks.windows(2) {
        // Each chunk moves forward and repeats at most the overlap budget.
        assert!(w[1].first > w[0].first);
        assert!(w[1].first <= w[0].last + 1);
        let repeated: usize = (w[1].first..=w[0].last).map(|i| count(&sents[i].text) + 1).sum();
        assert!(repeated <= 15);
        assert!(w[1].first <= w[0].last, "some overlap expected");
    }
    assert_eq!(chunks.last().map(|c| c.last), Some(29));
    // A sentence over the budget gets a chunk of its own instead of being dropped.
    let big = vec![Sentence { text: "x ".repeat(80), start: 0.0, end: 1.0, ..Default::default() }];
    assert_eq!(chunk(&big, &opts, &count).len(), 1);
    assert!(chunk(&[], &opts, &count).is_empty());
}

/// A long run-on sentence of an edited transcript is cut after a clause break, not in the middle
/// of a clause or just before its semicolon.
#[test]
fn a_long_sentence_is_cut_after_a_clause_break() {
    let text = "For example, had we specified modules a little bit differently, then you wouldn't \
                be able to inject code so that it would run before the module ran, polyfilling \
                like -- let's say a browser had the wrong implementation of Promise; you wouldn't \
                be able to fix that implementation of Promise, because if we designed the module \
                system in a specific way, then the modules would run before you polyfilled it.";
    let s = sentences(&[seg(0.0, 40.0, text)], &ChunkOptions::default());
    assert!(s.len() >= 2, "{s:?}");
    for x in &s {
        let first = x.text.chars().next().unwrap();
        assert!(first.is_alphanumeric(), "{:?}", x.text);
        assert!(words(&x.text) <= 40, "{:?}", x.text);
    }
    assert!(s[0].text.ends_with("implementation of Promise;"), "{:?}", s[0].text);
    assert!(s[1].text.starts_with("You wouldn't be able to fix"), "{:?}", s[1].text);
    let joined = s.iter().map(|x| x.text.as_str()).collect::<Vec<_>>().join(" ");
    assert_eq!(joined.to_lowercase(), text.replace("--", "—").to_lowercase(), "no word lost");
}
