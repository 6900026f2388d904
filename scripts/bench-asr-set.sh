#!/usr/bin/env bash
# scripts/bench-asr.sh over a set of seven clips (about 45 minutes, 7,144 words) instead of one,
# so that the WER comparison rests on enough words to mean something: on the one 6-minute clip,
# podbrief and faster-whisper differ by 2 points at beam 1 one way, and on another clip by half
# a point the other way, which is what greedy decoding of a few hundred words does by chance.
#
#   scripts/bench-asr-set.sh             beam 5
#   BEAM=1 scripts/bench-asr-set.sh      greedy
#
# The clips: speech-long (tests/fixtures/speech, as bench-asr.sh makes it) and the six scripted
# two-voice episodes of eval/episodes and eval/scripted2/episodes, spoken by
# scripts/make-eval-audio.sh into $PODBRIEF_HOME/bench-audio (made once, reused after). Each
# clip is one run of bench-asr.sh (podbrief, then faster-whisper, same weights, beam and
# threads); the table sums the wall times (model load included, once per clip for each engine)
# and pools the errors over all clips' words.
#
# Environment: as bench-asr.sh (BEAM, THREADS, PODBRIEF_BIN, BACKENDS (default candle here),
# PODBRIEF_HOME); BENCH_OUT (default $PODBRIEF_HOME/bench-out-set) keeps every clip's output.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"
home="${PODBRIEF_HOME:-$HOME/.cache/podbrief}"
audio_dir="$home/bench-audio"
out="${BENCH_OUT:-$home/bench-out-set}"
export BACKENDS="${BACKENDS:-candle}"
mkdir -p "$audio_dir/scripts" "$out"

# The scripted episodes, named apart (both sets call theirs ep1..ep3), spoken once.
for f in eval/episodes/ep*.txt; do cp "$f" "$audio_dir/scripts/dev-$(basename "$f")"; done
for f in eval/scripted2/episodes/ep*.txt; do cp "$f" "$audio_dir/scripts/s2-$(basename "$f")"; done
"$here/make-eval-audio.sh" "$audio_dir" "$audio_dir"/scripts/*.txt >&2
clips=()
for f in "$audio_dir"/scripts/*.txt; do
    name="$(basename "$f" .txt)"
    # The reference is what the voices say: no title line, no speaker tags.
    grep -v '^# Title:' "$f" | sed 's/^[AB]: //' > "$audio_dir/$name.ref"
    clips+=("$audio_dir/$name.mp3:$audio_dir/$name.ref")
done
long="tests/fixtures/speech/speech-long.mp3"
[ -f "$long" ] || CLIPS=speech-long "$here/make-tts-fixtures.sh" tests/fixtures/speech >&2
clips+=("$long:tests/fixtures/speech/speech-long.txt")

rows="$out/rows.tsv"
: > "$rows"
for clip in "${clips[@]}"; do
    audio="${clip%%:*}" ref="${clip#*:}" name="$(basename "${clip%%:*}" .mp3)"
    table="$(BENCH_AUDIO="$audio" BENCH_REF="$ref" BENCH_OUT="$out/$name" "$here/bench-asr.sh")"
    echo "$table" >&2
    for engine in $(echo "$table" | awk '$1 ~ /^(podbrief-|faster-whisper)/ { print $1 }'); do
        hyp="$out/$name/$engine.txt"
        counts="$(python3 "$here/wer.py" --details "$ref" "$hyp" | sed -n 2p)"
        wall="$(echo "$table" | awk -v e="$engine" '$1 == e { print $2 }')"
        echo "$name $engine $wall $counts" >> "$rows"
    done
done

awk -v beam="${BEAM:-5}" -v th="${THREADS:-2}" '
    { n = split($0, f, " "); e = f[2]; wall[e] += f[3]
      for (i = 4; i <= n; i++) { split(f[i], kv, "="); c[e, kv[1]] += kv[2] }
      if (!(e in seen)) { seen[e] = 1; order[++k] = e } }
    END {
      printf "\n%d clips, tiny.en, beam %d, %d threads\n\n", NR / k, beam, th
      printf "%-18s %9s %8s %7s %10s\n", "engine", "wall_s", "words", "WER", "wall/fw"
      for (j = 1; j <= k; j++) { e = order[j]
        err = c[e, "sub"] + c[e, "del"] + c[e, "ins"]
        printf "%-18s %9.1f %8d %6.2f%% %9.2fx\n", e, wall[e], c[e, "ref_words"],
            100 * err / c[e, "ref_words"], wall[e] / wall["faster-whisper"] }
    }' "$rows"
echo "per clip: $rows" >&2
