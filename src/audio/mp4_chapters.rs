//! Chapters a publisher put in an MP4 (`.m4a`, `.m4b`, `.mp4`): symphonia reads neither kind.
//!
//! Two kinds exist, and tools usually write both (ffmpeg does; Apple's tools write the first):
//! - **QuickTime chapter track**: a text track that the audio track names in `tref/chap`. Each
//!   of its samples is one chapter title (a 16-bit length, then UTF-8 or BOM-marked UTF-16
//!   text), and its sample times are the chapter starts. Reading it takes the sample tables
//!   (`stts`, `stsc`, `stsz`, `stco`/`co64`) and a short read per title from the media data.
//! - **Nero chapters**: `moov/udta/chpl`, a list of start times (100 ns units) and titles.
//!
//! The QuickTime track wins when both are there, since it is the one players show. Only the
//! `moov` box and the title samples are read, never the audio; a damaged box is reported rather
//! than half read, and a file without either kind simply has no chapters.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use super::chapters::FileChapter;
use super::mp4_edit::{find_child, MAX_BOXES};
use super::AudioError;

/// `moov` is small (sample tables and metadata); anything larger is not a real podcast file.
const MAX_MOOV: u64 = 64 << 20;
/// A chapter title sample is a short string; the read is capped in case a table is wrong.
const MAX_TITLE: u32 = 4096;

/// The chapters of an MP4, in time order; empty when it has none.
pub fn mp4_chapters(path: &Path) -> Result<Vec<FileChapter>, AudioError> {
    let io = |source| AudioError::Io { path: path.to_path_buf(), source };
    let damaged = |what: &str| AudioError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("MP4 chapters: {what}"),
        ),
    };
    let mut file = File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let Some(moov) = read_moov(&mut file, len).map_err(io)? else {
        return Ok(Vec::new());
    };
    let duration = movie_seconds(&moov);
    let mut list = match quicktime(&moov, &mut file).map_err(&damaged)? {
        Some(list) if !list.is_empty() => list,
        _ => nero(&moov).map_err(&damaged)?,
    };
    list.sort_by(|a, b| a.start.total_cmp(&b.start));
    for i in 0..list.len() {
        let next = list.get(i + 1).map(|c| c.start).or(duration);
        if let Some(end) = next.filter(|&e| e > list[i].start) {
            list[i].end = end;
        }
    }
    Ok(list)
}

/// The body of the top-level `moov` box, found by walking box headers (never reading `mdat`).
fn read_moov(file: &mut File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut budget = MAX_BOXES;
    let Some((start, end)) = find_child(file, 0, len, b"moov", 0, &mut budget) else {
        return Ok(None);
    };
    if end - start > MAX_MOOV {
        return Ok(None);
    }
    let mut body = vec![0u8; (end - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut body)?;
    Ok(Some(body))
}

/// The child boxes of `data`: (type, body). Stops at the first header that does not fit.
fn boxes(data: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size =
            u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        let kind = [data[at + 4], data[at + 5], data[at + 6], data[at + 7]];
        let (size, header) = match size {
            0 => (data.len() - at, 8),
            1 => match data.get(at + 8..at + 16) {
                Some(b) => (u64::from_be_bytes(b.try_into().unwrap_or([0; 8])) as usize, 16),
                None => break,
            },
            n => (n, 8),
        };
        let Some(body) = at.checked_add(size).and_then(|end| data.get(at + header..end)) else {
            break;
        };
        out.push((kind, body));
        at += size.max(header);
    }
    out
}

/// The first child of `data` at the box path `path` (e.g. `["mdia", "mdhd"]`).
fn child<'a>(data: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    let (first, rest) = path.split_first()?;
    let body = boxes(data).into_iter().find(|(k, _)| k == *first)?.1;
    if rest.is_empty() {
        Some(body)
    } else {
        child(body, rest)
    }
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// The entries of a table box (version and flags, a 32-bit count, then `width`-byte entries).
fn entries(body: &[u8], width: usize) -> Option<Vec<&[u8]>> {
    let n = u32_at(body, 4)? as usize;
    let data = body.get(8..8 + n.checked_mul(width)?)?;
    Some(data.chunks_exact(width).collect())
}

/// A full box's (version 0 or 1) timescale and duration, as in `mvhd` and `mdhd`.
fn timescale_duration(body: &[u8]) -> Option<(u32, u64)> {
    if *body.first()? == 1 {
        Some((u32_at(body, 20)?, u64_at(body, 24)?))
    } else {
        Some((u32_at(body, 12)?, u64::from(u32_at(body, 16)?)))
    }
}

fn movie_seconds(moov: &[u8]) -> Option<f64> {
    let (scale, duration) = timescale_duration(child(moov, &[b"mvhd"])?)?;
    (scale > 0).then(|| duration as f64 / f64::from(scale))
}

/// The QuickTime chapter track's titles and start times, when some track names one.
fn quicktime(moov: &[u8], file: &mut File) -> Result<Option<Vec<FileChapter>>, &'static str> {
    let traks: Vec<&[u8]> =
        boxes(moov).into_iter().filter(|(k, _)| k == b"trak").map(|(_, b)| b).collect();
    let track_id = |t: &[u8]| {
        let tkhd = child(t, &[b"tkhd"])?;
        u32_at(tkhd, if *tkhd.first()? == 1 { 20 } else { 12 })
    };
    let Some(wanted) = traks.iter().find_map(|t| u32_at(child(t, &[b"tref", b"chap"])?, 0)) else {
        return Ok(None);
    };
    let Some(track) = traks.iter().find(|t| track_id(t) == Some(wanted)) else {
        return Err("the chapter track named in tref/chap is missing");
    };
    let mdhd = child(track, &[b"mdia", b"mdhd"]).ok_or("chapter track without mdhd")?;
    let (scale, _) = timescale_duration(mdhd).ok_or("short mdhd")?;
    if scale == 0 {
        return Err("chapter track with timescale 0");
    }
    let stbl = child(track, &[b"mdia", b"minf", b"stbl"]).ok_or("chapter track without stbl")?;
    let table = SampleTable::read(stbl).ok_or("damaged chapter sample tables")?;
    let mut out = Vec::with_capacity(table.sizes.len());
    for (i, (offset, size)) in table.locations().into_iter().enumerate() {
        let start = table.start(i) as f64 / f64::from(scale);
        let title = read_title(file, offset, size).ok_or("unreadable chapter title")?;
        out.push(FileChapter { start, end: start, title });
    }
    Ok(Some(out))
}

