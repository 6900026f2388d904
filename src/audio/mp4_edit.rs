//! MP4 edit lists, which symphonia 0.5 parses but does not apply.
//!
//! AAC encoders put ~1024–2112 frames of priming silence before the audio and
//! record that in the track's edit list (`moov/trak/edts/elst`). Without applying
//! it, every timestamp in an .m4a podcast would be late by 50–70 ms and the
//! duration long by as much. This reads just the few boxes needed, nothing else.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// Frames to drop at the start and, optionally, how many to keep after that,
/// both at the codec's sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Trim {
    pub skip: u64,
    pub keep: Option<u64>,
}

impl Trim {
    /// Applies the trim to the next decoded (mono) piece. Returns false once the
    /// kept span is exhausted, so the caller can stop reading padding packets.
    pub(crate) fn apply(&mut self, samples: &mut Vec<f32>) -> bool {
        let skip = self.skip.min(samples.len() as u64) as usize;
        self.skip -= skip as u64;
        samples.drain(..skip);
        if let Some(keep) = &mut self.keep {
            let n = (*keep).min(samples.len() as u64);
            samples.truncate(n as usize);
            *keep -= n;
            return *keep > 0;
        }
        true
    }
}

/// Guards against hostile files: box nesting and count are tiny in real MP4s.
pub(super) const MAX_BOXES: usize = 10_000;

/// Reads the edit list of the `track_index`-th `trak` (symphonia numbers MP4
/// tracks by position) and turns it into a trim at `sample_rate`. Any parse
/// trouble just means "no trim": the edit list is a refinement, not a requirement.
pub(crate) fn read_trim(path: &Path, track_index: usize, sample_rate: u32) -> Option<Trim> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut budget = MAX_BOXES;
    let mut head = [0u8; 8];
    f.read_exact(&mut head).ok()?;
    if &head[4..8] != b"ftyp" {
        return None;
    }
    let (moov_start, moov_end) = find_child(&mut f, 0, len, b"moov", 0, &mut budget)?;
    let movie_timescale = read_timescale(&mut f, moov_start, moov_end, b"mvhd", &mut budget)?;
    let (trak_start, trak_end) =
        find_child(&mut f, moov_start, moov_end, b"trak", track_index, &mut budget)?;
    let (mdia_start, mdia_end) = find_child(&mut f, trak_start, trak_end, b"mdia", 0, &mut budget)?;
    let media_timescale = read_timescale(&mut f, mdia_start, mdia_end, b"mdhd", &mut budget)?;
    let (edts_start, edts_end) = find_child(&mut f, trak_start, trak_end, b"edts", 0, &mut budget)?;
    let (elst_start, elst_end) = find_child(&mut f, edts_start, edts_end, b"elst", 0, &mut budget)?;
    let body = read_body(&mut f, elst_start, elst_end)?;
    let (segment_duration, media_time) = first_real_edit(&body)?;

    let to_rate = |v: u64, scale: u32| -> u64 {
        ((v as u128 * sample_rate as u128 + scale as u128 / 2) / scale as u128) as u64
    };
    let trim = Trim {
        skip: to_rate(media_time, media_timescale),
        keep: (segment_duration > 0).then(|| to_rate(segment_duration, movie_timescale)),
    };
    tracing::debug!(path = %path.display(), ?trim, "applying MP4 edit list");
    (trim.skip > 0 || trim.keep.is_some()).then_some(trim)
}

/// Parses `elst`: the first entry that is not an empty edit (media_time -1,
/// which only inserts a presentation delay) gives (segment_duration, media_time).
fn first_real_edit(body: &[u8]) -> Option<(u64, u64)> {
    let version = *body.first()?;
    let count = be_u32(body.get(4..8)?) as usize;
    let entry_len = if version == 1 { 20 } else { 12 };
    for i in 0..count.min(64) {
        let e = body.get(8 + i * entry_len..8 + (i + 1) * entry_len)?;
        let (dur, time) = if version == 1 {
            (be_u64(&e[0..8]), be_u64(&e[8..16]) as i64)
        } else {
            (be_u32(&e[0..4]) as u64, be_u32(&e[4..8]) as i32 as i64)
        };
        if time >= 0 {
            return Some((dur, time as u64));
        }
    }
    None
}

