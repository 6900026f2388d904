//! Podcast feeds (RSS 2.0, Atom) and OPML subscription lists, parsed from bytes already in hand.
//!
//! Nothing here touches the network: a feed's URLs are only recorded, and [`is_fetchable`] is the
//! gate a later fetcher must pass them through, so that a hostile feed cannot point podbrief at
//! `file:///etc/passwd`. feed-rs does the structural parsing (titles, GUIDs, dates, enclosures);
//! a second, light quick-xml pass (`extensions.rs`) picks up what feed-rs drops or misreads:
//! Podcasting 2.0 transcripts and chapters, and `itunes:duration` in its `MM:SS` form.

mod download;
mod extensions;
pub mod fetch;
mod netpolicy;
pub mod opml;
#[cfg(test)]
mod tests;
pub mod update;

use std::collections::HashSet;

pub use opml::{read_opml, write_opml, OpmlFeed};

/// The largest feed [`parse`] accepts. Real podcast feeds with thousands of episodes stay well
/// under this; anything bigger is more likely a mistake (or an attack) than a feed.
pub const MAX_FEED_BYTES: usize = 10 * 1024 * 1024;

/// A parsed podcast feed.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    pub title: String,
    pub link: Option<String>,
    pub episodes: Vec<FeedEpisode>,
    /// Things that were wrong but not fatal (duplicate GUIDs, ...), for the user to see.
    pub warnings: Vec<String>,
}

/// One item (RSS) or entry (Atom) of a feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEpisode {
    /// Stable identity across fetches: the item's GUID, else its enclosure URL, else its link,
    /// else its title and date.
    pub guid: String,
    /// Trimmed but otherwise untouched: escaping for display is the renderer's job.
    pub title: String,
    /// Unix seconds.
    pub published: Option<i64>,
    /// `None` for text-only items, which are kept so that GUIDs stay comparable across fetches.
    pub enclosure: Option<Enclosure>,
    /// Seconds, from `itunes:duration` (`SS`, `MM:SS` or `HH:MM:SS`).
    pub duration: Option<f64>,
    pub transcripts: Vec<TranscriptLink>,
    /// The `podcast:chapters` URL.
    pub chapters: Option<String>,
}

/// The audio file of an episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Enclosure {
    pub url: String,
    pub mime: Option<String>,
    pub length: Option<u64>,
}

/// A publisher-provided transcript (`podcast:transcript`), which can spare running Whisper.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscriptLink {
    pub url: String,
    /// `text/vtt`, `application/x-subrip`, `application/json`, `text/plain`, `text/html`, ...
    pub mime: String,
    pub language: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("the feed is empty: expected an RSS or Atom document")]
    Empty,
    #[error("the feed is {size} bytes, over the limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("not a valid RSS or Atom feed: {0}")]
    Malformed(String),
    #[error("not a valid OPML document: {0}")]
    InvalidOpml(String),
}

/// True only for `http://` and `https://` URLs (the scheme in any case), the only ones podbrief
/// will ever fetch: feeds are untrusted input and may name local files or other schemes.
pub fn is_fetchable(url: &str) -> bool {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            (scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"))
                && !rest.is_empty()
        }
        None => false,
    }
}

/// Parses an RSS 2.0 or Atom feed (feed-rs also reads RSS 1.0 and JSON Feed).
pub fn parse(bytes: &[u8]) -> Result<Feed, FeedError> {
    parse_with_limit(bytes, MAX_FEED_BYTES)
}

