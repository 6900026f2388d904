//! The model-free grounding rules on small spans.

use super::*;
use crate::chunk::Sentence;

fn lines(texts: &[&str]) -> Vec<Line> {
    texts
        .iter()
        .map(|t| Line {
            episode: 0,
            sentence: Sentence {
                text: (*t).into(),
                speaker: Some("Johnny Boursiquot".into()),
                ..Default::default()
            },
            filler: None,
            specificity: 0.5,
            centrality: 0.5,
            score: 0.5,
            vector: vec![1.0, 0.0],
        })
        .collect()
}

const SPAN: &[&str] = &[
    "Expecting a network boundary to create discipline around your components is the wrong approach.",
    "Infrastructure is not going to make your team more disciplined.",
    "You have to be disciplined within a monolith first.",
];

fn rewrite(headline: &str, note: &str) -> Rewrite {
    Rewrite { headline: headline.into(), note: note.into() }
}

#[test]
fn a_loose_note_is_dropped_and_its_headline_stands_over_the_quote() {
    let l = lines(SPAN);
    let n = Nomination { line: 1, first: 0, last: 2 };
    let faithful = rewrite(
        "Infrastructure will not make a team disciplined",
        "Johnny Boursiquot argues that a network boundary is the wrong approach to \
         discipline: a team has to be disciplined within a monolith first.",
    );
    let (headline, note) = check(&faithful, &n, &l).expect("headline holds");
    assert_eq!(headline, "Infrastructure will not make a team disciplined");
    assert!(note.is_ok(), "{note:?}");
    // "Microservices improve scalability and deployment speed for large organisations" is
    // what small models add: the note goes, the headline stays.
    let loose = rewrite(
        "Discipline comes before infrastructure",
        "Johnny Boursiquot argues that microservices improve scalability and deployment \
         speed for large organisations.",
    );
    let (_, note) = check(&loose, &n, &l).expect("headline holds");
    assert!(note.is_err_and(|e| e.contains("new words")));
}

#[test]
fn a_headline_that_flips_or_invents_rejects_the_whole_rewrite() {
    let l = lines(&["We moved the build into one repository and releases got faster."]);
    let n = Nomination { line: 0, first: 0, last: 0 };
    let flipped = rewrite("Releases did not get faster", "The team moved the build.");
    assert!(check(&flipped, &n, &l).is_err());
    let invented = rewrite("Google moved its build in 2019", "The team moved the build.");
    assert!(check(&invented, &n, &l).is_err());
    let asked = rewrite("Why did releases get faster?", "The team moved the build.");
    assert!(check(&asked, &n, &l).is_err_and(|e| e.contains("question")));
}
