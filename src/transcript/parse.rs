//! Reading transcripts that already exist (publishers' SRT/WebVTT, Podcasting 2.0 JSON, plain
//! text, or podbrief's own JSON), so an episode that has one skips speech recognition.

use std::path::Path;

use serde_json::Value;

use super::Transcript;
use crate::asr::Segment;

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
}

/// File extensions read as transcripts rather than audio.
pub const EXTENSIONS: &[&str] = &["srt", "vtt", "json", "txt", "md"];

/// Speaking rate used to give plain text (which has no times) approximate timestamps.
pub const PLAIN_TEXT_WPM: f64 = 150.0;

/// Reads a transcript file; the format comes from the extension, then from the content.
pub fn read(path: &Path) -> Result<Transcript, ParseError> {
    let name = path.display().to_string();
    let bytes =
        std::fs::read(path).map_err(|source| ParseError::Io { path: name.clone(), source })?;
    let invalid = |reason: String| ParseError::Invalid { path: name.clone(), reason };
    let text = String::from_utf8(bytes).map_err(|e| {
        invalid(format!("not UTF-8 text (bad byte at offset {})", e.utf8_error().valid_up_to()))
    })?;
    let text = text.trim_start_matches('\u{feff}');
    if text.trim().is_empty() {
        return Err(invalid("the transcript is empty".into()));
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let (segments, kind) = if ext == "json" || text.trim_start().starts_with('{') {
        (json(text).map_err(invalid)?, "json")
    } else if ext == "vtt" || text.starts_with("WEBVTT") {
        (cues(text, true).map_err(invalid)?, "vtt")
    } else if ext == "srt" || looks_like_srt(text) {
        (cues(text, false).map_err(invalid)?, "srt")
    } else {
        (plain(text), "text")
    };
    if segments.is_empty() {
        return Err(invalid(format!("no transcript segments found ({kind})")));
    }
    let source = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(name);
    Ok(Transcript {
        source,
        audio_sha256: crate::store::sha256_bytes(text.as_bytes()),
        model: format!("{kind} transcript"),
        backend: "file".into(),
        duration: segments.iter().map(|s| s.end).fold(0.0, f64::max),
        segments,
    })
}

fn looks_like_srt(text: &str) -> bool {
    text.lines().take(5).any(|l| l.contains("-->") && l.contains(','))
}

/// SRT and WebVTT cues: a time line `start --> end`, then text lines up to a blank line.
fn cues(text: &str, vtt: bool) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((a, b)) = line.split_once("-->") else { continue };
        let start = timestamp(a.trim()).ok_or_else(|| format!("bad time line {line:?}"))?;
        // WebVTT puts cue settings after the end time.
        let end_text = b.split_whitespace().next().unwrap_or("");
        let end = timestamp(end_text).ok_or_else(|| format!("bad time line {line:?}"))?;
        let mut body = Vec::new();
        while let Some(l) = lines.peek() {
            if l.trim().is_empty() {
                break;
            }
            body.push(*l);
            lines.next();
        }
        let (speaker, text) = speaker_and_text(&body.join(" "), vtt);
        if !text.is_empty() {
            out.push(Segment { start, end: end.max(start), text, speaker, ..Segment::default() });
        }
    }
    Ok(out)
}

