//! Ranking clusters: how much of the conversation supports the point, how specific it is,
//! whether several episodes make it, whether a verified model claim states it, and (when the
//! user names interests) how close it is to them. Filler never gets here: grounding refuses
//! quotes from ads and small talk, and extractive candidates are never filler sentences.

use super::cluster::Cluster;
use super::{dot, Candidate, Line, Origin};

/// Weights of the score parts (documented in the README). Interests, when given, add up to
/// `INTEREST_WEIGHT` on top, so they reorder the brief without letting a vague on-topic line
/// beat a concrete point.
const SUPPORT_WEIGHT: f32 = 0.30;
const SPECIFICITY_WEIGHT: f32 = 0.25;
const EPISODES_WEIGHT: f32 = 0.15;
const QUALITY_WEIGHT: f32 = 0.30;
const INTEREST_WEIGHT: f32 = 0.5;
/// A sentence counts as supporting a claim above this similarity (soft count beyond it).
const SUPPORT_FLOOR: f32 = 0.35;
/// Other clusters at least this close are listed as nearby.
pub const NEARBY_THRESHOLD: f32 = 0.45;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parts {
    pub support: f32,
    pub specificity: f32,
    pub episodes: f32,
    pub interest: f32,
    pub quality: f32,
}

#[derive(Debug, Clone)]
pub struct Ranked {
    pub cluster: Cluster,
    pub score: f32,
    pub parts: Parts,
    /// Other clusters (indices into the ranked list) close to this one, with their similarity.
    pub nearby: Vec<(usize, f32)>,
}

pub fn rank(
    cands: &[Candidate],
    clusters: Vec<Cluster>,
    lines: &[Line],
    interests: &[Vec<f32>],
    n_episodes: usize,
) -> Vec<Ranked> {
    let raw_support: Vec<f32> = clusters
        .iter()
        .map(|k| {
            let rep = &cands[k.representative()];
            let spoken: f32 = lines
                .iter()
                .filter(|l| l.filler.is_none())
                .map(|l| (dot(&rep.vector, &l.vector) - SUPPORT_FLOOR).max(0.0))
                .sum();
            spoken + 0.1 * (k.members.len() - 1) as f32
        })
        .collect();
    let max_support = raw_support.iter().cloned().fold(1e-6, f32::max);
    let mut ranked: Vec<Ranked> = clusters
        .into_iter()
        .zip(raw_support)
        .map(|(cluster, support)| {
            let rep = &cands[cluster.representative()];
            let span = &lines[rep.first..=rep.last];
            let span_score = span.iter().map(|l| l.score).sum::<f32>() / span.len() as f32;
            let mut episodes: Vec<usize> =
                cluster.members.iter().map(|&m| cands[m].episode).collect();
            episodes.sort_unstable();
            episodes.dedup();
            let parts = Parts {
                support: support / max_support,
                specificity: cluster
                    .members
                    .iter()
                    .map(|&m| cands[m].specificity)
                    .fold(0.0, f32::max)
                    .max(span_score),
                episodes: if n_episodes > 1 {
                    (episodes.len() - 1) as f32 / (n_episodes - 1) as f32
                } else {
                    0.0
                },
                interest: interests
                    .iter()
                    .map(|v| ((dot(&rep.vector, v) - 0.1) / 0.4).clamp(0.0, 1.0))
                    .fold(0.0, f32::max),
                quality: if rep.origin == Origin::Llm { 1.0 } else { 0.5 }
                    * (0.5 + 0.5 * span_score),
            };
            let score = SUPPORT_WEIGHT * parts.support
                + SPECIFICITY_WEIGHT * parts.specificity
                + EPISODES_WEIGHT * parts.episodes
                + QUALITY_WEIGHT * parts.quality
                + INTEREST_WEIGHT * parts.interest;
            Ranked { cluster, score, parts, nearby: Vec::new() }
        })
        .collect();
    // A verified write-up ranks above any sentence as it was said: spoken sentences read as
    // fragments next to notes, so they only fill places the model's notes leave empty.
    let tier = |c: &Candidate| u8::from(c.origin != Origin::Llm);
    ranked.sort_by(|a, b| {
        let (ra, rb) = (&cands[a.cluster.representative()], &cands[b.cluster.representative()]);
        tier(ra)
            .cmp(&tier(rb))
            .then(b.score.total_cmp(&a.score))
            .then((ra.episode, ra.first).cmp(&(rb.episode, rb.first)))
    });
    let mut ranked = overlaps_last(ranked, cands);
    for i in 0..ranked.len() {
        let vi = &cands[ranked[i].cluster.representative()].vector;
        let mut near: Vec<(usize, f32)> = (0..ranked.len())
            .filter(|&j| j != i)
            .map(|j| (j, dot(vi, &cands[ranked[j].cluster.representative()].vector)))
            .filter(|&(_, s)| s >= NEARBY_THRESHOLD)
            .collect();
        near.sort_by(|a, b| b.1.total_cmp(&a.1));
        near.truncate(3);
        ranked[i].nearby = near;
    }
    ranked
}

/// `ranked` with every cluster whose quote shares sentences with a higher-ranked one's moved
/// after the rest, in order. Two write-ups of neighbouring spans can quote the same sentences
/// and still fall in different clusters (average linkage weighs their other members); blind
/// readers marked the second as "repeats entry 3's quote".
fn overlaps_last(ranked: Vec<Ranked>, cands: &[Candidate]) -> Vec<Ranked> {
    let (mut kept, mut later): (Vec<Ranked>, Vec<Ranked>) = (Vec::new(), Vec::new());
    for r in ranked {
        let c = &cands[r.cluster.representative()];
        let repeats = kept.iter().any(|k| {
            let o = &cands[k.cluster.representative()];
            o.episode == c.episode && o.first <= c.last && c.first <= o.last
        });
        if repeats {
            later.push(r);
        } else {
            kept.push(r);
        }
    }
    kept.extend(later);
    kept
}
