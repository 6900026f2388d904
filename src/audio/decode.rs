//! Symphonia side: decode the chosen track packet by packet and downmix each
//! packet to mono. Nothing here holds more than one packet.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{SampleBuffer, SignalSpec};
use symphonia::core::codecs::{CodecParameters, Decoder, DecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::mp4_edit::{self, Trim};
use super::probe::{codec_name, open_file, pick_track, probe_error};
use super::AudioError;

/// Consecutive undecodable packets after which we stop believing the file will
/// recover; without a bound, a garbage file could spin through gigabytes of warnings.
const MAX_CONSECUTIVE_BAD_PACKETS: u32 = 200;

/// Per-packet warnings to print before going quiet; the total is logged at the end.
const MAX_LOGGED_BAD_PACKETS: u64 = 5;

/// One decoded packet, already mono, at the source's native rate.
pub(crate) struct MonoPacket {
    pub rate: u32,
    pub samples: Vec<f32>,
}

/// Pulls mono packets out of a file one at a time.
pub(crate) struct PacketDecoder {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    codec_name: String,
    sample_buf: Option<(SampleBuffer<f32>, SignalSpec, usize)>,
    /// Encoder priming/padding to cut that symphonia left in (MP4 edit lists).
    trim: Option<Trim>,
    expected_frames: Option<u64>,
    duration_hint: Option<f64>,
    frames_decoded: u64,
    bad_packets: u64,
    consecutive_bad: u32,
    done: bool,
    /// The episode title from the file's tags, if any.
    pub(crate) title: Option<String>,
}

fn title_tag(rev: &symphonia::core::meta::MetadataRevision) -> Option<String> {
    use symphonia::core::meta::StandardTagKey;
    rev.tags()
        .iter()
        .find(|t| t.std_key == Some(StandardTagKey::TrackTitle))
        .map(|t| t.value.to_string().trim().to_string())
        .filter(|t| !t.is_empty())
}

impl PacketDecoder {
    pub(crate) fn open(path: &Path) -> Result<Self, AudioError> {
        let file = open_file(path)?;
        let mss = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(ext);
        }
        // Gapless trims encoder priming/padding (LAME/iTunes tags), which keeps
        // lossy files aligned with their source and durations honest.
        let format_opts = FormatOptions { enable_gapless: true, ..Default::default() };
        let mut probed = symphonia::default::get_probe()
            .format(&hint, mss, &format_opts, &MetadataOptions::default())
            .map_err(|e| {
                tracing::debug!(path = %path.display(), "probe failed: {e:?}");
                probe_error(path, e)
            })?;
        // ID3 tags are read by the probe; containers (MP4, Ogg, FLAC) carry their own.
        let mut title =
            probed.metadata.get().as_ref().and_then(|m| m.current().and_then(title_tag));
        let mut format = probed.format;
        if title.is_none() {
            title = format.metadata().current().and_then(title_tag);
        }

        let track = pick_track(path, format.tracks())?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let codec_name = codec_name(params.codec);
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| match e {
                SymError::Unsupported(_) => AudioError::UnsupportedCodec {
                    path: path.to_path_buf(),
                    codec: codec_name.clone(),
                },
                other => AudioError::Corrupt {
                    path: path.to_path_buf(),
                    detail: format!("cannot set up the {codec_name} decoder: {other}"),
                },
            })?;

        // Symphonia trims gapless info itself for MP3 (and sets `delay`); for MP4
        // it does not, so apply the edit list here unless symphonia already did.
        let trim = match (params.delay, params.sample_rate) {
            (None, Some(rate)) => mp4_edit::read_trim(path, track_id as usize, rate),
            _ => None,
        };

        let duration_hint = match (trim.and_then(|t| t.keep), params.sample_rate) {
            (Some(keep), Some(rate)) => Some(keep as f64 / rate as f64),
            _ => container_duration(&params),
        };
        tracing::debug!(
            path = %path.display(),
            codec = %codec_name,
            rate = ?params.sample_rate,
            channels = ?params.channels.map(|c| c.count()),
            duration = ?duration_hint,
            "opened audio track"
        );

        Ok(Self {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            codec_name,
            sample_buf: None,
            trim,
            expected_frames: params.n_frames,
            duration_hint,
            frames_decoded: 0,
            bad_packets: 0,
            consecutive_bad: 0,
            done: false,
            title,
        })
    }

    pub(crate) fn duration_hint(&self) -> Option<f64> {
        self.duration_hint
    }

    /// Next non-empty mono packet, or `None` at the end of the stream.
    ///
    /// Damage is tolerated the way symphonia recommends: a packet that fails to
    /// decode is skipped, and a stream that breaks off after some audio ends early
    /// with a warning, because a transcript of most of an episode beats none.
    /// Only when nothing at all decodes is it an error.
    pub(crate) fn next_packet(&mut self) -> Result<Option<MonoPacket>, AudioError> {
        while !self.done {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return self.end(None);
                }
                Err(SymError::DecodeError(msg)) => {
                    self.bad_packet(msg)?;
                    continue;
                }
                Err(SymError::ResetRequired) => {
                    return self.end(Some(
                        "the stream changes its parameters mid-way (chained stream)".into(),
                    ));
                }
                Err(e) => return self.end(Some(e.to_string())),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let frames = buf.frames();
                    if frames == 0 {
                        continue;
                    }
                    let spec = *buf.spec();
                    let channels = spec.channels.count().max(1);
                    let capacity = buf.capacity();
                    let sample_buf = match &mut self.sample_buf {
                        Some((sb, s, cap)) if *s == spec && *cap >= capacity => sb,
                        slot => {
                            let sb = SampleBuffer::<f32>::new(capacity as u64, spec);
                            &mut slot.insert((sb, spec, capacity)).0
                        }
                    };
                    sample_buf.copy_interleaved_ref(buf);
                    let mut samples = downmix(sample_buf.samples(), channels);
                    self.frames_decoded += frames as u64;
                    self.consecutive_bad = 0;
                    if let Some(trim) = &mut self.trim {
                        // Past the edit list's end there is only encoder padding.
                        self.done = !trim.apply(&mut samples);
                    }
                    if samples.is_empty() {
                        continue;
                    }
                    return Ok(Some(MonoPacket { rate: spec.rate, samples }));
                }
                Err(SymError::DecodeError(msg)) => self.bad_packet(msg)?,
                // E.g. an AAC profile symphonia lacks: a codec problem, not damage.
                Err(SymError::Unsupported(what)) if self.frames_decoded == 0 => {
                    self.done = true;
                    return Err(AudioError::UnsupportedCodec {
                        path: self.path.clone(),
                        codec: format!("{} ({what})", self.codec_name),
                    });
                }
                Err(SymError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                    return self.end(None);
                }
                Err(e) => return self.end(Some(e.to_string())),
            }
        }
        Ok(None)
    }

    fn bad_packet(&mut self, msg: &str) -> Result<(), AudioError> {
        self.bad_packets += 1;
        self.consecutive_bad += 1;
        if self.bad_packets <= MAX_LOGGED_BAD_PACKETS {
            tracing::warn!(path = %self.path.display(), "skipping undecodable audio packet: {msg}");
        }
        if self.consecutive_bad >= MAX_CONSECUTIVE_BAD_PACKETS {
            self.end(Some(format!(
                "{} undecodable packets in a row (last: {msg})",
                self.consecutive_bad
            )))?;
        }
        Ok(())
    }

    /// Ends the stream, deciding whether what happened is a clean end, an early
    /// stop worth a warning, or a file with no usable audio at all.
    fn end(&mut self, failure: Option<String>) -> Result<Option<MonoPacket>, AudioError> {
        self.done = true;
        if self.bad_packets > MAX_LOGGED_BAD_PACKETS {
            tracing::warn!(
                path = %self.path.display(),
                "skipped {} undecodable audio packets in total",
                self.bad_packets
            );
        }
        if self.frames_decoded == 0 && (failure.is_some() || self.bad_packets > 0) {
            let detail = failure.unwrap_or_else(|| {
                format!("none of its {} {} packets decoded", self.bad_packets, self.codec_name)
            });
            return Err(AudioError::Corrupt {
                path: self.path.clone(),
                detail: format!("no audio could be decoded ({detail})"),
            });
        }
        if let Some(reason) = failure {
            tracing::warn!(
                path = %self.path.display(),
                "audio stopped early after {} frames: {reason}",
                self.frames_decoded
            );
        } else if let Some(expected) = self.expected_frames {
            // Containers state their length up front; a big shortfall at a clean
            // EOF means the download or copy was cut off.
            if self.frames_decoded > 0
                && u128::from(self.frames_decoded) * 100 < u128::from(expected) * 95
            {
                tracing::warn!(
                    path = %self.path.display(),
                    "audio ends early: decoded {} of the {} frames the header announces (file truncated or damaged?)",
                    self.frames_decoded,
                    expected
                );
            }
        }
        Ok(None)
    }
}

fn container_duration(params: &CodecParameters) -> Option<f64> {
    match (params.n_frames, params.time_base, params.sample_rate) {
        (Some(n), Some(tb), _) => {
            let t = tb.calc_time(n);
            Some(t.seconds as f64 + t.frac)
        }
        (Some(n), None, Some(rate)) if rate > 0 => Some(n as f64 / rate as f64),
        _ => None,
    }
}

/// Averages channels: speech models want mono, and averaging (unlike taking the
/// left channel) keeps voices that are panned to one side.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved.chunks_exact(channels).map(|frame| frame.iter().sum::<f32>() * scale).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages() {
        assert_eq!(downmix(&[1.0, 0.0, 0.5, 0.5], 2), vec![0.5, 0.5]);
        assert_eq!(downmix(&[0.3, 0.6, 0.9], 3), vec![0.6]);
        assert_eq!(downmix(&[0.1, 0.2], 1), vec![0.1, 0.2]);
    }
}
