//! Rendering a transcript in each output format.

use super::{Format, Transcript};

pub fn render(t: &Transcript, format: Format) -> String {
    match format {
        Format::Txt => {
            let mut s = t.text();
            s.push('\n');
            s
        }
        Format::Srt => t
            .segments
            .iter()
            .enumerate()
            .map(|(i, seg)| {
                format!(
                    "{}\n{} --> {}\n{}\n\n",
                    i + 1,
                    timestamp(seg.start, ','),
                    timestamp(seg.end, ','),
                    seg.text
                )
            })
            .collect(),
        Format::Vtt => {
            let mut s = String::from("WEBVTT\n\n");
            for seg in &t.segments {
                s.push_str(&format!(
                    "{} --> {}\n{}\n\n",
                    timestamp(seg.start, '.'),
                    timestamp(seg.end, '.'),
                    seg.text.replace("-->", "->")
                ));
            }
            s
        }
        Format::Json => {
            // Serialising plain data cannot fail.
            let mut s = serde_json::to_string_pretty(t).unwrap_or_default();
            s.push('\n');
            s
        }
    }
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
pub fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asr::Segment;

    fn sample() -> Transcript {
        Transcript {
            source: "a.mp3".into(),
            audio_sha256: "00".into(),
            model: "whisper-tiny.en".into(),
            backend: "candle".into(),
            duration: 3725.5,
            segments: vec![
                Segment {
                    start: 0.0,
                    end: 1.5,
                    text: "Hello.".into(),
                    avg_logprob: -0.2,
                    no_speech_prob: 0.01,
                    speaker: None,
                    ad: false,
                },
                Segment {
                    start: 3723.25,
                    end: 3725.5,
                    text: "Bye.".into(),
                    avg_logprob: -0.3,
                    no_speech_prob: 0.02,
                    speaker: None,
                    ad: true,
                },
            ],
        }
    }

    #[test]
    fn srt_and_vtt_timestamps() {
        assert_eq!(timestamp(3723.25, ','), "01:02:03,250");
        let srt = render(&sample(), Format::Srt);
        assert!(srt.starts_with("1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n2\n01:02:03,250"));
        let vtt = render(&sample(), Format::Vtt);
        assert!(vtt.starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello."));
    }

    #[test]
    fn json_round_trips() {
        let t = sample();
        let back: Transcript = serde_json::from_str(&render(&t, Format::Json)).unwrap();
        assert_eq!(back, t);
    }
}
