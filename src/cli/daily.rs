//! `podbrief daily`: update the feeds, then one brief across every episode fetched in the window,
//! leaving out what earlier briefs already said; optionally mailed.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use podbrief::asr::{DecodeOptions, DeviceSpec};
use podbrief::brief::{self, Format};
use podbrief::distill::{assemble, Distilled, Episode};
use podbrief::mail::{self, Mail};
use podbrief::store::library::{self, EpisodeRow, EpisodeState, Library, MediaKind, StoredInsight};
use podbrief::store::Home;

use super::brief::{make_brief, split_interests, BriefSettings};
use super::feeds::Network;
use super::summarize::{self, Bars};
use super::transcribe::OnDemandAsr;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Episodes fetched within this long ago: 24h, 36h, 2d, 1w, 90m.
    #[arg(long, default_value = "24h", value_parser = parse_age)]
    since: u64,
    /// Entries in the brief (default: `top` from the config, else 5).
    #[arg(long)]
    top: Option<usize>,
    /// Topics you care about, comma-separated (default: `interests` from the config).
    #[arg(long)]
    interests: Option<String>,
    /// md, json, or html (email-ready: inline styles only, nothing remote).
    #[arg(short, long, value_enum, default_value = "md")]
    format: Format,
    /// Write the brief here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also mail the brief (HTML with a text alternative) through the configured SMTP server.
    #[arg(long, value_name = "ADDRESS")]
    mail_to: Option<String>,
    /// Use what is already downloaded; do not fetch the feeds first.
    #[arg(long)]
    no_update: bool,
    /// List the candidates left out (grounding, already sent) and why.
    #[arg(long)]
    explain: bool,
    /// cpu, cuda, cuda:N or metal (all models).
    #[arg(long, default_value = "cpu")]
    device: DeviceSpec,
    /// Passages rewritten by the chat model (default: the config's, else 8; 0: no chat model).
    #[arg(long)]
    llm_passages: Option<usize>,
}

/// "24h" → seconds. A bare number is hours.
fn parse_age(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("{s:?} is not an age like 24h, 2d or 90m"))?;
    let unit_secs = match unit.trim() {
        "m" | "min" => 60,
        "" | "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => return Err(format!("unknown unit {other:?}: use m, h, d or w")),
    };
    Ok(n.saturating_mul(unit_secs))
}

pub fn run(args: Args, threads: usize) -> anyhow::Result<ExitCode> {
    let home = Home::from_env();
    let config = super::config::load(&home)?;
    let net = Network::open(&home, &config)?;
    let mut failures = 0;
    if !args.no_update {
        if net.library.feeds()?.is_empty() {
            bail!("no feeds yet: subscribe with `podbrief feeds add URL`");
        }
        failures += net.update(true, false)?;
    }
    let since = library::now().saturating_sub(args.since as i64);
    let rows = net.library.fetched_since(since)?;
    let bars = Bars::new();

    let model = config.models.asr.as_deref();
    let mut asr = OnDemandAsr::new(model, args.device, threads, false);
    let decode = DecodeOptions { threads, ..DecodeOptions::default() };
    let (mut episodes, mut used) = (Vec::new(), Vec::new());
    for row in &rows {
        match episode_of(&home, row, &mut asr, &decode) {
            Ok(ep) => {
                episodes.push(ep);
                used.push(row.id);
            }
            Err(e) => {
                failures += 1;
                let message = super::chain(&e);
                eprintln!(
                    "error: {} — {}: {message}",
                    row.show.as_deref().unwrap_or("?"),
                    row.title
                );
                net.library.set_episode_state(row.id, EpisodeState::Failed, Some(&message))?;
            }
        }
    }
    if episodes.is_empty() {
        eprintln!("nothing new in the last {}; no brief written", age(args.since));
        return Ok(super::finished(failures));
    }

    let interests = match &args.interests {
        Some(i) => split_interests(i),
        None => config.interests.clone(),
    };
    let top = args.top.or(config.top).unwrap_or(5);
    let sent: Vec<Vec<f32>> = net.library.sent_insights()?.into_iter().map(|(_, v)| v).collect();
    let settings = BriefSettings {
        device: args.device,
        embed_model: config.models.embed.as_deref(),
        llm_model: config.models.llm.as_deref(),
        llm_passages: args.llm_passages.or(config.models.llm_passages).unwrap_or(8),
        interests: &interests,
        top,
        explain: args.explain,
        no_cache: false,
        asr: asr.used(),
        already_sent: sent,
        per_episode: false,
    };
    let (mut brief, distilled) = make_brief(&home, &episodes, settings, &bars)?;
    brief.title = format!("Daily brief, {}", &brief.created[..10.min(brief.created.len())]);
    save_insights(&net.library, &distilled, &used)?;
    if brief.brief.is_empty() {
        eprintln!("nothing new: every insight of these episodes was in an earlier brief");
        return Ok(super::finished(failures));
    }

    let body = match args.format {
        Format::Html => brief::render_email(&brief),
        other => brief::render(&brief, other),
    };
    super::write_output(args.output.as_deref(), &body)?;
    if let Some(to) = &args.mail_to {
        let subject = format!("{} ({} insights)", brief.title, brief.brief.len());
        let html = brief::render_email(&brief);
        let text = brief::render(&brief, Format::Md);
        mail::send(&config.smtp, &Mail { to, subject: &subject, html: &html, text: &text })?;
        eprintln!("mailed to {to}");
    }
    // Only a brief that was delivered counts as sent: if writing or mailing failed above,
    // tomorrow's brief may still carry these insights.
    let format_name = format!("{:?}", args.format).to_lowercase();
    net.library.record_brief(&format_name, &body, &assemble::sent_insights(&distilled, top))?;
    for id in used {
        net.library.set_episode_state(id, EpisodeState::Summarized, None)?;
    }
    Ok(super::finished(failures))
}

