//! Distillation checks that need the real embedding model: the merge threshold separates
//! paraphrases from different points, and the model-free stages alone (no LLM) find the
//! specific points of a conversation and leave its filler out.

use std::path::Path;

use candle_core::Device;

use super::cluster::{cluster, DEFAULT_MERGE_THRESHOLD};
use super::*;
use crate::embed::{Embedder, DEFAULT_MODEL};

fn embedder() -> Embedder {
    let weights = crate::models::stored_for_test(DEFAULT_MODEL, "model.safetensors");
    Embedder::load(weights.parent().unwrap_or(Path::new(".")), &Device::Cpu).expect("embedder")
}

fn candidate(episode: usize, first: usize, claim: &str, vector: Vec<f32>) -> Candidate {
    Candidate {
        episode,
        first,
        last: first,
        claim: claim.into(),
        explanation: String::new(),
        quote: claim.into(),
        speaker: None,
        edited: false,
        origin: Origin::Llm,
        grounding: 0.8,
        specificity: 0.5,
        score: 0.5,
        vector,
    }
}

#[test]
fn merge_threshold_joins_paraphrases_across_episodes_and_keeps_distinct_points_apart() {
    let claims = [
        // Three ways to say the same thing, in three episodes.
        "Data centers use about 1.5 percent of the world's electricity, and demand may double by 2030 because of AI.",
        "Server farms already consume around one and a half percent of global power, and artificial intelligence could double that by 2030.",
        "AI could double the electricity demand of data centres by 2030.",
        // The same topic, different points: must stay apart.
        "Solar panel prices fell 90 percent in a decade because of the learning curve.",
        "Two thousand gigawatts of solar and wind projects are waiting in the interconnection queue.",
        "Staying up for seventeen hours impairs judgment about as much as a 0.05 blood alcohol level.",
    ];
    let e = embedder();
    let vectors = e.embed(&claims).expect("embed");
    let cands: Vec<Candidate> = claims
        .iter()
        .zip(vectors)
        .enumerate()
        .map(|(i, (c, v))| candidate(i % 3, 10 * i, c, v))
        .collect();
    let clusters = cluster(&cands, DEFAULT_MERGE_THRESHOLD);
    let mut sets: Vec<Vec<usize>> = clusters
        .into_iter()
        .map(|k| {
            let mut m = k.members;
            m.sort_unstable();
            m
        })
        .collect();
    sets.sort();
    assert_eq!(sets, vec![vec![0, 1, 2], vec![3], vec![4], vec![5]]);
}

fn seg(start: f64, text: &str) -> crate::asr::Segment {
    crate::asr::Segment { start, end: start + 4.0, text: text.into(), ..Default::default() }
}

fn test_episode() -> Episode {
    let segments = vec![
        seg(0.0, "Hey everyone, welcome back to the show. How are you doing?"),
        seg(4.0, "Good, good. It rained all weekend, so I stayed in."),
        seg(8.0, "So a study at Cisco found reviewers catch far fewer defects once a change passes 400 lines."),
        seg(12.0, "Yeah, that's wild."),
        seg(16.0, "This episode is brought to you by Linecraft keyboards, use code COMMIT for 20 percent off."),
        seg(20.0, "About 70 percent of Microsoft's security fixes over 12 years were memory safety bugs."),
        seg(24.0, "Right, right."),
        seg(28.0, "Thanks for listening, and subscribe wherever you get your podcasts."),
    ];
    Episode {
        title: "Test".into(),
        source: "test.srt".into(),
        sha256: String::new(),
        duration: 32.0,
        segments,
        chapters: Vec::new(),
    }
}

fn top_claim(d: &Distilled) -> &str {
    &d.candidates[d.ranked[0].cluster.representative()].claim
}

#[test]
fn without_an_llm_the_specific_points_rank_above_filler() {
    let e = embedder();
    let d = run(
        &[test_episode()],
        Models { embedder: &e, llm: None },
        &[],
        &Options::default(),
        None,
        &Quiet,
    )
    .expect("distill");
    let top: Vec<&str> = d
        .ranked
        .iter()
        .take(2)
        .map(|r| d.candidates[r.cluster.representative()].claim.as_str())
        .collect();
    assert!(top.iter().any(|c| c.contains("400 lines")), "{top:?}");
    assert!(top.iter().any(|c| c.contains("Microsoft")), "{top:?}");
    for r in &d.ranked {
        let c = &d.candidates[r.cluster.representative()].claim;
        assert!(
            !c.contains("Linecraft") && !c.contains("subscribe") && !c.contains("welcome"),
            "{c}"
        );
    }
}

#[test]
fn interests_move_the_closest_point_to_the_top() {
    let e = embedder();
    let rank = |interests: &[&str]| {
        let interests: Vec<String> = interests.iter().map(|s| s.to_string()).collect();
        let models = Models { embedder: &e, llm: None };
        run(&[test_episode()], models, &interests, &Options::default(), None, &Quiet)
            .expect("distill")
    };
    let security = rank(&["software security", "programming languages"]);
    assert!(top_claim(&security).contains("Microsoft"), "{}", top_claim(&security));
    assert!(security.ranked[0].parts.interest > 0.0);
    let review = rank(&["code review practices"]);
    assert!(top_claim(&review).contains("400 lines"), "{}", top_claim(&review));
}
