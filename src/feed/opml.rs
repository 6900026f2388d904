//! OPML subscription lists: how podcast apps import and export the feeds a listener follows.

use quick_xml::escape::escape;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use super::FeedError;

/// One subscription: a feed URL and the name to show for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlFeed {
    pub title: String,
    pub url: String,
}

/// Every `<outline>` with an `xmlUrl`, at any depth (apps nest them in folders), in document
/// order. The name is `title`, else `text`, else the URL itself.
pub fn read_opml(bytes: &[u8]) -> Result<Vec<OpmlFeed>, FeedError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::InvalidOpml("the document is empty".into()));
    }
    let invalid = |e: String| FeedError::InvalidOpml(e);
    let mut reader = Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut feeds = Vec::new();
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => return Err(invalid(format!("{e} (near byte {})", reader.error_position()))),
        };
        let (e, is_start) = match &event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                buf.clear();
                continue;
            }
            Event::Eof => break,
            _ => {
                buf.clear();
                continue;
            }
        };
        if depth == 0 {
            if !e.local_name().as_ref().eq_ignore_ascii_case(b"opml") {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(invalid(format!("the root element is <{name}>, not <opml>")));
            }
            saw_root = true;
        } else if e.local_name().as_ref().eq_ignore_ascii_case(b"outline") {
            if let Some(url) = attr(e, "xmlUrl").map_err(invalid)? {
                let title = match attr(e, "title").map_err(invalid)? {
                    Some(t) => t,
                    None => attr(e, "text").map_err(invalid)?.unwrap_or_else(|| url.clone()),
                };
                feeds.push(OpmlFeed { title, url });
            }
        }
        if is_start {
            depth += 1;
        }
        buf.clear();
    }
    if !saw_root {
        return Err(invalid("no <opml> element".into()));
    }
    if depth != 0 {
        return Err(invalid(format!("the document ends with {depth} element(s) still open")));
    }
    Ok(feeds)
}

/// An OPML 2.0 document listing `feeds`, one flat `<outline type="rss">` each.
pub fn write_opml(feeds: &[OpmlFeed]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n    \
         <title>podbrief subscriptions</title>\n  </head>\n  <body>\n",
    );
    for feed in feeds {
        let title = escape(feed.title.as_str());
        out.push_str(&format!(
            "    <outline type=\"rss\" text=\"{title}\" title=\"{title}\" xmlUrl=\"{}\"/>\n",
            escape(feed.url.as_str())
        ));
    }
    out.push_str("  </body>\n</opml>\n");
    out
}

/// An attribute's unescaped, trimmed value, matched case-insensitively (exporters disagree on
/// `xmlUrl` versus `xmlurl`); `None` when absent or blank.
fn attr(e: &BytesStart, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        if a.key.local_name().as_ref().eq_ignore_ascii_case(name.as_bytes()) {
            let value = a.normalized_value(XmlVersion::Implicit1_0).map_err(|e| e.to_string())?;
            let value = value.trim();
            return Ok((!value.is_empty()).then(|| value.to_string()));
        }
    }
    Ok(None)
}