fn read_timescale(
    f: &mut File,
    start: u64,
    end: u64,
    kind: &[u8; 4],
    budget: &mut usize,
) -> Option<u32> {
    let (s, e) = find_child(f, start, end, kind, 0, budget)?;
    let body = read_body(f, s, e.min(s + 32))?;
    // Full box: version, flags, then creation/modification times (32 or 64 bit).
    let at = if *body.first()? == 1 { 20 } else { 12 };
    let ts = be_u32(body.get(at..at + 4)?);
    (ts > 0).then_some(ts)
}

/// Finds the `nth` child box of type `kind` within [start, end); returns its body span.
pub(super) fn find_child(
    f: &mut File,
    start: u64,
    end: u64,
    kind: &[u8; 4],
    nth: usize,
    budget: &mut usize,
) -> Option<(u64, u64)> {
    let mut pos = start;
    let mut seen = 0;
    while pos + 8 <= end {
        *budget = budget.checked_sub(1)?;
        f.seek(SeekFrom::Start(pos)).ok()?;
        let mut h = [0u8; 8];
        f.read_exact(&mut h).ok()?;
        let (size, header_len) = match be_u32(&h[0..4]) {
            0 => (end - pos, 8),
            1 => {
                let mut big = [0u8; 8];
                f.read_exact(&mut big).ok()?;
                (u64::from_be_bytes(big), 16)
            }
            n => (n as u64, 8),
        };
        if size < header_len || pos.checked_add(size)? > end {
            return None;
        }
        if &h[4..8] == kind {
            if seen == nth {
                return Some((pos + header_len, pos + size));
            }
            seen += 1;
        }
        pos += size;
    }
    None
}

fn read_body(f: &mut File, start: u64, end: u64) -> Option<Vec<u8>> {
    let len = end.checked_sub(start)?;
    if len > 64 * 1024 {
        return None;
    }
    let mut buf = vec![0u8; len as usize];
    f.seek(SeekFrom::Start(start)).ok()?;
    f.read_exact(&mut buf).ok()?;
    Some(buf)
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_skips_then_keeps() {
        let mut t = Trim { skip: 3, keep: Some(4) };
        let mut a = vec![1.0, 2.0];
        assert!(t.apply(&mut a));
        assert!(a.is_empty());
        let mut b = vec![3.0, 4.0, 5.0, 6.0];
        assert!(t.apply(&mut b));
        assert_eq!(b, vec![4.0, 5.0, 6.0]);
        let mut c = vec![7.0, 8.0];
        assert!(!t.apply(&mut c));
        assert_eq!(c, vec![7.0]);
    }

    #[test]
    fn elst_entries() {
        // version 0, one empty edit then a real one at media_time 1024.
        let mut body = vec![0, 0, 0, 0, 0, 0, 0, 2];
        body.extend([0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff, 0, 1, 0, 0]);
        body.extend([0, 0, 0x2a, 0xf8, 0, 0, 4, 0, 0, 1, 0, 0]);
        assert_eq!(first_real_edit(&body), Some((11_000, 1024)));
        assert_eq!(first_real_edit(&body[..10]), None);
    }

    #[test]
    fn m4a_fixture_edit_list() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio/jfk.m4a");
        let trim = read_trim(&path, 0, 16_000).unwrap();
        assert_eq!(trim, Trim { skip: 1024, keep: Some(176_000) });
    }

    #[test]
    fn non_mp4_has_no_trim() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audio/jfk.flac");
        assert_eq!(read_trim(&path, 0, 16_000), None);
    }
}
