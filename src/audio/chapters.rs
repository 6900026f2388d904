//! Chapters a publisher already put in the file: ID3v2 `CHAP` frames (ID3v2.3 and 2.4), which
//! is how MP3 podcasts carry them. symphonia skips these frames, and the format is small: a
//! tag header, frames of ID, size and flags, and in each `CHAP` frame the start and end in
//! milliseconds followed by sub-frames, of which `TIT2` is the title.
//!
//! Read from the tag at the start of the file only (where every podcast tool writes it); a
//! file without a tag or without `CHAP` frames has no chapters, and a damaged tag is reported
//! rather than half read.

use std::io::Read;
use std::path::Path;

use super::AudioError;

/// One chapter as the file gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChapter {
    /// Seconds.
    pub start: f64,
    pub end: f64,
    /// `TIT2`, or the element ID when the chapter has no title.
    pub title: String,
}

/// The `CHAP` chapters of an MP3's ID3v2 tag, in time order; empty when there are none.
pub fn id3_chapters(path: &Path) -> Result<Vec<FileChapter>, AudioError> {
    let io = |source| AudioError::Io { path: path.to_path_buf(), source };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut header = [0u8; 10];
    if file.read_exact(&mut header).is_err() || &header[..3] != b"ID3" {
        return Ok(Vec::new());
    }
    let size = synchsafe(&header[6..10]) as usize;
    let mut tag = vec![0u8; size];
    file.read_exact(&mut tag).map_err(io)?;
    let damaged = |what: &str| AudioError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, format!("ID3 tag: {what}")),
    };
    let version = header[3];
    if !(3..=4).contains(&version) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (id, body) in frames(&tag, version).map_err(&damaged)? {
        if id == *b"CHAP" {
            out.push(chapter(body, version).map_err(&damaged)?);
        }
    }
    out.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(out)
}

/// A frame's four-letter ID and its body.
type Frame<'a> = ([u8; 4], &'a [u8]);

/// Each frame in `data`, until padding or the end.
fn frames(data: &[u8], version: u8) -> Result<Vec<Frame<'_>>, &'static str> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 10 <= data.len() && data[at] != 0 {
        let id: [u8; 4] = data[at..at + 4].try_into().map_err(|_| "short frame header")?;
        let raw = &data[at + 4..at + 8];
        let size = if version == 4 {
            synchsafe(raw)
        } else {
            u32::from_be_bytes(raw.try_into().unwrap_or([0; 4]))
        };
        let (start, end) = (at + 10, at + 10 + size as usize);
        let body = data.get(start..end).ok_or("a frame runs past the tag")?;
        out.push((id, body));
        at = end;
    }
    Ok(out)
}

fn chapter(body: &[u8], version: u8) -> Result<FileChapter, &'static str> {
    let nul = body.iter().position(|&b| b == 0).ok_or("CHAP without an element ID")?;
    let element = String::from_utf8_lossy(&body[..nul]).into_owned();
    let times = body.get(nul + 1..nul + 17).ok_or("CHAP without times")?;
    let ms = |i: usize| u32::from_be_bytes([times[i], times[i + 1], times[i + 2], times[i + 3]]);
    let title = frames(&body[nul + 17..], version)?
        .into_iter()
        .find(|(id, _)| id == b"TIT2")
        .and_then(|(_, text)| decode_text(text))
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(element);
    Ok(FileChapter { start: ms(0) as f64 / 1000.0, end: ms(4) as f64 / 1000.0, title })
}

/// An ID3 text frame: an encoding byte (0 Latin-1, 1 UTF-16 with BOM, 2 UTF-16BE, 3 UTF-8),
/// then the text, possibly NUL-terminated.
fn decode_text(frame: &[u8]) -> Option<String> {
    let (&encoding, text) = frame.split_first()?;
    let s = match encoding {
        0 => text.iter().map(|&b| b as char).collect(),
        1 => match text {
            [0xFF, 0xFE, rest @ ..] => utf16(rest, false),
            [0xFE, 0xFF, rest @ ..] => utf16(rest, true),
            _ => utf16(text, true),
        },
        2 => utf16(text, true),
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    Some(s.trim_end_matches('\0').trim().to_string())
}

/// UTF-16 text, big- or little-endian (ID3 frames and MP4 chapter titles both carry it).
pub(super) fn utf16(bytes: &[u8], big: bool) -> String {
    let units: Vec<u16> =
        bytes
            .chunks_exact(2)
            .map(|c| {
                if big {
                    u16::from_be_bytes([c[0], c[1]])
                } else {
                    u16::from_le_bytes([c[0], c[1]])
                }
            })
            .collect();
    String::from_utf16_lossy(&units)
}

fn synchsafe(b: &[u8]) -> u32 {
    b.iter().take(4).fold(0, |n, &x| (n << 7) | u32::from(x & 0x7F))
}

#[cfg(test)]
#[path = "chapters_tests.rs"]
mod tests;