/// One library episode as the distiller's input: its publisher transcript, or its audio
/// transcribed (from the cache when it was transcribed before). Named "Show — Episode".
fn episode_of(
    home: &Home,
    row: &EpisodeRow,
    asr: &mut OnDemandAsr,
    decode: &DecodeOptions,
) -> anyhow::Result<Episode> {
    let Some((path, kind)) = &row.media else {
        bail!("no downloaded file");
    };
    let mut ep = match kind {
        MediaKind::Transcript => summarize::read_transcript(path)?,
        MediaKind::Audio => {
            let (name, lazy) = asr.get(home)?;
            summarize::audio_episode(home, lazy, name, path, decode)?
        }
    };
    if ep.segments.iter().all(|s| s.text.trim().is_empty()) {
        bail!("no speech or text found");
    }
    ep.title = match &row.show {
        Some(show) => format!("{show} — {}", row.title),
        None => row.title.clone(),
    };
    Ok(ep)
}

/// Keeps every candidate of each episode in the library, for later briefs and merges.
fn save_insights(lib: &Library, d: &Distilled, ids: &[i64]) -> anyhow::Result<()> {
    for (index, &id) in ids.iter().enumerate() {
        let rows: Vec<StoredInsight> = d
            .candidates
            .iter()
            .filter(|c| c.episode == index)
            .map(|c| StoredInsight {
                headline: c.claim.clone(),
                text: c.explanation.clone(),
                quote: c.quote.clone(),
                start: d.lines[c.first].sentence.start,
                end: d.lines[c.last].sentence.end,
                embedding: c.vector.clone(),
            })
            .collect();
        lib.save_insights(id, &rows)?;
    }
    Ok(())
}

fn age(secs: u64) -> String {
    if secs.is_multiple_of(86_400) {
        format!("{}d", secs / 86_400)
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else {
        format!("{}m", secs / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("24h"), Ok(86_400));
        assert_eq!(parse_age("2d"), Ok(172_800));
        assert_eq!(parse_age("90m"), Ok(5400));
        assert_eq!(parse_age("36"), Ok(129_600));
        assert!(parse_age("soon").is_err());
        assert!(parse_age("3y").unwrap_err().contains("unknown unit"));
        assert_eq!((age(86_400), age(7200), age(5400)), ("1d".into(), "2h".into(), "90m".into()));
    }
}
