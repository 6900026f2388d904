//! Distilled clusters → the typed [`Brief`]: the representative's words, its quote and time,
//! and the members and neighbours that become its related insights.

use crate::brief::{
    self, AdSpan, Brief, Entry, EpisodeInfo, ModelsUsed, Related, RelatedKind, ScoreParts,
};

use super::pipeline::Distilled;
use super::spans::reasons;
use super::{dot, Candidate, Episode, Origin};

/// What the brief says about how it was made, beyond the distilled data.
pub struct Context<'a> {
    pub episodes: &'a [Episode],
    pub interests: &'a [String],
    pub models: ModelsUsed,
    pub top: usize,
    /// Include the rejected candidates (`--explain`).
    pub explain: bool,
    pub created: String,
}

pub fn brief(d: &Distilled, cx: &Context) -> Brief {
    let title_of = |e: usize| cx.episodes.get(e).map(|ep| ep.title.clone()).unwrap_or_default();
    let line_time = |c: &Candidate| (d.lines[c.first].sentence.start, d.lines[c.last].sentence.end);
    let related_of = |c: &Candidate, rep: &Candidate, kind: RelatedKind| {
        let (start, end) = line_time(c);
        Related {
            text: c.claim.clone(),
            quote: c.quote.clone(),
            speaker: c.speaker.clone(),
            episode: title_of(c.episode),
            episode_index: c.episode,
            start,
            end,
            kind,
            similarity: dot(&c.vector, &rep.vector) as f64,
        }
    };
    // Once the LLM has written verified notes, they are the entries and related items: most
    // sentences as said read as fragments beside them. (Every cluster stays in `clusters`.) A
    // sentence that gives its point with its reason ("… got about 90 % cheaper, because every
    // time factory output doubles …") still stands, after the notes (ranking puts notes first),
    // so a rejected note no longer leaves its point out of a short brief. Without any note (no
    // LLM, or none held), every sentence that reads as a point on its own stands.
    let notes_only = d.candidates.iter().any(|c| c.origin == Origin::Llm);
    let shown = |c: &Candidate| !notes_only || c.origin == Origin::Llm || reasons(&c.claim) >= 1;
    let clusters: Vec<Entry> = d
        .ranked
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let rep = &d.candidates[r.cluster.representative()];
            let (start, end) = line_time(rep);
            let mut related: Vec<Related> = Vec::new();
            let mut seen = vec![(rep.episode, rep.first, rep.last)];
            for &m in &r.cluster.members[1..] {
                let c = &d.candidates[m];
                // The same sentences quoted again (overlapping chunks, an extractive twin)
                // add nothing for the reader.
                let twin =
                    seen.iter().any(|&(e, a, b)| e == c.episode && c.first <= b && a <= c.last);
                // Another episode making the same point is shown even as said: it is the
                // evidence that the point recurs.
                if twin || !(shown(c) || c.episode != rep.episode) {
                    continue;
                }
                seen.push((c.episode, c.first, c.last));
                related.push(related_of(c, rep, RelatedKind::Merged));
            }
            for &(j, _) in &r.nearby {
                let other = &d.candidates[d.ranked[j].cluster.representative()];
                if !shown(other) {
                    continue;
                }
                related.push(related_of(other, rep, RelatedKind::Nearby));
            }
            Entry {
                rank: i + 1,
                headline: rep.claim.clone(),
                text: rep.explanation.clone(),
                quote: rep.quote.clone(),
                speaker: rep.speaker.clone(),
                edited: rep.edited,
                episode: title_of(rep.episode),
                episode_index: rep.episode,
                start,
                end,
                score: r.score as f64,
                scores: ScoreParts {
                    support: r.parts.support as f64,
                    specificity: r.parts.specificity as f64,
                    episodes: r.parts.episodes as f64,
                    interest: r.parts.interest as f64,
                    quality: r.parts.quality as f64,
                },
                origin: match rep.origin {
                    Origin::Llm => brief::Origin::Llm,
                    Origin::Extractive => brief::Origin::Extractive,
                },
                related,
            }
        })
        .collect();
    let n_eps = cx.episodes.len();
    Brief {
        version: brief::SCHEMA_VERSION,
        title: if n_eps == 1 {
            format!("Brief: {}", title_of(0))
        } else {
            format!("Brief of {n_eps} episodes")
        },
        created: cx.created.clone(),
        episodes: cx
            .episodes
            .iter()
            .enumerate()
            .map(|(i, e)| EpisodeInfo {
                title: e.title.clone(),
                source: e.source.clone(),
                sha256: e.sha256.clone(),
                duration: e.duration,
                ads: d
                    .ads
                    .get(i)
                    .into_iter()
                    .flatten()
                    .map(|a| AdSpan { start: a.start, end: a.end, sponsor: a.sponsor.clone() })
                    .collect(),
                // Outlines come from the chapters stage, after distillation.
                chapters: Vec::new(),
            })
            .collect(),
        interests: cx.interests.to_vec(),
        models: cx.models.clone(),
        brief: clusters
            .iter()
            .zip(&d.ranked)
            .filter(|(_, r)| shown(&d.candidates[r.cluster.representative()]))
            .map(|(e, _)| e)
            .take(cx.top)
            .cloned()
            .collect(),
        stats: brief::Stats {
            sentences: d.stats.sentences,
            nominated: d.stats.nominated,
            llm_passages: d.stats.llm_passages,
            verified: d.candidates.iter().filter(|c| c.origin == Origin::Llm).count(),
            rejected: d.rejected.len(),
            clusters: clusters.len(),
            seconds: d.stats.seconds.clone(),
        },
        clusters,
        rejected: if cx.explain {
            d.rejected
                .iter()
                .map(|r| brief::Rejected {
                    claim: r.claim.clone(),
                    quote: r.quote.clone(),
                    episode: title_of(r.episode),
                    reason: r.reason.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    }
}

/// The insights a brief of the top `top` entries sends, as (claim, embedding): every member of
/// each sent cluster, not only its representative, so that tomorrow another wording of a point
/// that was merged today is recognised too.
pub fn sent_insights(d: &Distilled, top: usize) -> Vec<(String, Vec<f32>)> {
    d.ranked
        .iter()
        .take(top)
        .flat_map(|r| r.cluster.members.iter())
        .map(|&m| (d.candidates[m].claim.clone(), d.candidates[m].vector.clone()))
        .collect()
}

/// The current time as RFC 3339 UTC, without a date-time dependency for one field.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