/// `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm`.
fn timestamp(s: &str) -> Option<f64> {
    let s = s.replace(',', ".");
    let parts: Vec<&str> = s.split(':').collect();
    let nums: Option<Vec<f64>> = parts.iter().map(|p| p.trim().parse::<f64>().ok()).collect();
    let nums = nums?;
    let secs = match nums.as_slice() {
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        [m, s] => m * 60.0 + s,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then_some(secs)
}

/// Speaker from a WebVTT voice tag (`<v Ana>…`) or a leading `NAME:` label; other tags dropped.
fn speaker_and_text(body: &str, vtt: bool) -> (Option<String>, String) {
    let mut speaker = None;
    let mut text = body.trim().to_string();
    if vtt {
        // `<v Name>` or `<v.class Name>`.
        let voice = match text.strip_prefix("<v.") {
            Some(classed) => classed.split_once(' ').map(|(_, r)| r),
            None => text.strip_prefix("<v "),
        };
        if let Some(rest) = voice {
            if let Some((name, after)) = rest.split_once('>') {
                speaker = Some(name.trim().to_string()).filter(|n| !n.is_empty());
                text = after.to_string();
            }
        }
        text = strip_tags(&text);
    }
    if speaker.is_none() {
        if let Some((label, rest)) = text.split_once(": ") {
            let words = label.split_whitespace().count();
            let upper = label.chars().next().is_some_and(char::is_uppercase);
            if (1..=3).contains(&words) && upper && !label.contains(['.', ',', '?', '!']) {
                speaker = Some(label.trim().to_string());
                text = rest.to_string();
            }
        }
    }
    (speaker, text.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    decode_entities(&out)
}

/// Text with its HTML character references decoded (`&#39;` → `'`, `&amp;` → `&`): transcripts
/// exported from web pages carry them (a Practical AI transcript of the Changelog's has
/// `that&#39;s` throughout), and a quote must not. Each `&…;` is decoded on its own, so a
/// stray ampersand ("R&D") or an unknown name stays as written.
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..].find([';', '&', ' ']).map(|e| e + 1).filter(|&e| e <= 10);
        let decoded = end.filter(|&e| rest.as_bytes()[e] == b';').and_then(|e| {
            let named = |name: &str| {
                quick_xml::escape::resolve_predefined_entity(name)
                    .or((name == "nbsp").then_some(" "))
            };
            quick_xml::escape::unescape_with(&rest[..=e], named).ok().map(|d| (e, d))
        });
        match decoded {
            Some((e, d)) => {
                out.push_str(&d);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Podcasting 2.0 JSON (`segments` of `startTime`, `endTime`, `body`, `speaker`), or podbrief's
/// own transcript JSON (`segments` of `start`, `end`, `text`).
fn json(text: &str) -> Result<Vec<Segment>, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let segs = v
        .get("segments")
        .and_then(Value::as_array)
        .ok_or("JSON without a \"segments\" list (expected a Podcasting 2.0 transcript)")?;
    let mut out: Vec<Segment> = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        let num = |a: &str, b: &str| s.get(a).or_else(|| s.get(b)).and_then(Value::as_f64);
        let start = num("startTime", "start").ok_or(format!("segment {i} has no start time"))?;
        let end = num("endTime", "end").unwrap_or(start);
        let body = s.get("body").or_else(|| s.get("text")).and_then(Value::as_str).unwrap_or("");
        let speaker = s.get("speaker").and_then(Value::as_str).map(str::to_string);
        let text = body.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        // Podcasting 2.0 files often hold one word per segment: join runs of one speaker.
        if let Some(prev) = out.last_mut() {
            let short = prev.text.split_whitespace().count() < 30;
            if short
                && prev.speaker == speaker
                && start - prev.end < 1.0
                && !ends_sentence(&prev.text)
            {
                prev.text.push(' ');
                prev.text.push_str(&text);
                prev.end = end.max(prev.end);
                continue;
            }
        }
        out.push(Segment { start, end: end.max(start), text, speaker, ..Segment::default() });
    }
    Ok(out)
}

fn ends_sentence(t: &str) -> bool {
    t.ends_with(['.', '?', '!'])
}

/// Plain text and Markdown transcripts, as publishers post them: one segment per paragraph;
/// a `**Name:**` or `Name:` label makes a turn, and once a text has used labels, a paragraph
/// without one continues the last speaker. Markdown escapes and emphasis are undone and
/// bracketed tags (`[laughter]`, `[inaudible]`) dropped. Text is timed at PLAIN_TEXT_WPM; a
/// `[HH:MM:SS]` marker pins the clock, and the paragraphs since the previous marker are
/// stretched or squeezed to meet it, so times never run backwards.
fn plain(text: &str) -> Vec<Segment> {
    let mut t = 0.0;
    let mut out: Vec<Segment> = Vec::new();
    // (segment index, time its start is pinned to)
    let mut pins: Vec<(usize, f64)> = vec![(0, 0.0)];
    let mut last_speaker: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.chars().all(|c| "-*_=".contains(c)) {
            continue;
        }
        let line = unescape_markdown(&decode_entities(line));
        let (label, rest) = match bold_label(&line) {
            Some((name, rest)) => (Some(name), rest.to_string()),
            None => speaker_and_text(&line, false),
        };
        let (marker, words_before, text) = drop_brackets(&rest);
        if text.is_empty() {
            continue;
        }
        let speaker = match label {
            Some(name) => {
                last_speaker = Some(name.clone());
                Some(name)
            }
            None => last_speaker.clone(),
        };
        let per_word = 60.0 / PLAIN_TEXT_WPM;
        let start = marker.map_or(t, |m| (m - words_before as f64 * per_word).max(0.0));
        if marker.is_some() && start >= pins.last().map_or(0.0, |p| p.1) {
            pins.push((out.len(), start));
            let [(a, ta), (b, tb)] = [pins[pins.len() - 2], pins[pins.len() - 1]];
            rescale(&mut out[a..b], ta, tb);
        }
        let start = pins.last().filter(|p| p.0 == out.len()).map_or(t, |p| p.1);
        let end = start + text.split_whitespace().count() as f64 * per_word;
        out.push(Segment { start, end, text, speaker, ..Segment::default() });
        t = end;
    }
    out
}

