//! Before decoding: open the file, recognise the container, and pick the track,
//! turning each way this can fail into the error that tells the user what is wrong.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::Path;

use symphonia::core::codecs::{self, CodecType, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::Track;

use super::AudioError;

pub(crate) fn open_file(path: &Path) -> Result<File, AudioError> {
    let io_err = |source: std::io::Error| match source.kind() {
        ErrorKind::NotFound => AudioError::NotFound { path: path.to_path_buf() },
        _ => AudioError::Io { path: path.to_path_buf(), source },
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if !meta.is_file() {
        return Err(AudioError::NotAFile { path: path.to_path_buf() });
    }
    if meta.len() == 0 {
        return Err(AudioError::Empty { path: path.to_path_buf() });
    }
    File::open(path).map_err(io_err)
}

pub(crate) fn probe_error(path: &Path, e: SymError) -> AudioError {
    let path_buf = path.to_path_buf();
    match e {
        SymError::IoError(e) if e.kind() != ErrorKind::UnexpectedEof => {
            AudioError::Io { path: path_buf, source: e }
        }
        // The probe failing (unknown format, running out of data, or garbage
        // where a header should be) means different things depending on whether
        // the file starts like an audio container: if it does, it is damaged;
        // if not, it is some other kind of file.
        _ if starts_like_audio(path) => AudioError::Corrupt {
            path: path_buf,
            detail: "the file ends or breaks off before any audio could be read".into(),
        },
        _ => AudioError::UnrecognisedFormat { path: path_buf },
    }
}

/// Magic numbers of the containers symphonia reads, plus a bare MPEG/ADTS frame sync.
fn starts_like_audio(path: &Path) -> bool {
    let mut head = [0u8; 12];
    let n = File::open(path)
        .and_then(|mut f| {
            let mut n = 0;
            while n < head.len() {
                match f.read(&mut head[n..])? {
                    0 => break,
                    k => n += k,
                }
            }
            Ok(n)
        })
        .unwrap_or(0);
    let h = &head[..n];
    h.starts_with(b"ID3")
        || h.starts_with(b"fLaC")
        || h.starts_with(b"OggS")
        || h.starts_with(b"caff")
        || h.starts_with(&[0x1a, 0x45, 0xdf, 0xa3])
        || (h.starts_with(b"RIFF") && h.get(8..12).is_some_and(|t| t == b"WAVE"))
        || (h.starts_with(b"FORM") && h.get(8..12).is_some_and(|t| t == b"AIFF" || t == b"AIFC"))
        || h.get(4..8).is_some_and(|t| t == b"ftyp")
        || (h.len() >= 2 && h[0] == 0xff && h[1] & 0xe0 == 0xe0)
}

/// First track whose codec symphonia can decode; otherwise the most useful error:
/// a named unsupported codec if some track is audio, else "no audio track".
pub(crate) fn pick_track<'a>(path: &Path, tracks: &'a [Track]) -> Result<&'a Track, AudioError> {
    let registry = symphonia::default::get_codecs();
    if let Some(t) = tracks.iter().find(|t| {
        t.codec_params.codec != CODEC_TYPE_NULL
            && registry.get_codec(t.codec_params.codec).is_some()
    }) {
        return Ok(t);
    }
    let looks_audio = |t: &&Track| {
        t.codec_params.codec != CODEC_TYPE_NULL
            || t.codec_params.sample_rate.is_some()
            || t.codec_params.channels.is_some()
    };
    match tracks.iter().find(looks_audio) {
        Some(t) => Err(AudioError::UnsupportedCodec {
            path: path.to_path_buf(),
            codec: codec_name(t.codec_params.codec),
        }),
        None => Err(AudioError::NoAudioTrack { path: path.to_path_buf() }),
    }
}

/// Human name for a codec. Symphonia only names codecs it has decoders for, and
/// the unsupported ones are exactly those a user needs named.
pub(crate) fn codec_name(codec: CodecType) -> String {
    let name = match codec {
        codecs::CODEC_TYPE_OPUS => "Opus",
        codecs::CODEC_TYPE_SPEEX => "Speex",
        codecs::CODEC_TYPE_MUSEPACK => "Musepack",
        codecs::CODEC_TYPE_EAC3 => "AC-3/E-AC-3 (Dolby Digital)",
        codecs::CODEC_TYPE_AC4 => "AC-4",
        codecs::CODEC_TYPE_DCA => "DTS",
        codecs::CODEC_TYPE_WMA => "WMA",
        codecs::CODEC_TYPE_MP1 => "MP1",
        codecs::CODEC_TYPE_MP2 => "MP2",
        codecs::CODEC_TYPE_MP3 => "MP3",
        codecs::CODEC_TYPE_AAC => "AAC",
        codecs::CODEC_TYPE_VORBIS => "Vorbis",
        codecs::CODEC_TYPE_FLAC => "FLAC",
        codecs::CODEC_TYPE_ALAC => "ALAC",
        codecs::CODEC_TYPE_WAVPACK => "WavPack",
        codecs::CODEC_TYPE_MONKEYS_AUDIO => "Monkey's Audio",
        codecs::CODEC_TYPE_TTA => "TTA",
        codecs::CODEC_TYPE_ATRAC1
        | codecs::CODEC_TYPE_ATRAC3
        | codecs::CODEC_TYPE_ATRAC3PLUS
        | codecs::CODEC_TYPE_ATRAC9 => "ATRAC",
        CODEC_TYPE_NULL => "unknown",
        other => {
            return match symphonia::default::get_codecs().get_codec(other) {
                Some(d) => d.short_name.to_string(),
                None => format!("unknown (symphonia id {other})"),
            }
        }
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codec_names() {
        assert_eq!(codec_name(codecs::CODEC_TYPE_OPUS), "Opus");
        assert_eq!(codec_name(codecs::CODEC_TYPE_PCM_S16LE), "pcm_s16le");
    }
}
