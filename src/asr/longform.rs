//! Long-form transcription: slide a 30-second window over the audio, seeking by the timestamps
//! the model predicts (as OpenAI's `transcribe()` does) so that words at a window's edge are
//! decoded in the next window instead of being cut in half.

use crate::audio::PcmSource;

use super::mel::{HOP, N_FRAMES, N_SAMPLES};
use super::{AsrError, Segment};

/// Seconds per timestamp token step (20 ms = 2 mel frames).
pub const TIME_PRECISION: f64 = 0.02;
const FRAMES_PER_TS: usize = 2;

/// A bounded view of a streamed source: holds just the samples from the current seek position up
/// to one window ahead, so memory stays flat however long the episode is.
pub struct SampleWindow<'a> {
    source: &'a mut dyn PcmSource,
    buf: Vec<f32>,
    /// Absolute index of `buf[0]`.
    start: usize,
    eof: bool,
}

impl<'a> SampleWindow<'a> {
    pub fn new(source: &'a mut dyn PcmSource) -> Self {
        Self { source, buf: Vec::new(), start: 0, eof: false }
    }

    fn drop_before(&mut self, from: usize) {
        if from > self.start {
            let drop = (from - self.start).min(self.buf.len());
            self.buf.drain(..drop);
            self.start += drop;
        }
    }

    /// Up to `len` samples from absolute position `from`, dropping everything before it; empty
    /// once the source has nothing at or after `from`.
    pub fn get(&mut self, from: usize, len: usize) -> Result<&[f32], AsrError> {
        self.drop_before(from);
        while !self.eof && self.start + self.buf.len() < from + len {
            match self.source.next_chunk()? {
                Some(chunk) => self.buf.extend_from_slice(&chunk),
                None => self.eof = true,
            }
            // Seeking past buffered data: chunks wholly before `from` are never kept.
            self.drop_before(from);
        }
        let off = from.saturating_sub(self.start).min(self.buf.len());
        let end = (off + len).min(self.buf.len());
        Ok(&self.buf[off..end])
    }
}

/// A segment as token ids (timestamps included: they go back into the next window's prompt, and a
/// prompt without them teaches the model to stop predicting them); times in seconds from the
/// window start.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSegment {
    pub start: f64,
    pub end: f64,
    pub tokens: Vec<u32>,
}

/// Splits a window's tokens at consecutive timestamp pairs and says how far to seek (in mel
/// frames): to the last closed timestamp, or a whole window when the output ended open.
pub fn split_segments(
    tokens: &[u32],
    ts_begin: u32,
    segment_frames: usize,
) -> (Vec<RawSegment>, usize) {
    let is_ts = |t: u32| t >= ts_begin;
    let time = |t: u32| (t - ts_begin) as f64 * TIME_PRECISION;
    let window_secs = segment_frames as f64 * HOP as f64 / 16_000.0;
    let single_ending =
        tokens.len() >= 2 && !is_ts(tokens[tokens.len() - 2]) && is_ts(tokens[tokens.len() - 1]);
    let mut cuts: Vec<usize> =
        (1..tokens.len()).filter(|&i| is_ts(tokens[i]) && is_ts(tokens[i - 1])).collect();
    let mut out = Vec::new();
    if !cuts.is_empty() {
        if single_ending {
            cuts.push(tokens.len());
        }
        let mut last = 0;
        for &cut in &cuts {
            let piece = &tokens[last..cut];
            if let (Some(&a), Some(&b)) = (piece.first(), piece.last()) {
                if is_ts(a) && is_ts(b) {
                    out.push(RawSegment { start: time(a), end: time(b), tokens: piece.to_vec() });
                }
            }
            last = cut;
        }
        let seek = if single_ending {
            segment_frames
        } else {
            let last_ts = tokens[last - 1];
            ((last_ts - ts_begin) as usize * FRAMES_PER_TS).max(1)
        };
        (out, seek.min(segment_frames))
    } else {
        let mut end = window_secs;
        if let Some(&t) = tokens.iter().rev().find(|&&t| is_ts(t)) {
            if t != ts_begin {
                end = time(t);
            }
        }
        let start = tokens.first().filter(|&&t| is_ts(t)).map(|&t| time(t)).unwrap_or(0.0);
        if tokens.iter().any(|&t| !is_ts(t)) {
            out.push(RawSegment { start, end, tokens: tokens.to_vec() });
        }
        (out, segment_frames)
    }
}

