#!/usr/bin/env bash
# Speak two-host podcast scripts into MP3 episodes for the summarize evaluation and its tests.
#
#   scripts/make-eval-audio.sh [OUT_DIR] [EPISODE.txt ...]
#
# OUT_DIR defaults to ${PODBRIEF_EVAL_DIR:-~/.cache/podbrief/eval}; episodes default to
# $EPISODES, else eval/episodes/ep*.txt. For each NAME.txt it writes OUT_DIR/NAME.mp3 and a copy
# OUT_DIR/NAME.txt. The integration-test fixture is made with the same script:
#
#   BITRATE=32k scripts/make-eval-audio.sh tests/fixtures/summarize \
#       tests/fixtures/summarize/show-a.txt tests/fixtures/summarize/show-b.txt
#
# Script format: an optional first line "# Title: ..." (becomes the MP3's title tag, which is how
# a real episode carries its name), then one paragraph per line, each "A: ..." or "B: ...". The tag
# picks the voice, not the line's position, because real hosts do not strictly alternate.
#
# Why synthetic audio: the evaluation needs episodes whose insights, duplicates and filler are
# known exactly (eval/key.json), and nothing here may be downloaded. The eval audio is not
# committed (it is reproducible and large); the small test fixture MP3s are, so tests do not
# depend on the espeak-ng version installed.
#
# Idempotent: each MP3 carries a hash of its script and of the voice/encoding settings in its
# comment tag, and is regenerated only when that hash changes (editing one episode remakes just
# that one; a fresh git checkout, whatever its file times, remakes nothing); FORCE=1 remakes all.
# Output is byte-for-byte repeatable on one machine (sox -D: no random dither; ffmpeg bitexact),
# but not across espeak-ng/lame versions.
#
# The scripts' wording was adjusted until Whisper tiny.en got every planted insight's numbers and
# names right in context (espeak's voices make it mishear some words: "data" after certain
# phrases, "left pad", "gas stoves" at a sentence end, invented names). After editing a script,
# transcribe the result and check the key words again.
#
# Needs: espeak-ng, sox, ffmpeg (with libmp3lame).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out_dir="${1:-${PODBRIEF_EVAL_DIR:-$HOME/.cache/podbrief/eval}}"
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then
    episodes=("$@")
elif [ -n "${EPISODES:-}" ]; then
    read -r -a episodes <<< "$EPISODES"
else
    episodes=("$repo"/eval/episodes/ep*.txt)
fi

# Same voices, speed and pauses as scripts/make-tts-fixtures.sh, where they were tuned so that
# Whisper tiny.en transcribes the speech almost perfectly: the evaluation is meant to measure
# the summarizer, not recognition errors. (Other en voices tried for B were no better.)
voice_a="${VOICE_A:-en-us}"
voice_b="${VOICE_B:-en-gb+m3}"
rate="${RATE:-160}"        # words per minute (espeak -s)
pitch_a="${PITCH_A:-45}"
pitch_b="${PITCH_B:-60}"
gap="${PARA_GAP:-0.7}"     # seconds of silence between paragraphs
word_gap="${WORD_GAP:-3}"  # extra pause between words, in 10 ms units (espeak -g)
bitrate="${BITRATE:-48k}"  # the fixture uses 32k to stay small in git
sample_rate="${SAMPLE_RATE:-22050}" # espeak's native rate; podcasts are never 16 kHz, so decoding exercises the resampler

for tool in espeak-ng sox ffmpeg; do
    command -v "$tool" >/dev/null || { echo "make-eval-audio: $tool not found" >&2; exit 1; }
done

mkdir -p "$out_dir"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

make_episode() { # make_episode SRC.txt OUT.mp3 STAMP
    local src="$1" mp3="$2" stamp="$3" title="" i=0 n=0 line tag text voice pitch parts=()
    while IFS= read -r line || [ -n "$line" ]; do
        line="${line%$'\r'}"
        [ -n "${line//[[:space:]]/}" ] || continue
        n=$((n + 1))
        if [ "$n" -eq 1 ] && [[ "$line" == "# Title:"* ]]; then
            title="${line#\# Title:}"
            title="${title#"${title%%[![:space:]]*}"}"
            continue
        fi
        tag="${line%%:*}" text="${line#*:}"
        case "$tag" in
            A) voice="$voice_a" pitch="$pitch_a" ;;
            B) voice="$voice_b" pitch="$pitch_b" ;;
            *) echo "make-eval-audio: $src: line without an A: or B: speaker tag: $line" >&2; exit 1 ;;
        esac
        espeak-ng -v "$voice" -s "$rate" -p "$pitch" -g "$word_gap" -w "$tmp/p$i.raw.wav" -- "${text# }"
        # One format for every paragraph (mono s16, espeak's rate) plus the pause, so the join
        # below is a plain concatenation.
        sox -D -G "$tmp/p$i.raw.wav" -r 22050 -c 1 -b 16 "$tmp/p$i.wav" pad 0 "$gap"
        parts+=("$tmp/p$i.wav")
        i=$((i + 1))
    done < "$src"
    [ "$i" -gt 0 ] || { echo "make-eval-audio: $src has no speech lines" >&2; exit 1; }
    # Leading 0.5 s of silence: real episodes rarely start on the first sample.
    sox -D -n -r 22050 -c 1 -b 16 "$tmp/lead.wav" trim 0 0.5
    sox -D -G "$tmp/lead.wav" "${parts[@]}" "$tmp/master.wav"
    rm -f "$tmp"/p*.wav
    # -map_metadata -1 and bitexact keep the bytes stable from run to run (no encoder version
    # or date); the title and the stamp are the only tags, set on purpose.
    local meta=(-metadata "comment=$stamp")
    [ -z "$title" ] || meta+=(-metadata "title=$title")
    ffmpeg -nostdin -loglevel error -y -i "$tmp/master.wav" -ac 1 -ar "$sample_rate" \
        -c:a libmp3lame -b:a "$bitrate" -map_metadata -1 "${meta[@]}" \
        -fflags +bitexact -flags:a +bitexact "$tmp/out.mp3"
    mv "$tmp/out.mp3" "$mp3"
}

settings="$voice_a/$pitch_a $voice_b/$pitch_b $rate $word_gap $gap $bitrate $sample_rate"
for src in "${episodes[@]}"; do
    [ -f "$src" ] || { echo "make-eval-audio: no such episode script: $src" >&2; exit 1; }
    name="$(basename "$src" .txt)"
    mp3="$out_dir/$name.mp3" copy="$out_dir/$name.txt"
    stamp="make-eval-audio $( { cat "$src"; echo "$settings"; } | sha256sum | cut -c1-16)"
    have="$( [ -f "$mp3" ] && ffprobe -v error -show_entries format_tags=comment -of default=nw=1:nk=1 "$mp3" || true)"
    if [ "${FORCE:-0}" = 1 ] || [ "$have" != "$stamp" ]; then
        make_episode "$src" "$mp3" "$stamp"
    fi
    [ "$src" -ef "$copy" ] || cmp -s "$src" "$copy" || cp "$src" "$copy"
    dur="$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$mp3")"
    printf '%s: %.1f s, %s bytes, %s words\n' "$name" "$dur" \
        "$(wc -c < "$mp3" | tr -d ' ')" "$(grep -v '^# Title:' "$src" | sed 's/^[AB]: //' | wc -w | tr -d ' ')"
done
