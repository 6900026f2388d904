//! Chapters as files: the Podcasting 2.0 JSON that podcast apps and `podcast:chapters` feeds
//! read as is, YouTube-style `MM:SS Title` lines, and a Markdown outline with summaries; and
//! the same JSON read back, when a publisher's chapters sit beside an episode.

use serde_json::json;

use super::Chapter;
use crate::audio::chapters::FileChapter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Podcasting 2.0 chapters (`{"version": "1.2.0", "chapters": [...]}`).
    Json,
    /// A Markdown outline: time, title and summary per chapter.
    Md,
    /// `MM:SS Title` lines (`H:MM:SS` past an hour), as video descriptions take them.
    Txt,
}

impl Format {
    /// The file name ending `-o DIR` writes.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "chapters.json",
            Format::Md => "chapters.md",
            Format::Txt => "chapters.txt",
        }
    }
}

/// `chapters` of the episode called `title` in `format`.
pub fn render(title: &str, chapters: &[Chapter], format: Format) -> String {
    match format {
        Format::Json => json(title, chapters),
        Format::Md => markdown(title, chapters),
        Format::Txt => {
            chapters.iter().map(|c| format!("{} {}\n", clock(c.start), c.title)).collect()
        }
    }
}

/// Podcasting 2.0 chapters 1.2.0: `startTime` and `title` per chapter (times in seconds,
/// rounded to tenths), `endTime` too, and `toc: false` for sponsor reads so apps can leave
/// them out of the table of contents.
fn json(title: &str, chapters: &[Chapter]) -> String {
    let tenth = |t: f64| (t * 10.0).round() / 10.0;
    let list: Vec<serde_json::Value> = chapters
        .iter()
        .map(|c| {
            let mut v =
                json!({"startTime": tenth(c.start), "endTime": tenth(c.end), "title": c.title});
            if c.ad.is_some() {
                v["toc"] = json!(false);
            }
            v
        })
        .collect();
    let doc = json!({"version": "1.2.0", "title": title, "chapters": list});
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn markdown(title: &str, chapters: &[Chapter]) -> String {
    let mut s = format!("# {}\n\n", title.trim());
    for c in chapters {
        s.push_str(&format!("- **{}** {}", clock(c.start), c.title));
        if let Some(summary) = &c.summary {
            s.push_str(&format!(": “{summary}”"));
        }
        s.push('\n');
    }
    s
}

/// Podcasting 2.0 chapters as a publisher serves them (`podcast:chapters`), as chapter
/// times and titles: a chapter without `endTime` ends where the next starts, and one marked
/// `"toc": false` is kept (it is still a chapter, only a silent one).
pub fn read_json(text: &str) -> Result<Vec<FileChapter>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Doc {
        chapters: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        start_time: f64,
        end_time: Option<f64>,
        #[serde(default)]
        title: String,
    }
    let mut items = serde_json::from_str::<Doc>(text)?.chapters;
    items.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
    let starts: Vec<f64> = items.iter().map(|c| c.start_time).collect();
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(i, c)| FileChapter {
            start: c.start_time,
            end: c.end_time.or(starts.get(i + 1).copied()).unwrap_or(c.start_time),
            title: c.title,
        })
        .collect())
}

/// `MM:SS`, or `H:MM:SS` from an hour on.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