/// The parts of a track's sample tables that locate and time its samples.
struct SampleTable {
    /// `stts`: (sample count, duration each).
    deltas: Vec<(u32, u32)>,
    /// `stsc`: (first chunk, 1-based; samples per chunk).
    runs: Vec<(u32, u32)>,
    sizes: Vec<u32>,
    chunks: Vec<u64>,
}

impl SampleTable {
    fn read(stbl: &[u8]) -> Option<SampleTable> {
        let stts = child(stbl, &[b"stts"])?;
        let deltas = entries(stts, 8)?
            .into_iter()
            .map(|e| Some((u32_at(e, 0)?, u32_at(e, 4)?)))
            .collect::<Option<Vec<_>>>()?;
        let stsc = child(stbl, &[b"stsc"])?;
        let runs = entries(stsc, 12)?
            .into_iter()
            .map(|e| Some((u32_at(e, 0)?, u32_at(e, 4)?)))
            .collect::<Option<Vec<_>>>()?;
        let stsz = child(stbl, &[b"stsz"])?;
        let (fixed, count) = (u32_at(stsz, 4)?, u32_at(stsz, 8)? as usize);
        let sizes = if fixed != 0 {
            vec![fixed; count]
        } else {
            let data = stsz.get(12..12 + count.checked_mul(4)?)?;
            data.chunks_exact(4).map(|c| u32_at(c, 0)).collect::<Option<Vec<_>>>()?
        };
        let chunks = if let Some(stco) = child(stbl, &[b"stco"]) {
            entries(stco, 4)?.into_iter().map(|e| u32_at(e, 0).map(u64::from)).collect()
        } else {
            let co64 = child(stbl, &[b"co64"])?;
            entries(co64, 8)?.into_iter().map(|e| u64_at(e, 0)).collect::<Option<Vec<_>>>()
        }?;
        Some(SampleTable { deltas, runs, sizes, chunks })
    }

    /// Each sample's file offset and size, in sample order.
    fn locations(&self) -> Vec<(u64, u32)> {
        let mut out = Vec::with_capacity(self.sizes.len());
        let mut sample = 0;
        for (chunk, &base) in self.chunks.iter().enumerate() {
            let per = self
                .runs
                .iter()
                .take_while(|(first, _)| *first as usize <= chunk + 1)
                .last()
                .map_or(0, |r| r.1);
            let mut offset = base;
            for _ in 0..per {
                let Some(&size) = self.sizes.get(sample) else { return out };
                out.push((offset, size));
                offset += u64::from(size);
                sample += 1;
            }
        }
        out
    }

    /// The start of sample `i` in the track's timescale.
    fn start(&self, i: usize) -> u64 {
        let (mut left, mut t) = (i as u64, 0u64);
        for &(count, delta) in &self.deltas {
            let n = left.min(u64::from(count));
            t += n * u64::from(delta);
            left -= n;
        }
        t
    }
}

/// A text sample: a 16-bit length, then UTF-8, or UTF-16 when it starts with a byte-order mark.
fn read_title(file: &mut File, offset: u64, size: u32) -> Option<String> {
    let mut buf = vec![0u8; size.min(MAX_TITLE) as usize];
    file.seek(SeekFrom::Start(offset)).ok()?;
    file.read_exact(&mut buf).ok()?;
    let n = usize::from(u16::from_be_bytes([*buf.first()?, *buf.get(1)?]));
    let text = buf.get(2..2 + n)?;
    let s = match text {
        [0xFE, 0xFF, rest @ ..] => super::chapters::utf16(rest, true),
        [0xFF, 0xFE, rest @ ..] => super::chapters::utf16(rest, false),
        _ => String::from_utf8_lossy(text).into_owned(),
    };
    Some(s.trim().to_string())
}

/// Nero chapters: version, flags, (4 reserved bytes in version 1), a count, then per chapter a
/// start in 100 ns units and a length-prefixed UTF-8 title.
fn nero(moov: &[u8]) -> Result<Vec<FileChapter>, &'static str> {
    let Some(chpl) = child(moov, &[b"udta", b"chpl"]) else {
        return Ok(Vec::new());
    };
    let mut at = if chpl.first() == Some(&0) { 4 } else { 8 };
    let count = *chpl.get(at).ok_or("short chpl")?;
    at += 1;
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = u64_at(chpl, at).ok_or("chpl runs past its box")?;
        let n = *chpl.get(at + 8).ok_or("chpl runs past its box")? as usize;
        let title = chpl.get(at + 9..at + 9 + n).ok_or("chpl runs past its box")?;
        let start = start as f64 / 1e7;
        let title = String::from_utf8_lossy(title).trim().to_string();
        out.push(FileChapter { start, end: start, title });
        at += 9 + n;
    }
    Ok(out)
}

#[cfg(test)]
#[path = "mp4_chapters_tests.rs"]
mod tests;
