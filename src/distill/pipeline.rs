//! The distillation stages in order, timed: sentences and signals → nominations → LLM
//! rewrites → grounding → clusters → ranking.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::embed::Embedder;
use crate::llm::Llm;

use super::ads::AdRead;
use super::rank::{self, Ranked};
use super::{candidates, cluster, ground, prepare, spans};
use super::{Candidate, DistillError, Episode, Line, Options, Progress, Rejection};

/// The models distillation uses. Without an LLM only extractive candidates are made.
pub struct Models<'a> {
    pub embedder: &'a Embedder,
    pub llm: Option<(&'a mut Llm, &'a str)>,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub sentences: usize,
    /// Sentences nominated as insights.
    pub nominated: usize,
    /// Nominations the LLM rewrote (at most `Options::llm_passages`).
    pub llm_passages: usize,
    /// Passages whose reply never parsed.
    pub llm_failed: usize,
    /// Wall seconds per stage.
    pub seconds: BTreeMap<String, f64>,
}

/// Everything distillation found: the ranked clusters and what they refer to.
#[derive(Debug, Clone)]
pub struct Distilled {
    pub lines: Vec<Line>,
    pub candidates: Vec<Candidate>,
    pub rejected: Vec<Rejection>,
    pub ranked: Vec<Ranked>,
    /// Each episode's sponsor reads (their sentences are never insights).
    pub ads: Vec<Vec<AdRead>>,
    pub stats: Stats,
}

pub fn run(
    episodes: &[Episode],
    models: Models,
    interests: &[String],
    opts: &Options,
    cache: Option<&Path>,
    progress: &dyn Progress,
) -> Result<Distilled, DistillError> {
    let mut stats = Stats::default();
    let mut clock = Instant::now();
    let mut lap = |name: &str, stats: &mut Stats| {
        stats.seconds.insert(name.to_string(), clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };
    let (lines, ads) = prepare::lines(episodes, models.embedder, opts, progress)?;
    stats.sentences = lines.len();
    lap("sentences", &mut stats);

    let spans = spans::spans(&lines);
    // Every span's text is joined only when someone reads the trace.
    for s in spans.iter().filter(|_| tracing::enabled!(tracing::Level::TRACE)) {
        let a = &lines[s.first].sentence;
        let text: Vec<&str> =
            lines[s.first..=s.last].iter().map(|l| l.sentence.text.as_str()).collect();
        tracing::trace!(
            "span {}..={} at {:.0}s score {:.3} by {}: {}",
            s.first,
            s.last,
            a.start,
            s.score,
            a.speaker.as_deref().unwrap_or("-"),
            text.join(" ")
        );
    }
    let kept = candidates::nominate(&spans, &lines);
    let noms: Vec<candidates::Nomination> = kept.iter().map(|&i| spans[i].nomination()).collect();
    for &i in &kept {
        let s = &spans[i];
        tracing::debug!(
            "span {}..={} score {:.2}: {}",
            s.first,
            s.last,
            s.score,
            lines[s.key].sentence.text
        );
        // Everything the span choice uses, for replaying it offline (scripts/span-choice.py).
        tracing::trace!("nominated span {}", span_json(&lines, s));
    }
    stats.nominated = noms.len();
    let rewrites = match models.llm {
        Some((llm, name)) if opts.llm_passages > 0 => {
            let kept_spans: Vec<spans::Span> = kept.iter().map(|&i| spans[i].clone()).collect();
            let selected = candidates::select_for_llm(
                &kept_spans,
                &lines,
                opts.llm_passages,
                opts.llm_per_episode,
            );
            stats.llm_passages = selected.len();
            for &i in &selected {
                let s = &kept_spans[i];
                let (a, b) = (&lines[s.first].sentence, &lines[s.last].sentence);
                tracing::debug!(
                    "selected span {}..={} at {:.0}s-{:.0}s score {:.2} by {}: {}",
                    s.first,
                    s.last,
                    a.start,
                    b.end,
                    s.score,
                    a.speaker.as_deref().unwrap_or("-"),
                    lines[s.key].sentence.text
                );
            }
            let (rewrites, failed) =
                candidates::rewrite(llm, name, &lines, &noms, &selected, cache, progress)?;
            stats.llm_failed = failed;
            rewrites
        }
        _ => Vec::new(),
    };
    lap("llm", &mut stats);

    let (cands, mut rejected) = ground::ground(&rewrites, &noms, &lines, models.embedder, opts)?;
    let cands = drop_already_sent(cands, &opts.already_sent, opts.merge_threshold, &mut rejected);
    lap("ground", &mut stats);

    let interest_vecs = if interests.is_empty() {
        Vec::new()
    } else {
        let refs: Vec<&str> = interests.iter().map(String::as_str).collect();
        models.embedder.embed(&refs)?
    };
    let clusters = cluster::cluster(&cands, opts.merge_threshold);
    let ranked = rank::rank(&cands, clusters, &lines, &interest_vecs, episodes.len());
    lap("rank", &mut stats);
    Ok(Distilled { lines, candidates: cands, rejected, ranked, ads, stats })
}

/// Leaves out candidates an earlier brief already carried (see `Options::already_sent`).
fn drop_already_sent(
    cands: Vec<Candidate>,
    sent: &[Vec<f32>],
    threshold: f32,
    rejected: &mut Vec<Rejection>,
) -> Vec<Candidate> {
    if sent.is_empty() {
        return cands;
    }
    let mut kept = Vec::with_capacity(cands.len());
    for c in cands {
        let best = sent.iter().map(|s| super::dot(&c.vector, s)).fold(f32::MIN, f32::max);
        if best >= threshold {
            rejected.push(Rejection {
                episode: c.episode,
                claim: c.claim.clone(),
                quote: c.quote.clone(),
                reason: format!("already in an earlier brief (similarity {best:.2})"),
            });
        } else {
            kept.push(c);
        }
    }
    kept
}

/// A nominated span as `scripts/span-choice.py` reads it from the trace: its text, score, start
/// and mean sentence vector.
fn span_json(lines: &[Line], s: &spans::Span) -> serde_json::Value {
    let span = &lines[s.first..=s.last];
    let text: Vec<&str> = span.iter().map(|l| l.sentence.text.as_str()).collect();
    serde_json::json!({
        "first": s.first, "last": s.last, "score": s.score,
        "start": span[0].sentence.start, "text": text.join(" "), "vector": s.vector(lines),
    })
}