/// Maps the times of `segs` (which run from `segs[0].start` to the last end) linearly onto
/// `from..to`.
fn rescale(segs: &mut [Segment], from: f64, to: f64) {
    let (Some(first), Some(last)) = (segs.first(), segs.last()) else { return };
    let (a, b) = (first.start, last.end);
    let k = if b > a { (to - from) / (b - a) } else { 0.0 };
    for s in segs {
        s.start = from + (s.start - a) * k;
        s.end = from + (s.end - a) * k;
    }
}

/// `\[`, `\*`, `\_`… → the character itself.
fn unescape_markdown(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('\\', Some(n)) if n.is_ascii_punctuation() => {
                out.push(*n);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

/// `**Name:** text` or `__Name:__ text` (the colon inside or outside the emphasis).
fn bold_label(line: &str) -> Option<(String, &str)> {
    let mark = ["**", "__"].into_iter().find(|m| line.starts_with(m))?;
    let inner = &line[mark.len()..];
    let close = inner.find(mark)?;
    let label = inner[..close].trim().trim_end_matches(':').trim();
    let rest = inner[close + mark.len()..].trim_start();
    let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
    let plausible = !label.is_empty()
        && label.split_whitespace().count() <= 4
        && (inner[..close].trim_end().ends_with(':')
            || inner[close + mark.len()..].starts_with(':'));
    plausible.then(|| (label.to_string(), rest))
}

/// Removes bracketed tags; returns the first `[HH:MM:SS(.ff)]` time marker found, how many
/// words preceded it, and the remaining text with whitespace normalised.
fn drop_brackets(text: &str) -> (Option<f64>, usize, String) {
    let mut marker = None;
    let mut words_before = 0;
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find(']').map(|c| open + c) else { break };
        kept.push_str(&rest[..open]);
        kept.push(' ');
        let inside = rest[open + 1..close].trim();
        if marker.is_none() {
            if let Some(secs) = timestamp(inside) {
                marker = Some(secs);
                words_before = kept.split_whitespace().count();
            }
        }
        rest = &rest[close + 1..];
    }
    kept.push_str(rest);
    (marker, words_before, kept.split_whitespace().collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
