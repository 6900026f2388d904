//! Whisper through whisper.cpp (whisper-rs): the fast CPU backend, using ggml model files.
//!
//! whisper.cpp transcribes one in-memory signal per `full()` call, but an episode can run for
//! hours, so audio is fed in pieces of about five minutes. The last segment of a piece may be
//! cut off at the piece's edge, so it is discarded and the next piece starts where the last
//! kept segment ended: nothing is lost or transcribed twice, and memory stays bounded by one
//! piece whatever the episode's length.

use std::any::Any;
use std::ffi::{c_int, c_void};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use whisper_rs::{
    FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState,
    WhisperSysContext, WhisperSysState,
};

use crate::asr::{AsrError, DecodeOptions, Segment, Transcriber};
use crate::audio::{AudioError, PcmSource};

const SAMPLE_RATE: usize = 16_000;
/// Samples per `full()` call: long enough that the per-piece redo of one segment costs little,
/// short enough (19 MB of f32) to keep memory flat.
const PIECE_SAMPLES: usize = 300 * SAMPLE_RATE;
/// A cut must move the stream forward at least this far, or the piece is taken whole.
const MIN_ADVANCE: usize = SAMPLE_RATE;
/// whisper.cpp uses at most `n_text_ctx / 2` tokens of prompt.
const MAX_PROMPT_TOKENS: usize = 224;
/// whisper.cpp timestamps are in centiseconds.
const SAMPLES_PER_CS: i64 = (SAMPLE_RATE / 100) as i64;

#[derive(Debug, thiserror::Error)]
pub enum WhisperCppError {
    #[error("cannot load whisper.cpp model {path}: {source}")]
    Load { path: PathBuf, source: whisper_rs::WhisperError },
    #[error("whisper.cpp: {0}")]
    Whisper(#[from] whisper_rs::WhisperError),
    #[error(transparent)]
    Audio(#[from] AudioError),
}

pub struct WhisperCppBackend {
    ctx: WhisperContext,
    state: WhisperState,
    threads: usize,
}

/// A decoded segment with times in samples from the start of its piece.
struct PieceSegment {
    start: usize,
    end: usize,
    text: String,
    /// Text and timestamp tokens, the form whisper.cpp itself carries as context.
    prompt_tokens: Vec<c_int>,
    avg_logprob: f32,
    no_speech_prob: f32,
}

/// Forwards whisper.cpp's per-window progress to the caller's closure, in seconds of the
/// whole stream, never going backwards (a redone segment would otherwise rewind it).
struct ProgressRelay<'a> {
    callback: &'a mut dyn FnMut(f64),
    piece_start: f64,
    piece_secs: f64,
    reported: f64,
    /// A panic caught inside the C callback, re-raised once whisper.cpp has returned
    /// (unwinding through C frames would abort the process).
    panic: Option<Box<dyn Any + Send>>,
}

impl ProgressRelay<'_> {
    fn report(&mut self, secs: f64) {
        if secs > self.reported {
            self.reported = secs;
            (self.callback)(secs);
        }
    }
}

unsafe extern "C" fn progress_trampoline(
    _ctx: *mut WhisperSysContext,
    _state: *mut WhisperSysState,
    percent: c_int,
    user_data: *mut c_void,
) {
    // SAFETY: `user_data` is the `ProgressRelay` that `run_piece` borrows mutably for the
    // whole `full()` call, and whisper.cpp invokes this callback synchronously on that thread.
    let relay = unsafe { &mut *(user_data as *mut ProgressRelay) };
    if relay.panic.is_some() {
        return;
    }
    let secs = relay.piece_start + relay.piece_secs * f64::from(percent.clamp(0, 100)) / 100.0;
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| relay.report(secs))) {
        relay.panic = Some(payload);
    }
}

/// Where to cut a piece that is not the stream's last: `(segments to keep, samples to
/// advance)`. Normally all segments but the last, resuming at the end of the last kept one.
fn cut_point(segments: &[PieceSegment], piece_len: usize) -> (usize, usize) {
    let n = segments.len();
    if n >= 2 && segments[n - 2].end >= MIN_ADVANCE {
        return (n - 1, segments[n - 2].end.min(piece_len));
    }
    // A lone segment (speech after a long silence): redo it from just before its start.
    if n == 1 && segments[0].start >= MIN_ADVANCE + SAMPLE_RATE {
        return (0, segments[0].start - SAMPLE_RATE);
    }
    // Nothing heard: move on, keeping a little overlap in case speech starts at the edge.
    if n == 0 && piece_len >= MIN_ADVANCE + 2 * SAMPLE_RATE {
        return (0, piece_len - 2 * SAMPLE_RATE);
    }
    (n, piece_len)
}

