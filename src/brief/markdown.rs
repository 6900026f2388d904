//! The Markdown brief, the default output: readable as plain text in a terminal and rendered
//! nicely by any Markdown viewer.
//!
//! Every text that comes from a transcript, a title or a file name is escaped, because
//! transcripts are untrusted input: a spoken "# heading", a `[link](…)` in show notes or a
//! `<script>` in a title must stay literal text in a viewer, not become structure or HTML.

use super::{timestamp, Brief, Entry, Related, RelatedKind};

pub(super) fn render(brief: &Brief) -> String {
    let mut lines: Vec<String> = vec![format!("# {}", escape(&brief.title)), String::new()];
    lines.extend(episode_lines(brief));

    if brief.brief.is_empty() {
        lines.push("*No insights were found.*".into());
        lines.push(String::new());
    }
    for entry in &brief.brief {
        entry_lines(entry, &mut lines);
    }
    outline_lines(brief, &mut lines);

    if !brief.rejected.is_empty() {
        lines.push("## Rejected candidates".into());
        lines.push(String::new());
        for r in &brief.rejected {
            lines.push(format!(
                "- {} ({}) — {}",
                escape(&r.claim),
                escape(&r.episode),
                escape(&r.reason)
            ));
        }
        lines.push(String::new());
    }

    lines.push("---".into());
    lines.push(String::new());
    lines.push(footer(brief));
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Each episode's chapters, with the brief's entries under the chapter they come from.
fn outline_lines(brief: &Brief, lines: &mut Vec<String>) {
    let outline = super::outline(brief);
    if outline.is_empty() {
        return;
    }
    lines.push("## Outline".into());
    lines.push(String::new());
    for (episode, chapters) in outline {
        lines.push(format!("### {}", escape(&episode.title)));
        lines.push(String::new());
        for (c, entries) in chapters {
            let note = if c.sponsor { " *(sponsor read)*" } else { "" };
            lines.push(format!("- {} {}{note}", timestamp(c.start), escape(&c.title)));
            for e in entries {
                lines.push(format!("  - {}. {}", e.rank, escape(&e.headline)));
            }
        }
        lines.push(String::new());
    }
}

fn episode_lines(brief: &Brief) -> Vec<String> {
    let mut lines = Vec::new();
    if !brief.episodes.is_empty() {
        let label = if brief.episodes.len() == 1 { "Episode" } else { "Episodes" };
        let list: Vec<String> = brief
            .episodes
            .iter()
            .map(|e| format!("{} ({})", escape(&e.title), timestamp(e.duration)))
            .collect();
        lines.push(format!("{label}: {}", list.join("; ")));
        lines.push(String::new());
    }
    if !brief.interests.is_empty() {
        let list: Vec<String> = brief.interests.iter().map(|i| escape(i)).collect();
        lines.push(format!("Interests: {}", list.join(", ")));
        lines.push(String::new());
    }
    lines
}

fn entry_lines(entry: &Entry, lines: &mut Vec<String>) {
    lines.push(format!("## {}. {}", entry.rank, escape(&entry.headline)));
    lines.push(String::new());
    if !entry.text.trim().is_empty() {
        lines.push(escape(&entry.text));
        lines.push(String::new());
    }
    if !super::quote_is_headline(entry) {
        lines.push(format!("> {}", escape(&entry.quote)));
        // The empty quote line keeps the citation its own paragraph, so a quote that looks like
        // a table header or setext heading cannot combine with it.
        lines.push(">".into());
    }
    lines.push(format!("> {}", escape(&super::citation(entry))));
    lines.push(String::new());
    if !entry.related.is_empty() {
        lines.push("Related:".into());
        lines.push(String::new());
        lines.extend(entry.related.iter().map(related_line));
        lines.push(String::new());
    }
}

fn related_line(r: &Related) -> String {
    let kind = match r.kind {
        RelatedKind::Merged => "merged",
        RelatedKind::Nearby => "nearby",
    };
    format!("- {} ({}, {}, {kind})", escape(&r.text), escape(&r.episode), timestamp(r.start))
}

fn footer(brief: &Brief) -> String {
    let m = &brief.models;
    let asr = match &m.asr {
        Some(asr) => format!("ASR {}", escape(asr)),
        None => "no ASR (transcript input)".into(),
    };
    format!(
        "*Made by podbrief on {} with {asr}, embeddings {} and LLM {}.*",
        escape(&brief.created),
        escape(&m.embed),
        escape(&m.llm)
    )
}

/// Makes one untrusted text safe to place anywhere on a Markdown line, including its start.
///
/// Whitespace runs (newlines included) collapse to one space so the text cannot start new
/// lines of its own; after that only the first character can sit at a line start, so block
/// markers need escaping there alone, which keeps ordinary prose free of backslashes.
pub(super) fn escape(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        match c {
            // Raw HTML and autolinks both need `<`.
            '<' => out.push_str("&lt;"),
            // Only an `&` that could start an entity reference can change the text shown.
            '&' if starts_entity(&chars[i + 1..]) => out.push_str("&amp;"),
            // Emphasis, code spans, strikethrough, links/images/footnotes, and escapes.
            '\\' | '`' | '*' | '_' | '~' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    escape_line_start(&mut out);
    escape_closing_hashes(&mut out);
    out
}

/// Whether the text after an `&` would be read as an entity reference (`amp;`, `#60;`), the
/// only case where a bare `&` changes what a viewer shows; "AT&T" stays as typed.
fn starts_entity(after: &[char]) -> bool {
    let name = after.strip_prefix(&['#']).unwrap_or(after);
    let len = name.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
    len > 0 && name.get(len) == Some(&';')
}

/// Headings, block quotes, lists, setext underlines, fences and tables start with these.
fn escape_line_start(out: &mut String) {
    if out.starts_with(['#', '>', '-', '+', '=', '|']) {
        out.insert(0, '\\');
        return;
    }
    // Ordered list: up to nine digits then `.` or `)`.
    let digits = out.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && matches!(out.as_bytes().get(digits), Some(b'.' | b')')) {
        out.insert(digits, '\\');
    }
}

/// A heading's trailing run of `#` is dropped by Markdown as a closing sequence; escaping the
/// run's first `#` keeps a headline ending in "#" intact.
fn escape_closing_hashes(out: &mut String) {
    let run = out.bytes().rev().take_while(|&b| b == b'#').count();
    if run > 0 && run < out.len() {
        let at = out.len() - run;
        if out.as_bytes()[at - 1] != b'\\' {
            out.insert(at, '\\');
        }
    }
}
