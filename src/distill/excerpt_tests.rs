use super::*;
use crate::chunk::Sentence;

fn line(text: &str, vector: Vec<f32>) -> Line {
    Line {
        episode: 0,
        sentence: Sentence { text: text.into(), ..Default::default() },
        filler: None,
        specificity: 0.5,
        centrality: 0.5,
        score: 0.5,
        vector,
    }
}

#[test]
fn the_excerpt_is_the_run_that_carries_the_claim_and_skips_questions() {
    let lines = vec![
        line("What do you think about the weather these days, honestly?", vec![1.0, 0.0]),
        line("We ran the whole build in one repository for three years.", vec![0.0, 1.0]),
        line("Releases took a day instead of a week because nothing waited.", vec![0.1, 1.0]),
        line("Anyway, I had a sandwich that afternoon, which was nice enough.", vec![1.0, 0.1]),
    ];
    let claim = [0.0, 1.0];
    assert_eq!(excerpt(&lines, 0, 3, &claim), (1, 2));
    assert!(text(&lines, (1, 2), &[]).starts_with("We ran"));
}

#[test]
fn a_quote_drops_a_stray_opening_and_short_asides() {
    let mut lines = vec![
        line("If you stretch it over regions, it is not distributed anymore.", vec![1.0, 0.0]),
        line("Using HTTP with sidecars and proxies everywhere is madness today.", vec![0.0, 1.0]),
        line("That was November.", vec![1.0, 0.1]),
        line("Messages need no load balancer, because the system routes them.", vec![0.2, 1.0]),
        line("Stuff like that.", vec![1.0, 0.0]),
    ];
    lines.iter_mut().for_each(|l| l.sentence.turn = 1);
    let claim = [0.0, 1.0];
    // The run with the most to say opens on the end of another thought, which goes.
    assert_eq!(trim_lead(&lines, (0, 4), &claim, |_, _| true), (1, 4));
    // Unless what would open the quote then leans on what came before.
    lines[1].sentence.text = "It is madness to use HTTP with sidecars and proxies.".into();
    assert_eq!(trim_lead(&lines, (0, 4), &claim, |_, _| true), (0, 4));
    // Short asides far from the claim are left out, marked where words follow them.
    // The last sentence stays: a short one may finish the point ("In a step, in a file.").
    let skip = asides(&lines, (1, 4), &claim);
    assert_eq!(skip, vec![2]);
    let quoted = text(&lines, (1, 4), &skip);
    assert!(quoted.contains("proxies. […] Messages need"), "{quoted}");
    assert!(quoted.ends_with("them. Stuff like that."), "{quoted}");
    // Never one that negates: leaving out "It doesn't." would flip what is said.
    lines[2].sentence.text = "It doesn't, though.".into();
    assert!(asides(&lines, (1, 4), &claim).is_empty());
}

#[test]
fn a_failed_note_finds_the_run_of_its_span_that_stands_alone() {
    let lines = vec![
        line("Because at the end of the day, nobody splits services for fun.", vec![0.0, 1.0]),
        line("It was about flexibility, and shipping faster.", vec![0.2, 1.0]),
        line("Small teams should keep one repository because the overhead wins.", vec![0.3, 1.0]),
        line("That overhead costs them months of YAML instead of features.", vec![1.0, 0.3]),
    ];
    let claim = [0.0, 1.0];
    let closest = excerpt(&lines, 0, 3, &claim);
    assert!(!stands_alone(&lines, closest.0, closest.1), "{closest:?}");
    let run = standing(&lines, 0, 3, &claim).expect("a run that stands alone");
    assert!(stands_alone(&lines, run.0, run.1) && run.0 == 2, "{run:?}");
    assert_eq!(standing(&lines, 0, 1, &claim), None, "no run of the first two stands alone");
}