impl WhisperCppBackend {
    /// Loads a ggml model. whisper.cpp's own log lines go to `tracing` when whisper-rs's
    /// `tracing_backend` feature is on, and nowhere otherwise (never to stderr).
    pub fn load(ggml_path: &Path, threads: usize, use_gpu: bool) -> Result<Self, WhisperCppError> {
        whisper_rs::install_logging_hooks();
        let load_err = |source| WhisperCppError::Load { path: ggml_path.to_path_buf(), source };
        let mut params = WhisperContextParameters::default();
        params.use_gpu(use_gpu);
        let ctx = WhisperContext::new_with_params(ggml_path, params).map_err(load_err)?;
        let state = ctx.create_state().map_err(load_err)?;
        Ok(Self { ctx, state, threads: threads.max(1) })
    }

    /// Transcribes the whole stream; `on_progress` receives the seconds processed so far.
    pub fn transcribe(
        &mut self,
        pcm: &mut dyn PcmSource,
        opts: &DecodeOptions,
        on_progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<Segment>, WhisperCppError> {
        let mut relay = ProgressRelay {
            callback: on_progress,
            piece_start: 0.0,
            piece_secs: 0.0,
            reported: 0.0,
            panic: None,
        };
        // English-only models have no language tokens; anything else would make whisper.cpp
        // run language detection on them.
        let mut language = match &opts.language {
            _ if !self.ctx.is_multilingual() => Some("en".to_string()),
            Some(l) if l != "auto" => Some(l.clone()),
            _ => None,
        };
        let mut pending: Vec<f32> = Vec::new();
        let mut offset = 0usize; // stream position of pending[0], in samples
        let mut eof = false;
        let mut prompt: Vec<c_int> = Vec::new();
        let mut out = Vec::new();
        loop {
            while !eof && pending.len() < PIECE_SAMPLES {
                match pcm.next_chunk()? {
                    Some(chunk) => pending.extend_from_slice(&chunk),
                    None => eof = true,
                }
            }
            let piece_len = pending.len().min(PIECE_SAMPLES);
            if piece_len == 0 {
                break;
            }
            let last = eof && pending.len() == piece_len;
            relay.piece_start = offset as f64 / SAMPLE_RATE as f64;
            relay.piece_secs = piece_len as f64 / SAMPLE_RATE as f64;
            let piece = &pending[..piece_len];
            let segments = self.run_piece(piece, opts, language.as_deref(), &prompt, &mut relay)?;
            if let Some(payload) = relay.panic.take() {
                panic::resume_unwind(payload);
            }
            if language.is_none() {
                // Keep the language detected on the first piece for the rest of the episode.
                language = whisper_rs::get_lang_str(self.state.full_lang_id_from_state())
                    .map(str::to_string);
            }
            let (keep, advance) =
                if last { (segments.len(), piece_len) } else { cut_point(&segments, piece_len) };
            let kept = &segments[..keep];
            let to_secs = |samples: usize| (offset + samples) as f64 / SAMPLE_RATE as f64;
            out.extend(kept.iter().filter(|s| !s.text.is_empty()).map(|s| Segment {
                start: to_secs(s.start),
                end: to_secs(s.end),
                text: s.text.clone(),
                avg_logprob: s.avg_logprob,
                no_speech_prob: s.no_speech_prob,
                speaker: None,
                ad: false,
            }));
            if last {
                break;
            }
            let kept_tokens: Vec<c_int> =
                kept.iter().flat_map(|s| s.prompt_tokens.iter().copied()).collect();
            prompt = kept_tokens[kept_tokens.len().saturating_sub(MAX_PROMPT_TOKENS)..].to_vec();
            pending.drain(..advance);
            offset += advance;
            relay.report(offset as f64 / SAMPLE_RATE as f64);
        }
        relay.report((offset + pending.len()) as f64 / SAMPLE_RATE as f64);
        Ok(out)
    }

    fn params<'a, 'b>(
        &self,
        opts: &DecodeOptions,
        language: Option<&'a str>,
    ) -> FullParams<'a, 'b> {
        let strategy = if opts.beam_size > 1 {
            SamplingStrategy::BeamSearch { beam_size: opts.beam_size as c_int, patience: -1.0 }
        } else {
            // best_of only matters for the sampled (temperature > 0) fallback passes.
            SamplingStrategy::Greedy { best_of: 5 }
        };
        let mut p = FullParams::new(strategy);
        let threads = if opts.threads > 0 { opts.threads } else { self.threads };
        p.set_n_threads(threads as c_int);
        p.set_language(language);
        // whisper.cpp walks temperatures from the first by a fixed step up to 1.0; a single
        // temperature (step 0) disables the fallback.
        let t0 = opts.temperatures.first().copied().unwrap_or(0.0);
        let step = opts.temperatures.get(1).map_or(0.0, |t1| t1 - t0);
        p.set_temperature(t0);
        p.set_temperature_inc(step.max(0.0));
        p.set_logprob_thold(opts.logprob_threshold);
        p.set_no_speech_thold(opts.no_speech_threshold);
        // whisper.cpp's stand-in for OpenAI's compression-ratio test (same 2.4 default).
        p.set_entropy_thold(opts.compression_ratio_threshold);
        // Cross-piece context is passed explicitly (see `run_piece`); within a piece
        // whisper.cpp conditions on earlier windows unless the text budget is zero.
        p.set_no_context(true);
        if !opts.condition_on_previous_text {
            p.set_n_max_text_ctx(0);
        }
        p.set_no_timestamps(false);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_special(false);
        p.set_print_timestamps(false);
        p
    }

    fn run_piece(
        &mut self,
        samples: &[f32],
        opts: &DecodeOptions,
        language: Option<&str>,
        prompt: &[c_int],
        relay: &mut ProgressRelay,
    ) -> Result<Vec<PieceSegment>, WhisperCppError> {
        let mut params = self.params(opts, language);
        if opts.condition_on_previous_text && !prompt.is_empty() {
            params.set_tokens(prompt);
        }
        // SAFETY: the relay outlives `full()`, the only place whisper.cpp calls the callback.
        unsafe {
            params.set_progress_callback(Some(progress_trampoline));
            params.set_progress_callback_user_data(relay as *mut ProgressRelay as *mut c_void);
        }
        self.state.full(params, samples)?;

        let (eot, beg) = (self.ctx.token_eot(), self.ctx.token_beg());
        let mut segments = Vec::new();
        for segment in self.state.as_iter() {
            let (mut logprob_sum, mut n_text) = (0f32, 0usize);
            let mut prompt_tokens = Vec::new();
            for i in 0..segment.n_tokens() {
                let Some(token) = segment.get_token(i) else {
                    continue;
                };
                let data = token.token_data();
                if data.id < eot {
                    logprob_sum += data.plog;
                    n_text += 1;
                }
                if data.id < eot || data.id >= beg {
                    prompt_tokens.push(data.id);
                }
            }
            let avg_logprob = if n_text == 0 { 0.0 } else { logprob_sum / n_text as f32 };
            let to_samples =
                |cs: i64| (cs.max(0) * SAMPLES_PER_CS).min(samples.len() as i64) as usize;
            let start = to_samples(segment.start_timestamp());
            segments.push(PieceSegment {
                start,
                end: to_samples(segment.end_timestamp()).max(start),
                text: segment.to_str_lossy()?.trim().to_string(),
                prompt_tokens,
                avg_logprob,
                no_speech_prob: segment.no_speech_probability(),
            });
        }
        Ok(segments)
    }
}

impl Transcriber for WhisperCppBackend {
    fn transcribe(
        &mut self,
        pcm: &mut dyn PcmSource,
        opts: &DecodeOptions,
        on_progress: &mut dyn FnMut(f64),
    ) -> Result<Vec<Segment>, AsrError> {
        WhisperCppBackend::transcribe(self, pcm, opts, on_progress).map_err(|e| match e {
            WhisperCppError::Audio(e) => AsrError::Audio(e),
            e => AsrError::Model(e.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(start_s: f64, end_s: f64) -> PieceSegment {
        let s = |t: f64| (t * SAMPLE_RATE as f64) as usize;
        PieceSegment {
            start: s(start_s),
            end: s(end_s),
            text: "x".into(),
            prompt_tokens: vec![],
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
        }
    }

    #[test]
    fn cuts_before_the_last_segment() {
        let segs = [seg(0.0, 5.0), seg(5.0, 9.0), seg(9.5, 12.0)];
        assert_eq!(cut_point(&segs, 12 * SAMPLE_RATE), (2, 9 * SAMPLE_RATE));
        // A lone late segment is redone from a second before it.
        assert_eq!(cut_point(&[seg(280.0, 300.0)], PIECE_SAMPLES), (0, 279 * SAMPLE_RATE));
        // Silence: move on, with two seconds of overlap.
        assert_eq!(cut_point(&[], PIECE_SAMPLES), (0, PIECE_SAMPLES - 2 * SAMPLE_RATE));
        // Degenerate: no safe cut, so the piece is taken whole.
        assert_eq!(cut_point(&[seg(0.0, 0.5), seg(0.5, 300.0)], PIECE_SAMPLES), (2, PIECE_SAMPLES));
    }
}
