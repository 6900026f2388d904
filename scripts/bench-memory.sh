#!/usr/bin/env bash
# Peak memory of `podbrief transcribe` on a long episode (default 60 minutes, 44.1 kHz stereo
# mp3 made by make-long-audio.sh), for each backend, measured with /usr/bin/time -v. Audio is
# streamed, so the figure should not grow with the episode's length.
#
#   scripts/bench-memory.sh [MINUTES]      BACKENDS="candle whisper-cpp" BEAM=5 THREADS=2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."
minutes="${1:-60}"
bin="${PODBRIEF_BIN:-target/release/podbrief}"
home="${PODBRIEF_HOME:-$HOME/.cache/podbrief}"
audio="$home/bench-out/long-${minutes}min.mp3"
mkdir -p "$home/bench-out"
[ -f "$audio" ] || "$here/make-long-audio.sh" "$audio" "$minutes" >&2
for backend in ${BACKENDS:-candle whisper-cpp}; do
    report="$home/bench-out/memory-$backend.time"
    /usr/bin/time -v -o "$report" "$bin" transcribe --no-cache --backend "$backend" \
        --beam-size "${BEAM:-5}" --threads "${THREADS:-2}" "$audio" > "$home/bench-out/long-$backend.txt"
    awk -F': ' -v b="$backend" -v m="$minutes" '
        /Maximum resident set size/ { rss = $2 }
        /Elapsed \(wall clock\)/ { wall = $2 }
        END { printf "%s: %s min of audio, wall %s, peak RSS %.0f MiB\n", b, m, wall, rss / 1024 }' "$report"
done
