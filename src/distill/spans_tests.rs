use super::*;
use crate::chunk::Sentence;
use crate::distill::signals::Filler;

fn line(turn: usize, speaker: &str, text: &str, filler: Option<Filler>) -> Line {
    let vector = vec![1.0, (turn as f32).sin(), 0.0];
    Line {
        episode: 0,
        sentence: Sentence {
            text: text.into(),
            speaker: Some(speaker.into()),
            turn,
            ..Default::default()
        },
        filler,
        specificity: 0.5,
        centrality: 0.5,
        score: if filler.is_some() { 0.0 } else { 0.5 },
        vector,
    }
}

const POINT: &str = "We moved the build to one repository because the release took three days.";

#[test]
fn spans_keep_to_one_turn_and_never_hold_an_ad_or_a_bare_question() {
    let mut lines =
        vec![line(0, "Host", "So why did you move everything into one repository?", None)];
    for _ in 0..4 {
        lines.push(line(1, "Guest", POINT, None));
    }
    lines.push(line(
        1,
        "Guest",
        "This show is brought to you by Linecraft, use code X.",
        Some(Filler::Ad),
    ));
    for _ in 0..3 {
        lines.push(line(1, "Guest", POINT, None));
    }
    lines.push(line(2, "Host", "Right.", None));
    let spans = spans(&lines);
    assert!(!spans.is_empty());
    for s in &spans {
        let turns: Vec<usize> = (s.first..=s.last).map(|i| lines[i].sentence.turn).collect();
        assert!(turns.iter().all(|&t| t == 1), "one turn, the guest's: {s:?}");
        assert!((s.first..=s.last).all(|i| lines[i].filler.is_none()), "{s:?}");
    }
}

#[test]
fn a_point_the_talk_dwells_on_outscores_an_aside_of_the_same_words() {
    // Six turns of 5 sentences, one a minute: turns 0-1 and 3-5 share a subject, turn 2 is
    // an aside. All say the same words; what surrounds them tells them apart.
    let mut lines = Vec::new();
    for turn in 0..6 {
        for k in 0..5 {
            let mut l = line(turn, if turn % 2 == 0 { "Guest" } else { "Host" }, POINT, None);
            l.sentence.start = (turn * 5 + k) as f64 * 12.0;
            l.vector = if turn == 2 { vec![0.0, 0.0, 1.0] } else { vec![1.0, 0.0, 0.0] };
            lines.push(l);
        }
    }
    let spans = spans(&lines);
    let of_turn = |t: usize| spans.iter().position(|s| lines[s.first].sentence.turn == t);
    let (aside, point) = (of_turn(2).unwrap(), of_turn(4).unwrap());
    let scored: Vec<(Span, f32)> = spans.iter().map(|s| (s.clone(), 0.5)).collect();
    let dwell = dwelling(&lines, &scored);
    assert!(dwell[point] > 0.4 && dwell[aside] < 0.1, "{dwell:?}");
    assert!(spans[point].score > spans[aside].score, "{spans:?}");
}

#[test]
fn selection_spreads_over_the_episode() {
    let lines: Vec<Line> = (0..40)
        .map(|i| {
            let mut l = line(i / 4, "Guest", POINT, None);
            l.sentence.start = i as f64 * 60.0;
            l.vector = vec![(i as f32 / 7.0).cos(), (i as f32 / 7.0).sin(), 0.0];
            l
        })
        .collect();
    let spans: Vec<Span> = (0..10)
        .map(|t| Span { first: 4 * t, last: 4 * t + 3, key: 4 * t, score: 1.0 - t as f32 * 0.01 })
        .collect();
    let chosen = select(&spans, &lines, 3);
    assert_eq!(chosen.len(), 3);
    assert!(chosen.windows(2).all(|w| w[1] - w[0] >= 2), "not neighbours: {chosen:?}");
}

/// Of two equally scored spans, the one whose subject the talk returns to ten minutes later is
/// chosen; an aside nobody comes back to is not.
#[test]
fn a_subject_the_talk_returns_to_is_chosen_over_an_aside() {
    let subject = vec![1.0, 0.0, 0.0];
    let aside = vec![0.0, 1.0, 0.0];
    let other = vec![0.0, 0.0, 1.0];
    // Spans at 0, 1, 10 and 11 minutes: the aside (1 min) is said once; the subject (0 min)
    // comes back at 10 minutes; 11 minutes is about something else.
    let vectors = [aside.clone(), subject.clone(), subject.clone(), other];
    let minutes = [1.0, 0.0, 10.0, 11.0];
    let lines: Vec<Line> = (0..8)
        .map(|i| {
            let mut l = line(i / 2, "Guest", POINT, None);
            l.sentence.start = minutes[i / 2] * 60.0 + (i % 2) as f64;
            l.vector = vectors[i / 2].clone();
            l
        })
        .collect();
    let spans: Vec<Span> =
        (0..4).map(|t| Span { first: 2 * t, last: 2 * t + 1, key: 2 * t, score: 0.5 }).collect();
    let chosen = select(&spans, &lines, 1);
    assert_eq!(chosen, vec![1], "the recurring subject, not the aside");
}

#[test]
fn an_answer_to_who_are_you_is_an_introduction() {
    let asked = |turn: usize, question: &str| {
        let mut lines = vec![line(turn, "Host", question, None)];
        lines.extend((0..4).map(|_| line(turn + 1, "Guest", POINT, None)));
        lines
    };
    let mut lines = asked(0, "I'm curious, how did you become part of the panel?");
    lines.extend(asked(2, "So why did you move everything into one repository?"));
    assert!(introduces(&lines, 1, 0) && introduces(&lines, 3, 0));
    assert!(!introduces(&lines, 6, 0) && !introduces(&lines, 0, 0));
    let spans = spans(&lines);
    let score = |at: usize| spans.iter().find(|s| s.first == at).map(|s| s.score);
    assert!(score(1).zip(score(6)).is_some_and(|(bio, point)| bio < point), "{spans:?}");
}

#[test]
fn a_short_turn_that_ends_by_asking_sets_up_the_answer() {
    // Host: a point-like preamble, then a question; the guest answers at length.
    let mut lines: Vec<Line> = (0..3).map(|_| line(0, "Host", POINT, None)).collect();
    lines.push(line(0, "Host", "So how far does your tool reach in all of this?", None));
    lines.extend((0..4).map(|_| line(1, "Guest", POINT, None)));
    lines.push(line(2, "Host", "Right?", None));
    let end = lines.len();
    assert!(sets_up(&lines, 0, end), "the host's turn asks, the guest answers");
    assert!(!sets_up(&lines, 4, end), "a tag question is not put to the next speaker");
    // The same preamble before a short reply ("Sure.") keeps its whole score.
    let mut short = lines[..4].to_vec();
    short.push(line(1, "Guest", "Sure.", None));
    let at = |ls: &[Line]| {
        let centroid = vec![1.0, 0.0, 0.0];
        score(ls, (0, 3), (0, ls.len()), 55, &centroid).map(|(s, _)| s.score)
    };
    let (asked, replied) = (at(&lines).expect("span"), at(&short).expect("span"));
    assert!((asked - SETUP * replied).abs() < 1e-6, "{asked} against {replied}");
    // Without speakers a transcript is one turn: no question sets anything up.
    let mut unlabelled = lines.clone();
    unlabelled.iter_mut().for_each(|l| l.sentence.speaker = None);
    assert!(!sets_up(&unlabelled, 0, end));
}
