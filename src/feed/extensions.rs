//! The second pass over a feed's bytes, for what feed-rs does not give us.
//!
//! feed-rs ignores the Podcasting 2.0 namespace (`podcast:transcript`, `podcast:chapters`), and
//! reads `itunes:duration` as media "normal play time", which takes `MM:SS` as a plain number of
//! seconds (`12:34` becomes 12 s). This pass walks the document once with quick-xml and collects
//! those per `<item>`/`<entry>`, in document order, for [`super::parse`] to zip with feed-rs's
//! entries. It also checks that the XML is well formed, which feed-rs's reader is lax about.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, XmlVersion};

use super::TranscriptLink;

/// What one item carries beyond feed-rs's model.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct ItemExtras {
    pub duration: Option<f64>,
    pub transcripts: Vec<TranscriptLink>,
    pub chapters: Option<String>,
}

#[derive(Clone, Copy, PartialEq)]
enum Ns {
    Podcast,
    Itunes,
    Other,
}

/// Walks the whole document; an error is why the XML is not well formed.
pub(super) fn scan(bytes: &[u8]) -> Result<Vec<ItemExtras>, String> {
    let mut reader = NsReader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut items: Vec<ItemExtras> = Vec::new();
    let mut depth = 0usize;
    // Depth of the open item, so nested elements that happen to be called "item" are not items.
    let mut item_depth: Option<usize> = None;
    let mut duration_text: Option<String> = None;
    loop {
        let (ns, event) = match reader.read_resolved_event_into(&mut buf) {
            Ok(x) => x,
            Err(e) => return Err(format!("{e} (near byte {})", reader.error_position())),
        };
        let ns = classify(&ns);
        let is_start = matches!(event, Event::Start(_));
        match &event {
            Event::Start(e) | Event::Empty(e) if item_depth.is_none() => {
                if is_start {
                    depth += 1;
                }
                let local = e.local_name();
                let plain = e.name().prefix().is_none();
                if plain && matches!(local.as_ref(), b"item" | b"entry") {
                    items.push(ItemExtras::default());
                    if is_start {
                        item_depth = Some(depth);
                    }
                }
            }
            Event::Start(e) | Event::Empty(e) => {
                if is_start {
                    depth += 1;
                }
                // `item_depth` is set only after an item was pushed, so this always finds it.
                if let Some(item) = items.last_mut() {
                    match (ns, e.local_name().as_ref()) {
                        (Ns::Podcast, b"transcript") => {
                            if let Some(t) = transcript(e)? {
                                item.transcripts.push(t);
                            }
                        }
                        (Ns::Podcast, b"chapters") if item.chapters.is_none() => {
                            item.chapters = attr(e, b"url")?;
                        }
                        (Ns::Itunes, b"duration") if is_start => {
                            duration_text = Some(String::new());
                        }
                        _ => {}
                    }
                }
            }
            Event::Text(t) => {
                if let Some(text) = duration_text.as_mut() {
                    text.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(text) = duration_text.as_mut() {
                    text.push_str(&t.decode().map_err(|e| e.to_string())?);
                }
            }
            Event::End(_) => {
                if let Some(text) = duration_text.take() {
                    if let Some(item) = items.last_mut() {
                        item.duration = item.duration.or(parse_duration(&text));
                    }
                }
                if item_depth == Some(depth) {
                    item_depth = None;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if depth != 0 {
        return Err(format!("the document ends with {depth} element(s) still open"));
    }
    Ok(items)
}

fn classify(ns: &ResolveResult) -> Ns {
    match ns {
        ResolveResult::Bound(n) => {
            let uri = String::from_utf8_lossy(n.as_ref()).to_ascii_lowercase();
            if uri.contains("podcastindex") || uri.contains("podcast-namespace") {
                Ns::Podcast
            } else if uri.contains("itunes.com/dtds") {
                Ns::Itunes
            } else {
                Ns::Other
            }
        }
        // Feeds that use the conventional prefixes without declaring them are common enough.
        ResolveResult::Unknown(prefix) => match prefix.as_slice() {
            b"podcast" => Ns::Podcast,
            b"itunes" => Ns::Itunes,
            _ => Ns::Other,
        },
        ResolveResult::Unbound => Ns::Other,
    }
}

/// An attribute's value, unescaped and trimmed; `None` when absent or blank.
fn attr(e: &BytesStart, name: &[u8]) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref() == name {
            let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
            let value = value.trim();
            return Ok((!value.is_empty()).then(|| value.to_string()));
        }
    }
    Ok(None)
}

/// `<podcast:transcript url type language>`; `type` is required by the spec, but a missing one
/// is guessed from the URL's extension rather than losing the transcript.
fn transcript(e: &BytesStart) -> Result<Option<TranscriptLink>, String> {
    let Some(url) = attr(e, b"url")? else {
        return Ok(None);
    };
    let mime = match attr(e, b"type")? {
        Some(m) => m,
        None => match mime_from_url(&url) {
            Some(m) => m.to_string(),
            None => return Ok(None),
        },
    };
    Ok(Some(TranscriptLink { url, mime, language: attr(e, b"language")? }))
}

fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "vtt" => "text/vtt",
        "srt" => "application/x-subrip",
        "json" => "application/json",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        _ => return None,
    })
}

/// `itunes:duration`: `SS`, `MM:SS` or `HH:MM:SS`, seconds possibly fractional. Anything else
/// (negative, non-numeric, more than three fields) is `None` rather than a guess.
pub(super) fn parse_duration(text: &str) -> Option<f64> {
    let fields: Vec<&str> = text.trim().split(':').collect();
    if fields.len() > 3 {
        return None;
    }
    let mut total = 0.0;
    let last = fields.len() - 1;
    for (i, field) in fields.iter().enumerate() {
        let field = field.trim();
        let valid = !field.is_empty()
            && field.chars().all(|c| c.is_ascii_digit() || c == '.')
            && (i == last || !field.contains('.'));
        if !valid {
            return None;
        }
        let value: f64 = field.parse().ok()?;
        total = total * 60.0 + value;
    }
    total.is_finite().then_some(total)
}
