//! Audio input: any common podcast file in, 16 kHz mono `f32` out, streamed.
//!
//! Episodes run for hours, so nothing here holds a whole file: [`AudioStream`]
//! decodes one container packet at a time (symphonia, pure Rust), averages the
//! channels, resamples to 16 kHz (rubato) and hands out chunks of at most
//! [`MAX_CHUNK_SAMPLES`]. Memory stays flat whatever the episode length.
//!
//! Sample index `i` of the output is at time `i / 16000` s in the source: the
//! resampler's delay is compensated, so downstream timestamps can be trusted.

/// File extensions of the audio formats podcasts come in (for finding episodes in folders and
/// naming downloads; decoding itself probes the content).
pub const EXTENSIONS: &[&str] = &["mp3", "m4a", "mp4", "aac", "ogg", "oga", "opus", "flac", "wav"];

pub mod chapters;
mod decode;
mod error;
pub mod mp4_chapters;
mod mp4_edit;
mod probe;
mod resample;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;

use std::path::{Path, PathBuf};

pub use error::AudioError;

use decode::{MonoPacket, PacketDecoder};
use resample::{ResampleFailure, StreamResampler};

/// The rate every consumer (Whisper, VAD) expects.
pub const SAMPLE_RATE: u32 = 16_000;

/// Preferred chunk length handed out by sources: 5 s is long enough that
/// per-chunk overhead vanishes and short enough to keep progress bars lively.
pub const CHUNK_SAMPLES: usize = 5 * SAMPLE_RATE as usize;

/// Hard upper bound on a chunk (10 s), which callers may rely on when sizing buffers.
pub const MAX_CHUNK_SAMPLES: usize = 10 * SAMPLE_RATE as usize;

/// A source of 16 kHz mono f32 samples, pulled chunk by chunk.
pub trait PcmSource {
    /// Next chunk of samples (any length > 0), or None at the end of the stream.
    fn next_chunk(&mut self) -> Result<Option<Vec<f32>>, AudioError>;
    /// Total duration in seconds if the container says so (for progress bars).
    fn duration_hint(&self) -> Option<f64> {
        None
    }
}

/// Streams a file: symphonia probe by content + extension hint, first track that
/// has audio, decode packet by packet, downmix, resample.
///
/// `open` already decodes the first packet, so unreadable, unsupported or
/// audio-less files fail up front, before the caller spends time loading models.
pub struct AudioStream {
    path: PathBuf,
    decoder: PacketDecoder,
    resampler: Option<StreamResampler>,
    /// The packet decoded by `open`, handed on by the first `next_chunk`.
    primed: Option<MonoPacket>,
    /// Resampled output not yet handed out; bounded by one chunk plus one packet.
    pending: Vec<f32>,
    emitted: u64,
    eof: bool,
}

impl AudioStream {
    pub fn open(path: &Path) -> Result<AudioStream, AudioError> {
        let mut decoder = PacketDecoder::open(path)?;
        let primed = decoder.next_packet()?;
        if primed.is_none() {
            return Err(AudioError::NoSamples { path: path.to_path_buf() });
        }
        Ok(AudioStream {
            path: path.to_path_buf(),
            decoder,
            resampler: None,
            primed,
            pending: Vec::with_capacity(CHUNK_SAMPLES * 2),
            emitted: 0,
            eof: false,
        })
    }

    /// The title tag (ID3, MP4, Vorbis comment), which names the episode in a brief.
    pub fn title(&self) -> Option<&str> {
        self.decoder.title.as_deref()
    }

    /// The file being decoded, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Decodes one more packet into `pending`, or flushes at end of stream.
    fn pull(&mut self) -> Result<(), AudioError> {
        let packet = match self.primed.take() {
            Some(p) => Some(p),
            None => self.decoder.next_packet()?,
        };
        let path = &self.path;
        let fail = |rate: u32| {
            move |e: ResampleFailure| AudioError::Resample { path: path.clone(), rate, detail: e.0 }
        };
        let Some(packet) = packet else {
            if let Some(mut r) = self.resampler.take() {
                r.finish(&mut self.pending).map_err(fail(r.in_rate()))?;
            }
            self.eof = true;
            return Ok(());
        };
        // A rate change mid-file (rare, e.g. some concatenated MP3s) gets a fresh
        // resampler after flushing the old one, so no samples are lost.
        if let Some(mut r) = self.resampler.take_if(|r| r.in_rate() != packet.rate) {
            tracing::warn!(
                path = %path.display(),
                from = r.in_rate(),
                to = packet.rate,
                "sample rate changes mid-stream"
            );
            r.finish(&mut self.pending).map_err(fail(r.in_rate()))?;
        }
        let resampler = match &mut self.resampler {
            Some(r) => r,
            slot => slot.insert(StreamResampler::new(packet.rate).map_err(fail(packet.rate))?),
        };
        resampler.push(&packet.samples, &mut self.pending).map_err(fail(packet.rate))
    }
}

impl PcmSource for AudioStream {
    fn next_chunk(&mut self) -> Result<Option<Vec<f32>>, AudioError> {
        loop {
            if self.pending.len() >= CHUNK_SAMPLES || (self.eof && !self.pending.is_empty()) {
                let n = self.pending.len().min(CHUNK_SAMPLES);
                let rest = self.pending.split_off(n);
                let chunk = std::mem::replace(&mut self.pending, rest);
                self.emitted += chunk.len() as u64;
                return Ok(Some(chunk));
            }
            if self.eof {
                if self.emitted == 0 {
                    return Err(AudioError::NoSamples { path: self.path.clone() });
                }
                return Ok(None);
            }
            self.pull()?;
        }
    }

    fn duration_hint(&self) -> Option<f64> {
        self.decoder.duration_hint()
    }
}

/// In-memory samples already at 16 kHz mono (for tests and for callers that already hold samples).
pub struct VecSource {
    samples: Vec<f32>,
    pos: usize,
}

impl VecSource {
    pub fn new(samples: Vec<f32>) -> Self {
        Self { samples, pos: 0 }
    }
}

impl PcmSource for VecSource {
    fn next_chunk(&mut self) -> Result<Option<Vec<f32>>, AudioError> {
        if self.pos >= self.samples.len() {
            return Ok(None);
        }
        let end = (self.pos + CHUNK_SAMPLES).min(self.samples.len());
        let chunk = self.samples[self.pos..end].to_vec();
        self.pos = end;
        Ok(Some(chunk))
    }

    fn duration_hint(&self) -> Option<f64> {
        Some(self.samples.len() as f64 / SAMPLE_RATE as f64)
    }
}

/// Convenience: decode a whole (short) file into memory.
///
/// Memory grows with the file (about 3.5 MB per minute), so long episodes
/// should go through [`AudioStream`] instead.
pub fn decode_all(path: &Path) -> Result<Vec<f32>, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut out = Vec::new();
    // The header's duration is a hint from an untrusted file: cap the reservation.
    if let Some(secs) = stream.duration_hint() {
        out.reserve((secs.clamp(0.0, 600.0) * SAMPLE_RATE as f64) as usize + 1);
    }
    while let Some(chunk) = stream.next_chunk()? {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
