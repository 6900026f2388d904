#!/usr/bin/env bash
# Generate spoken test audio from the reference scripts in tests/fixtures/speech/.
#
#   scripts/make-tts-fixtures.sh [OUT_DIR]      (default: tests/fixtures/speech/)
#
# For each clip NAME in CLIPS (default "speech-short speech-long") it reads
# tests/fixtures/speech/NAME.txt (one paragraph per non-empty line) and writes
# OUT_DIR/NAME.txt (copy of the reference), OUT_DIR/NAME.wav (16 kHz mono s16)
# and OUT_DIR/NAME.mp3 (48 kbps mono, 22.05 kHz).
#
# Paragraphs alternate between two espeak-ng voices to mimic two hosts.
# Idempotent: existing outputs are kept; FORCE=1 regenerates everything.
# If NAME.mp3 already exists (speech-short.mp3 is committed) but NAME.wav does
# not, the WAV is decoded from that MP3 rather than re-synthesised, so both
# files carry the same speech whatever espeak-ng version is installed.
#
# Output is byte-for-byte repeatable on one machine (sox -D: no random dither;
# ffmpeg bitexact, no metadata), but not across espeak-ng/lame versions.
#
# Needs: espeak-ng, sox, ffmpeg (with libmp3lame).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
src_dir="$repo/tests/fixtures/speech"
out_dir="${1:-$src_dir}"
clips="${CLIPS:-speech-short speech-long}"

# Voices and rate were chosen so that Whisper tiny.en transcribes the result
# almost perfectly (WER well under 5 % with faster-whisper, int8): two
# clearly different voices, moderate speed, short pauses between paragraphs.
voice_a="${VOICE_A:-en-us}"
voice_b="${VOICE_B:-en-gb+m3}"
rate="${RATE:-160}"       # words per minute (espeak -s)
pitch_a="${PITCH_A:-45}"
pitch_b="${PITCH_B:-60}"
gap="${PARA_GAP:-0.7}"    # seconds of silence between paragraphs
word_gap="${WORD_GAP:-3}" # extra pause between words, in 10 ms units (espeak -g)

for tool in espeak-ng sox ffmpeg; do
    command -v "$tool" >/dev/null || { echo "make-tts-fixtures: $tool not found" >&2; exit 1; }
done

mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

synth() { # synth NAME: TTS NAME.txt -> $tmp/NAME.master.wav (espeak's native 22.05 kHz)
    local name="$1" i=0 voice pitch parts=()
    while IFS= read -r line || [ -n "$line" ]; do
        [ -n "${line// /}" ] || continue
        if [ $((i % 2)) -eq 0 ]; then voice="$voice_a"; pitch="$pitch_a"; else voice="$voice_b"; pitch="$pitch_b"; fi
        espeak-ng -v "$voice" -s "$rate" -p "$pitch" -g "$word_gap" -w "$tmp/p$i.raw.wav" -- "$line"
        # Normalise format (mono s16) and append the pause, so that the
        # concatenation below is a plain sox join.
        sox -D -G "$tmp/p$i.raw.wav" -r 22050 -c 1 -b 16 "$tmp/p$i.wav" pad 0 "$gap"
        parts+=("$tmp/p$i.wav")
        i=$((i + 1))
    done < "$src_dir/$name.txt"
    [ "$i" -gt 0 ] || { echo "make-tts-fixtures: $name.txt is empty" >&2; exit 1; }
    # Leading 0.5 s of silence: real episodes rarely start on the first sample.
    sox -D -n -r 22050 -c 1 -b 16 "$tmp/lead.wav" trim 0 0.5
    sox -D -G "$tmp/lead.wav" "${parts[@]}" "$tmp/$name.master.wav"
}

for name in $clips; do
    [ -f "$src_dir/$name.txt" ] || { echo "make-tts-fixtures: no $src_dir/$name.txt" >&2; exit 1; }
    wav="$out_dir/$name.wav" mp3="$out_dir/$name.mp3"
    [ "$out_dir/$name.txt" -ef "$src_dir/$name.txt" ] || cp "$src_dir/$name.txt" "$out_dir/$name.txt"
    if [ "${FORCE:-0}" = 1 ]; then rm -f "$wav" "$mp3"; fi
    if [ ! -f "$mp3" ]; then
        synth "$name"
        # The MP3 keeps the 22.05 kHz master rate on purpose: podcasts are
        # never 16 kHz, so decoding it exercises the resampler. Bitexact
        # flags and no metadata keep the bytes stable from run to run.
        ffmpeg -nostdin -loglevel error -y -i "$tmp/$name.master.wav" -ac 1 -c:a libmp3lame -b:a 48k \
            -map_metadata -1 -fflags +bitexact -flags:a +bitexact "$tmp/$name.mp3"
        sox -D -G "$tmp/$name.master.wav" -r 16000 -c 1 -b 16 "$tmp/$name.wav"
        mv "$tmp/$name.mp3" "$mp3"
        mv "$tmp/$name.wav" "$wav"
    elif [ ! -f "$wav" ]; then
        # MP3 present (committed) but no WAV: decode it instead of
        # re-synthesising, so WAV and MP3 carry the same speech whatever
        # espeak-ng version this machine has.
        ffmpeg -nostdin -loglevel error -y -i "$mp3" -ar 16000 -ac 1 -c:a pcm_s16le -map_metadata -1 \
            -fflags +bitexact "$tmp/$name.wav"
        mv "$tmp/$name.wav" "$wav"
    fi
    printf '%s: %s s (wav), %s bytes (mp3)\n' "$name" "$(soxi -D "$wav")" "$(wc -c < "$mp3" | tr -d ' ')"
done