/// [`parse`] with another size limit: the one the user configured for fetched feeds.
pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Feed, FeedError> {
    if bytes.len() > limit {
        return Err(FeedError::TooLarge { size: bytes.len(), limit });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FeedError::Empty);
    }

    // An empty id marks "no GUID in the feed", so the fallbacks below are ours, not feed-rs's
    // hash of link and title (which would change whenever a title is edited).
    let parsed = feed_rs::parser::Builder::new()
        .id_generator(|_, _, _| String::new())
        .sanitize_content(false)
        .build()
        .parse(bytes)
        .map_err(|e| FeedError::Malformed(feed_rs_reason(&e)))?;

    let mut warnings = Vec::new();
    let is_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let extras = if is_json {
        Vec::new()
    } else {
        extensions::scan(bytes).map_err(|e| FeedError::Malformed(one_line(&e)))?
    };
    // Extras are matched to entries by position; if the two passes disagree on how many items
    // there are, attaching them could give one episode another's transcript, so drop them.
    let extras = if extras.len() == parsed.entries.len() {
        extras
    } else {
        if !is_json {
            warnings.push(format!(
                "found {} items but {} sets of podcast extensions; ignoring transcripts, chapters \
                 and durations",
                parsed.entries.len(),
                extras.len()
            ));
        }
        vec![extensions::ItemExtras::default(); parsed.entries.len()]
    };

    let mut seen = HashSet::new();
    let mut episodes = Vec::with_capacity(parsed.entries.len());
    for (entry, extra) in parsed.entries.into_iter().zip(extras) {
        let episode = episode(entry, extra);
        if seen.insert(episode.guid.clone()) {
            episodes.push(episode);
        } else {
            warnings.push(format!(
                "duplicate GUID {:?} (episode {:?}): kept the first, dropped this one",
                episode.guid, episode.title
            ));
        }
    }

    Ok(Feed {
        title: parsed.title.map(|t| t.content.trim().to_string()).unwrap_or_default(),
        link: page_link(&parsed.links),
        episodes,
        warnings,
    })
}

fn episode(entry: feed_rs::model::Entry, extra: extensions::ItemExtras) -> FeedEpisode {
    let title = entry.title.as_ref().map(|t| t.content.trim().to_string()).unwrap_or_default();
    let published = entry.published.or(entry.updated).map(|d| d.timestamp());
    let enclosure = enclosure(&entry);
    let link = page_link(&entry.links);
    let guid = Some(entry.id.trim().to_string())
        .filter(|id| !id.is_empty())
        .or_else(|| enclosure.as_ref().map(|e| e.url.clone()))
        .or_else(|| link.clone())
        .unwrap_or_else(|| format!("{title}|{}", published.unwrap_or(0)));
    let duration = extra
        .duration
        .or_else(|| entry.media.iter().find_map(|m| m.duration).map(|d| d.as_secs_f64()));
    FeedEpisode {
        guid,
        title,
        published,
        enclosure,
        duration,
        transcripts: extra.transcripts,
        chapters: extra.chapters,
    }
}

/// The RSS `<enclosure>` (which feed-rs files under media content), else an Atom
/// `<link rel="enclosure">`. Audio wins over whatever else (video, images) sits beside it.
fn enclosure(entry: &feed_rs::model::Entry) -> Option<Enclosure> {
    let mut candidates: Vec<Enclosure> = entry
        .media
        .iter()
        .flat_map(|m| &m.content)
        .filter_map(|c| {
            Some(Enclosure {
                url: c.url.as_ref()?.to_string(),
                mime: c.content_type.as_ref().map(|m| m.to_string()),
                length: c.size,
            })
        })
        .collect();
    candidates.extend(entry.links.iter().filter(|l| l.rel.as_deref() == Some("enclosure")).map(
        |l| Enclosure {
            url: l.href.trim().to_string(),
            mime: l.media_type.clone(),
            length: l.length,
        },
    ));
    let audio = candidates.iter().position(|c| {
        c.mime.as_deref().is_some_and(|m| m.to_ascii_lowercase().starts_with("audio/"))
    });
    match audio {
        Some(i) => Some(candidates.swap_remove(i)),
        None => candidates.into_iter().next(),
    }
}

/// The web page of a feed or episode: the first plain or `alternate` link.
fn page_link(links: &[feed_rs::model::Link]) -> Option<String> {
    links
        .iter()
        .find(|l| matches!(l.rel.as_deref(), None | Some("alternate")))
        .map(|l| l.href.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// feed-rs's own wording for a missing root ("no root element") reads as if the XML were
/// empty; say what was expected instead.
fn feed_rs_reason(e: &feed_rs::parser::ParseFeedError) -> String {
    use feed_rs::parser::{ParseErrorKind, ParseFeedError};
    match e {
        ParseFeedError::ParseError(ParseErrorKind::NoFeedRoot) => {
            "no <rss>, <feed> or <rdf:RDF> root element (a web page, or not XML at all?)"
                .to_string()
        }
        other => one_line(&other.to_string()),
    }
}

/// Error messages end up on one terminal line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
