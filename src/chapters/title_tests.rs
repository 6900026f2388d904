use super::*;
use crate::chunk::Sentence;

const SOURCE: &str = "Kubernetes abstracts over compute resources, and that abstraction is why \
                      small teams adopt it too early, before a monolith stops scaling.";

#[test]
fn a_title_in_the_sections_words_passes() {
    assert_eq!(
        checked("Kubernetes abstraction\n", SOURCE).as_deref(),
        Some("Kubernetes abstraction")
    );
    assert_eq!(
        checked("Title: \"Monolith scaling.\"", SOURCE).as_deref(),
        Some("Monolith scaling")
    );
    assert_eq!(checked("Kubernetes", SOURCE).as_deref(), Some("Kubernetes"));
}

#[test]
fn reactions_inventions_prompt_talk_and_essays_fail() {
    for bad in [
        "Yes",
        "Great",
        "Serverless pricing revolution",
        "The podcast episode about Kubernetes",
        "A title for this passage",
        "Kubernetes, abstraction, teams, monolith",
        "Kubernetes abstracts over compute resources and small teams adopt it too early",
        "",
    ] {
        assert_eq!(checked(bad, SOURCE), None, "{bad:?} passed");
    }
}

fn line(text: &str, filler: Option<Filler>, vector: [f32; 2]) -> Line {
    Line {
        episode: 0,
        sentence: Sentence { text: text.into(), ..Default::default() },
        filler,
        specificity: 0.5,
        centrality: 0.5,
        score: 0.5,
        vector: vector.to_vec(),
    }
}

#[test]
fn an_opening_of_greetings_is_the_introduction_and_a_summary_is_quoted_as_said() {
    let lines = vec![
        line("Hello and welcome to the show!", Some(Filler::Chatter), [1.0, 0.0]),
        line("Thanks for having me.", Some(Filler::Chatter), [1.0, 0.0]),
        line(
            "Kubernetes clusters cost a small team more than they save in the first year.",
            None,
            [0.0, 1.0],
        ),
        line("Why is that?", None, [0.0, 1.0]),
        line(
            "Because every cluster needs someone to run its upgrades and its network policies.",
            None,
            [0.6, 0.8],
        ),
        line(
            "Kubernetes upgrades break network policies, and a small team pays for every cluster.",
            None,
            [0.0, 1.0],
        ),
    ];
    assert_eq!(word_title(&lines[..3], &lines), "Introduction");
    // A phrase the section repeats, in its own words.
    let topic = word_title(&lines[2..], &lines);
    let text: Vec<String> = lines[2..].iter().map(|l| l.sentence.text.to_lowercase()).collect();
    assert!(text.iter().filter(|t| t.contains(&topic.to_lowercase())).count() >= 2, "{topic}");
    let summary = summary(&lines[2..]).unwrap();
    assert!(summary.starts_with("Kubernetes"), "a statement closest to the centre: {summary}");
}

#[test]
fn a_request_reads_the_central_sentences_in_order_and_a_second_names_the_titles_before() {
    let lines: Vec<Line> = [
        ("Kubernetes clusters cost a small team more than they save.", [0.15, 1.0]),
        ("We had lunch at the usual place near the office.", [1.0, 0.0]),
        ("Every cluster needs someone to run its upgrades.", [0.1, 1.0]),
        ("Network policies break with each upgrade of the cluster.", [0.05, 1.0]),
        ("A managed platform takes those upgrades off the team.", [0.0, 1.0]),
    ]
    .into_iter()
    .map(|(t, v)| line(t, None, v))
    .collect();
    let order = central(&lines);
    let first = request(&lines, &order, 0, &[]).expect("a first request");
    assert!(first.starts_with("Passage:\nKubernetes clusters") && first.ends_with("Title:"));
    assert!(!first.contains("lunch"), "the aside is not among the central three: {first}");
    assert!(!first.contains("Earlier chapters"));
    let used = vec!["Cluster costs".to_string()];
    let second = request(&lines, &order, 1, &used).expect("the rest of the section");
    assert!(second.contains("Earlier chapters: Cluster costs."), "{second}");
    assert_eq!(request(&lines, &order, 2, &used), None, "five sentences make two requests at most");
}
