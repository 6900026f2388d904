//! The HTML brief: one self-contained page to open, mail or print.
//!
//! Self-contained means no scripts, no remote fonts, images or style sheets: the page must
//! look the same offline and must not phone home when opened. Everything from a transcript,
//! title, file name or the user's interests is escaped, since transcripts are untrusted.

use super::{timestamp, Brief, Entry, RelatedKind};

/// System font stacks only (no downloads); colours follow the reader's light/dark setting and
/// drop to black on white when printed.
const STYLE: &str = r#"
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fdfdfb; --muted: #5f6368;
  --rule: #d8d8d4; --accent: #8a4b08; --quote-bg: #f3f1ea; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e8e6e1; --bg: #17181a; --muted: #a3a6ab; --rule: #34363a;
    --accent: #e0a15a; --quote-bg: #222326; }
}
* { box-sizing: border-box; }
html { font-size: 100%; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; padding: 2rem 1.25rem 3rem; max-width: 42rem; color: var(--fg);
  background: var(--bg); line-height: 1.6; font-size: 1.0625rem;
  font-family: Charter, "Bitstream Charter", "Sitka Text", Cambria, Georgia, serif; }
h1, h2, h3, .meta, cite, footer, summary { font-family: system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 0.5rem; }
h2 { font-size: 1.2rem; line-height: 1.35; margin: 0 0 0.5rem; }
h3 { font-size: 0.95rem; margin: 1rem 0 0.25rem; color: var(--muted); }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0; }
.rank { color: var(--accent); }
article { padding: 1.5rem 0; border-top: 1px solid var(--rule); break-inside: avoid; }
blockquote { margin: 1rem 0; padding: 0.75rem 1rem; background: var(--quote-bg);
  border-left: 3px solid var(--accent); }
blockquote p { margin: 0 0 0.5rem; font-style: italic; }
cite { font-style: normal; font-size: 0.85rem; color: var(--muted); }
ul { padding-left: 1.25rem; margin: 0.25rem 0; }
li { margin: 0.25rem 0; }
li .meta { display: inline; }
details { margin: 1.5rem 0; }
summary { cursor: pointer; color: var(--muted); }
body > footer { margin-top: 2rem; padding-top: 1rem; border-top: 1px solid var(--rule);
  color: var(--muted); font-size: 0.8rem; }