#[test]
fn the_quote_may_go_on_into_the_rest_of_the_turn_for_its_reason() {
    let mut lines = vec![
        line("We split the billing service out of the monolith last year.", vec![0.0, 1.0]),
        line("It had to scale on its own, because invoices spike at month end.", vec![0.1, 1.0]),
        line("What did that cost you in operations, would you say?", vec![1.0, 0.0]),
    ];
    for l in &mut lines[..2] {
        l.sentence.speaker = Some("Johnny".into());
        l.sentence.turn = 1;
    }
    lines[2].sentence.speaker = Some("Mat".into());
    lines[2].sentence.turn = 2;
    // The span is the first paragraph; the reason is the turn's next one.
    assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 1));
    // Never into the next speaker's turn, and never without speakers to tell turns apart.
    assert_eq!(turn_end(&lines, 1), 1);
    lines.iter_mut().for_each(|l| l.sentence.speaker = None);
    assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 0));
}

#[test]
fn a_sentence_broken_off_mid_clause_is_finished_and_joined_as_is() {
    let mut lines = vec![
        line("Moment is still large, because of all the timezone data it has", vec![0.0, 1.0]),
        line("to hold in memory for every calendar.", vec![1.0, 0.0]),
    ];
    lines[1].sentence.turn = lines[0].sentence.turn;
    let run = excerpt(&lines, 0, 0, &[0.0, 1.0]);
    assert_eq!(run, (0, 1));
    assert!(text(&lines, run, &[]).ends_with("data it has to hold in memory for every calendar."));
    // The splitter capitalises a piece it cut off; joined back, it reads in lower case.
    lines[1].sentence.text = "And it has to hold all of it in memory.".into();
    assert!(text(&lines, run, &[]).ends_with("data it has and it has to hold all of it in memory."));
    lines[1].sentence.text = "Google has to hold it in memory.".into();
    assert!(text(&lines, run, &[]).ends_with("data it has Google has to hold it in memory."));
}

#[test]
fn a_quote_that_announces_a_reason_goes_on_to_give_it() {
    let mut lines = vec![
        line(
            "It's trendy to have microservices, but there's a reason why you break up a monolith...",
            vec![0.0, 1.0],
        ),
        line("One of the reasons being to scale the busiest piece on its own.", vec![1.0, 0.0]),
        line("Anyway, that's enough from me about monoliths and services.", vec![1.0, 0.0]),
    ];
    lines.iter_mut().for_each(|l| l.sentence.turn = 1);
    assert_eq!(excerpt(&lines, 0, 2, &[0.0, 1.0]), (0, 1));
    assert!(announces("The thing is:") && announces("Here's the thing, you know..."));
    assert!(!announces("For example, we shard by customer."));
    assert!(!announces("The reason why it failed is that nobody owned the service."));
    // Not into another speaker's turn.
    lines[1].sentence.turn = 2;
    assert_eq!(excerpt(&lines, 0, 0, &[0.0, 1.0]), (0, 0));
}

#[test]
fn a_quote_that_points_back_takes_in_the_sentence_it_points_at() {
    let mut lines = vec![
        line("What about the runners themselves, are they enough for it?", vec![1.0, 0.0]),
        line("We want a Docker engine that stays up across every CI run.", vec![0.3, 1.0]),
        line("Maybe even more, because the runners only have two CPUs.", vec![0.1, 1.0]),
        line("Mounting volumes in runners breaks now and then, so we stopped.", vec![0.2, 1.0]),
    ];
    lines.iter_mut().enumerate().for_each(|(i, l)| l.sentence.turn = (i > 0) as usize);
    let claim = [0.0, 1.0];
    assert_eq!(lead_in(&lines, (2, 3), &claim), 1);
    // Never into another speaker's turn or a question, never far from the claim.
    lines[1].sentence.text = "That is why we want a Docker engine that stays up.".into();
    assert_eq!(lead_in(&lines, (2, 3), &claim), 1);
    lines[1].vector = vec![1.0, 0.0];
    assert_eq!(lead_in(&lines, (2, 3), &claim), 2);
    // A quote that opens a thought stays as it is.
    lines[1].vector = vec![0.3, 1.0];
    lines[2].sentence.text = "The runners only have two CPUs, so a shared engine helps.".into();
    assert_eq!(lead_in(&lines, (2, 3), &claim), 2);
}