/// What the loop needs from a model: decode one window of log-mel into tokens.
pub trait WindowModel {
    fn mel(&self, samples: &[f32]) -> Vec<f32>;
    /// Decodes one window after the previous-text prompt.
    fn decode_window(
        &mut self,
        mel: &[f32],
        prompt: &[u32],
    ) -> Result<super::decode::WindowResult, AsrError>;
    /// Text of the tokens, special and timestamp tokens left out.
    fn detokenize(&self, tokens: &[u32]) -> String;
    fn timestamp_begin(&self) -> u32;
}

/// Runs the seeking loop over the whole stream.
pub fn transcribe(
    model: &mut dyn WindowModel,
    source: &mut dyn PcmSource,
    opts: &super::DecodeOptions,
    on_progress: &mut dyn FnMut(f64),
) -> Result<Vec<Segment>, AsrError> {
    let mut window = SampleWindow::new(source);
    let mut seek = 0usize; // in mel frames
    let mut history: Vec<u32> = Vec::new();
    let mut prompt_from = 0usize;
    let mut segments = Vec::new();
    loop {
        let samples = window.get(seek * HOP, N_SAMPLES)?;
        let frames = samples.len() / HOP;
        if frames == 0 {
            break;
        }
        let segment_frames = frames.min(N_FRAMES);
        let offset = seek as f64 * HOP as f64 / 16_000.0;
        let mel = model.mel(samples);
        let r = model.decode_window(&mel, &history[prompt_from..])?;
        if r.no_speech_prob > opts.no_speech_threshold && r.avg_logprob < opts.logprob_threshold {
            // Silence or music: skip the window rather than let the model invent words.
            seek += segment_frames;
            on_progress(seek as f64 * HOP as f64 / 16_000.0);
            continue;
        }
        let (raw, advance) = split_segments(&r.tokens, model.timestamp_begin(), segment_frames);
        for s in raw {
            let text = model.detokenize(&s.tokens);
            if text.trim().is_empty() {
                continue;
            }
            segments.push(Segment {
                start: offset + s.start,
                end: offset + s.end.max(s.start),
                text: text.trim().to_string(),
                avg_logprob: r.avg_logprob,
                no_speech_prob: r.no_speech_prob,
                speaker: None,
                ad: false,
            });
            history.extend(s.tokens);
        }
        if !opts.condition_on_previous_text || r.temperature > 0.5 {
            prompt_from = history.len();
        }
        seek += advance;
        on_progress(seek as f64 * HOP as f64 / 16_000.0);
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TB: u32 = 1000;

    #[test]
    fn closed_pairs_become_segments_and_seek_to_the_last_pair() {
        // <0.00> a b <1.00><1.00> c <2.00><2.00> d   (last segment left open: re-decode it)
        let toks = [TB, 1, 2, TB + 50, TB + 50, 3, TB + 100, TB + 100, 4];
        let (segs, seek) = split_segments(&toks, TB, 3000);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0], RawSegment { start: 0.0, end: 1.0, tokens: vec![TB, 1, 2, TB + 50] });
        assert_eq!(segs[1].tokens, vec![TB + 50, 3, TB + 100]);
        assert_eq!(seek, 200);
    }

    #[test]
    fn single_timestamp_ending_consumes_the_window() {
        let toks = [TB, 1, TB + 50, TB + 60, 2, TB + 300];
        let (segs, seek) = split_segments(&toks, TB, 3000);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[1].end, 6.0);
        assert_eq!(seek, 3000);
    }

    #[test]
    fn no_pairs_gives_one_segment_over_the_window() {
        let toks = [TB, 1, 2, 3];
        let (segs, seek) = split_segments(&toks, TB, 1500);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].end, 15.0);
        assert_eq!(seek, 1500);
    }

    #[test]
    fn window_drops_what_it_has_passed() {
        let mut src = crate::audio::VecSource::new((0..100_000).map(|i| i as f32).collect());
        let mut w = SampleWindow::new(&mut src);
        assert_eq!(w.get(0, 10).unwrap()[0], 0.0);
        assert_eq!(w.get(50_000, 10).unwrap()[0], 50_000.0);
        assert!(w.buf.len() <= 50_000 + 10 || w.start >= 50_000);
        assert!(w.get(100_000, 10).unwrap().is_empty());
    }
}