@media print {
  :root { --fg: #000; --bg: #fff; --muted: #444; --rule: #bbb; --accent: #000;
    --quote-bg: #fff; }
  body { max-width: none; padding: 0; font-size: 11pt; }
  details:not([open]) { display: none; }
}
"#;

pub(super) fn render(brief: &Brief) -> String {
    let title = escape(&brief.title);
    let mut out = String::with_capacity(8192);
    out.push_str("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"podbrief\">\n");
    out.push_str(&format!("<title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"));

    out.push_str(&format!("<header>\n<h1>{title}</h1>\n"));
    if !brief.episodes.is_empty() {
        out.push_str("<p class=\"meta\">");
        out.push_str(if brief.episodes.len() == 1 { "Episode: " } else { "Episodes: " });
        let list: Vec<String> = brief
            .episodes
            .iter()
            .map(|e| {
                format!(
                    "<span title=\"{} · sha256 {}\">{}</span> ({})",
                    escape(&e.source),
                    escape(&e.sha256),
                    escape(&e.title),
                    timestamp(e.duration)
                )
            })
            .collect();
        out.push_str(&list.join("; "));
        out.push_str("</p>\n");
    }
    if !brief.interests.is_empty() {
        let list: Vec<String> = brief.interests.iter().map(|i| escape(i)).collect();
        out.push_str(&format!("<p class=\"meta\">Interests: {}</p>\n", list.join(", ")));
    }
    out.push_str("</header>\n<main>\n");

    if brief.brief.is_empty() {
        out.push_str("<p><em>No insights were found.</em></p>\n");
    }
    for entry in &brief.brief {
        article(entry, &mut out);
    }
    outline(brief, &mut out);
    out.push_str("</main>\n");

    if !brief.rejected.is_empty() {
        out.push_str(&format!(
            "<details>\n<summary>Rejected candidates ({})</summary>\n<ul>\n",
            brief.rejected.len()
        ));
        for r in &brief.rejected {
            out.push_str(&format!(
                "<li>{} <span class=\"meta\">({}): {}</span></li>\n",
                escape(&r.claim),
                escape(&r.episode),
                escape(&r.reason)
            ));
        }
        out.push_str("</ul>\n</details>\n");
    }

    out.push_str(&format!("<footer>{}</footer>\n</body>\n</html>\n", footer(brief)));
    out
}

/// Each episode's chapters, with the brief's entries under the chapter they come from.
fn outline(brief: &Brief, out: &mut String) {
    let outline = super::outline(brief);
    if outline.is_empty() {
        return;
    }
    out.push_str("<section class=\"outline\">\n<h2>Outline</h2>\n");
    for (episode, chapters) in outline {
        out.push_str(&format!("<h3>{}</h3>\n<ul>\n", escape(&episode.title)));
        for (c, entries) in chapters {
            let note = if c.sponsor { " <span class=\"meta\">(sponsor read)</span>" } else { "" };
            out.push_str(&format!(
                "<li><span class=\"meta\">{}</span> {}{note}",
                timestamp(c.start),
                escape(&c.title)
            ));
            if !entries.is_empty() {
                out.push_str("<ul>");
                for e in entries {
                    out.push_str(&format!("<li>{}. {}</li>", e.rank, escape(&e.headline)));
                }
                out.push_str("</ul>");
            }
            out.push_str("</li>\n");
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
}

fn article(entry: &Entry, out: &mut String) {
    out.push_str(&format!(
        "<article id=\"insight-{rank}\">\n<h2><span class=\"rank\">{rank}.</span> {}</h2>\n",
        escape(&entry.headline),
        rank = entry.rank
    ));
    if !entry.text.trim().is_empty() {
        out.push_str(&format!("<p>{}</p>\n", escape(&entry.text)));
    }
    let quote = if super::quote_is_headline(entry) {
        String::new()
    } else {
        format!("<p>{}</p>\n", escape(&entry.quote))
    };
    out.push_str(&format!(
        "<blockquote>\n{quote}<cite>— {}{}, {}{}</cite>\n</blockquote>\n",
        escape(&super::speaker_prefix(entry)),
        escape(&entry.episode),
        time(entry.start),
        super::edited_suffix(entry)
    ));
    if !entry.related.is_empty() {
        out.push_str("<h3>Related</h3>\n<ul>\n");
        for r in &entry.related {
            let kind = match r.kind {
                RelatedKind::Merged => "merged",
                RelatedKind::Nearby => "nearby",
            };
            out.push_str(&format!(
                "<li>{} <span class=\"meta\">({}, {}, {kind})</span></li>\n",
                escape(&r.text),
                escape(&r.episode),
                time(r.start)
            ));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</article>\n");
}

/// A `<time>` element, so the position is machine-readable as an ISO 8601 duration.
pub(super) fn time(secs: f64) -> String {
    let whole = if secs.is_finite() && secs > 0.0 { secs as u64 } else { 0 };
    format!("<time datetime=\"PT{whole}S\">{}</time>", timestamp(secs))
}

pub(super) fn footer(brief: &Brief) -> String {
    let m = &brief.models;
    let asr = match &m.asr {
        Some(asr) => format!("ASR {}", escape(asr)),
        None => "no ASR (transcript input)".into(),
    };
    let s = &brief.stats;
    let seconds: f64 = s.seconds.values().filter(|v| v.is_finite()).sum();
    format!(
        "Made by podbrief on {} with {asr}, embeddings {} and LLM {}.<br>\n{} sentences, {} nominated, \
         {} rewritten by the LLM ({} verified, {} rejected), {} clusters; {:.1} s.",
        escape(&brief.created),
        escape(&m.embed),
        escape(&m.llm),
        s.sentences,
        s.nominated,
        s.llm_passages,
        s.verified,
        s.rejected,
        s.clusters,
        seconds
    )
}

/// The five replacements that make text safe both between tags and inside quoted attributes.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
