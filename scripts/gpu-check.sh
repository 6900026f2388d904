#!/usr/bin/env bash
# The GPU verification, one short script for a machine with an NVIDIA GPU:
#
#   scripts/gpu-check.sh [BIN]        (BIN: target-cuda/release/podbrief, see build-cuda.sh)
#
# 1. the jfk recording and the TTS fixture transcribe correctly on cuda:0 (WER against the
#    known text, and the same text as on the CPU);
# 2. a 60-minute MP3 (scripts/make-long-audio.sh) goes to a brief on cuda:0, end to end, timed
#    (target on one H100: <= 30 s), and on the CPU for the ratio when CPU=1;
# 3. a batch of the fixture shows on cuda:0 with its report.
#
# Needs the default models in $PODBRIEF_MODELS (podbrief models fetch) and ffmpeg + sox for
# the long file. Writes a summary to $OUT/gpu-check.txt when OUT is set (the device tool's
# output folder), else to stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="${1:-$repo/target-cuda/release/podbrief}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PODBRIEF_HOME="$work/home"
export PODBRIEF_MODELS="${PODBRIEF_MODELS:-$HOME/.cache/podbrief/models}"
# The CUDA libraries of a PyPI toolkit (scripts/build-cuda.sh) when there is no system one.
cu13="$(ls -d "${CUDA_CACHE:-$HOME/.cache/podbrief/cuda}"/venv/lib/python3*/site-packages/nvidia/cu13 2>/dev/null || true)"
[ -n "$cu13" ] && export LD_LIBRARY_PATH="$cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
out="${OUT:+$OUT/gpu-check.txt}"
out="${out:-/dev/stdout}"
say() { echo "$*" | tee -a "$work/summary.txt"; }
secs() { local t0; t0=$(date +%s.%N); "$@"; echo "$(date +%s.%N) - $t0" | bc; }

say "== $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader)"
say "== binary: $bin"

for f in "$repo/../shared/fixtures/jfk.wav" "$repo/tests/fixtures/speech/speech-short.mp3"; do
    name="$(basename "$f")"
    t=$(secs "$bin" transcribe --device cuda:0 --no-cache "$f" >"$work/$name.gpu.txt")
    "$bin" transcribe --no-cache "$f" >"$work/$name.cpu.txt"
    ref="${f%.*}.txt"
    [ -f "$ref" ] || { echo "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country." >"$work/jfk.ref"; ref="$work/jfk.ref"; }
    wer=$(python3 "$here/wer.py" "$ref" "$work/$name.gpu.txt")
    same=$(cmp -s "$work/$name.gpu.txt" "$work/$name.cpu.txt" && echo same || echo differs)
    say "transcribe $name on cuda:0: ${t}s, WER $wer, text $same as on the CPU"
done

long="$work/long.mp3"
"$here/make-long-audio.sh" "$long" 60 >/dev/null 2>&1
t=$(secs "$bin" summarize --device cuda:0 --no-cache "$long" --format json -o "$work/long.json")
say "60-minute mp3 -> brief on cuda:0: ${t}s (target <= 30 s on one H100)"
python3 -c "import json,sys; b=json.load(open(sys.argv[1])); print('  stages', b['stats']['seconds'], '\n  top:', b['brief'][0]['headline'][:100])" "$work/long.json" | tee -a "$work/summary.txt"
if [ "${CPU:-0}" = 1 ]; then
    t=$(secs "$bin" summarize --no-cache "$long" --format json -o "$work/long-cpu.json")
    say "60-minute mp3 -> brief on the CPU ($(nproc) cores): ${t}s"
fi

mkdir -p "$work/shows"
cp "$repo"/tests/fixtures/summarize/show-*.mp3 "$repo"/tests/fixtures/feeds/show-a-2.mp3 "$work/shows/"
t=$(secs "$bin" batch "$work/shows" --device cuda:0 --brief -o "$work/shows.md" --report "$work/report.json")
say "batch of 3 shows on cuda:0: ${t}s; report: $(tr -d '\n ' <"$work/report.json" | cut -c1-300)"
cp "$work/summary.txt" "$out" 2>/dev/null || cat "$work/summary.txt"
