#!/usr/bin/env bash
# Peak memory of `podbrief batch` over a folder of 100 audio files, to show it stays bounded
# (the hand-over between the stages holds at most --jobs transcripts; nothing accumulates per
# file except the final brief's sentences).
#
#   scripts/bench-batch-memory.sh [COUNT]      (default 100)
#
# The files are the 11-second jfk recording, each padded with a different length of silence so
# that every one is a distinct episode (batch deduplicates identical content). Runs with
# --brief (a brief of all COUNT episodes) and without the LLM (--llm-passages 0), so it
# measures the pipeline, not the chat model (whose memory bench-llm.sh measures).
# Prints wall seconds, peak RSS, and the same for 10 files to compare. Needs sox.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="${PODBRIEF:-$repo/target/release/podbrief}"
count="${1:-100}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PODBRIEF_MODELS="${PODBRIEF_MODELS:-${PODBRIEF_HOME:-$HOME/.cache/podbrief}/models}"

mkdir -p "$work/in"
for i in $(seq 1 "$count"); do
    sox "$repo/../shared/fixtures/jfk.wav" "$work/in/jfk-$i.wav" pad 0 "0.$(printf '%03d' "$i")"
done
run() {
    local n="$1" dir="$work/in-$1"
    mkdir -p "$dir"
    find "$work/in" -name '*.wav' | sort | head -n "$n" | xargs -I{} ln -s {} "$dir/"
    export PODBRIEF_HOME="$work/home-$n"
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss-$n" "$bin" batch "$dir" --llm-passages 0 --brief \
        -o "$work/brief-$n.md" --report "$work/report-$n.json" 2>/dev/null
    t1=$(date +%s.%N)
    printf '%4d files: %6.1f s, peak RSS %5d MiB, processed %s\n' "$n" "$(echo "$t1 - $t0" | bc)" \
        "$(( $(tail -1 "$work/rss-$n") / 1024 ))" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["processed"])' "$work/report-$n.json")"
}
run 10
run "$count"
