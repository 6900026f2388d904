//! Deduplication: the same point made twice (in overlapping chunks, later in the same
//! conversation, or in another episode or show, in other words) becomes one cluster.
//! Average-linkage agglomerative clustering over claim embeddings: a cluster grows only while
//! its members are, on average, as close as paraphrases are, so a chain of loosely related
//! claims does not collapse into one. Candidates quoting the same sentence always merge.

use super::{dot, Candidate, Origin};

/// Average cosine similarity at which two clusters are the same insight. Paraphrases of one
/// point in all-MiniLM-L6-v2 score about 0.6–0.9, different points on one topic 0.15–0.35
/// (`tests.rs`); the evaluation set's cross-episode duplicates scored 0.6–0.75.
pub const DEFAULT_MERGE_THRESHOLD: f32 = 0.55;

/// Candidate indices, the representative first.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub members: Vec<usize>,
}

impl Cluster {
    pub fn representative(&self) -> usize {
        self.members[0]
    }
}

/// Sentences apart within which two related claims of one episode are one point developed
/// over a few sentences ("Solar fell 90 %. … It follows a learning curve.").
const NEAR_LINES: usize = 3;
/// What being that close adds to their similarity: related (≥ 0.35) neighbours merge,
/// unrelated ones (≈ 0.1–0.2) do not.
const NEAR_BONUS: f32 = 0.2;

fn similarity(a: &Candidate, b: &Candidate) -> f32 {
    let s = dot(&a.vector, &b.vector);
    if a.episode != b.episode {
        return s;
    }
    if a.first <= b.last && b.first <= a.last {
        1.0
    } else if a.first.abs_diff(b.last).min(b.first.abs_diff(a.last)) <= NEAR_LINES {
        (s + NEAR_BONUS).min(1.0)
    } else {
        s
    }
}

pub fn cluster(cands: &[Candidate], threshold: f32) -> Vec<Cluster> {
    let n = cands.len();
    let sim: Vec<Vec<f32>> =
        (0..n).map(|i| (0..n).map(|j| similarity(&cands[i], &cands[j])).collect()).collect();
    let mut groups: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for a in 0..groups.len() {
            for b in a + 1..groups.len() {
                let total: f32 = groups[a]
                    .iter()
                    .flat_map(|&i| groups[b].iter().map(move |&j| (i, j)))
                    .map(|(i, j)| sim[i][j])
                    .sum();
                let avg = total / (groups[a].len() * groups[b].len()) as f32;
                if avg >= threshold && best.is_none_or(|(s, _, _)| avg > s) {
                    best = Some((avg, a, b));
                }
            }
        }
        let Some((_, a, b)) = best else { break };
        let merged = groups.swap_remove(b);
        groups[a].extend(merged);
    }
    groups
        .into_iter()
        .map(|mut members| {
            // A verified note speaks for its cluster before any sentence as said.
            let tier = |i: usize| u8::from(cands[i].origin != Origin::Llm);
            members.sort_by(|&a, &b| {
                tier(a)
                    .cmp(&tier(b))
                    .then(strength(&cands[b]).total_cmp(&strength(&cands[a])))
                    .then(a.cmp(&b))
            });
            Cluster { members }
        })
        .collect()
}

/// Which member speaks for a cluster: the most specific and central sentence, a verified
/// rewrite of it before the raw sentence. ("If someone sends me 2,000 lines…" must not speak
/// for "reviewers find far fewer defects past 400 lines".)
fn strength(c: &Candidate) -> f32 {
    let origin = if c.origin == Origin::Llm { 0.2 } else { 0.0 };
    c.specificity + 0.5 * c.score + origin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cand(episode: usize, first: usize, vector: Vec<f32>, origin: Origin) -> Candidate {
        let n = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        Candidate {
            episode,
            first,
            last: first,
            claim: String::new(),
            explanation: String::new(),
            quote: String::new(),
            speaker: None,
            edited: false,
            origin,
            grounding: 0.7,
            specificity: 0.5,
            score: 0.5,
            vector: vector.iter().map(|x| x / n).collect(),
        }
    }

    #[test]
    fn close_claims_and_shared_quotes_merge_and_distinct_ones_do_not() {
        let c = [
            cand(0, 3, vec![1.0, 0.1, 0.0], Origin::Extractive),
            cand(1, 9, vec![1.0, 0.2, 0.1], Origin::Llm), // paraphrase in another episode
            cand(0, 3, vec![0.8, 0.0, 0.6], Origin::Llm), // same quote as 0, other wording
            cand(0, 20, vec![0.0, 1.0, 0.0], Origin::Llm), // another point
        ];
        let clusters = cluster(&c, DEFAULT_MERGE_THRESHOLD);
        assert_eq!(clusters.len(), 2, "{clusters:?}");
        let big = clusters.iter().find(|k| k.members.len() == 3).expect("merged cluster");
        // A model claim represents the cluster, not the raw sentence.
        assert_ne!(big.representative(), 0);
        assert!(clusters.iter().any(|k| k.members == [3]));
    }
}
