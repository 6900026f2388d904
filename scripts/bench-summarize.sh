#!/usr/bin/env bash
# Speed of `podbrief summarize` on a 60-minute episode, on the machine's cores (default 2).
#
#   scripts/bench-summarize.sh            distillation only: a 67-minute transcript -> brief
#   E2E=1 scripts/bench-summarize.sh      also end to end: 67 minutes of mp3 audio -> brief
#
# The episode is the evaluation set's three conversations (scripts/eval.sh makes and
# transcribes them) played over and over until it lasts an hour (three passes, 67 minutes), with times shifted: real speech, real filler,
# a realistic number of sentences (about 770). Distillation runs with --no-cache, so the
# LLM generates every reply; speech recognition runs with --no-cache too in the E2E run.
# Prints wall seconds and peak RSS per run and the per-stage seconds from the brief's JSON.
#
# Env: THREADS (2), MODEL (default LLM), PODBRIEF (target/release/podbrief), EVAL_DIR.
# Targets (issue "Summarize"): distillation <= 90 s, end to end <= 6 min, on 2 cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="${PODBRIEF:-$repo/target/release/podbrief}"
threads="${THREADS:-2}"
eval_dir="${EVAL_DIR:-${PODBRIEF_EVAL_DIR:-$HOME/.cache/podbrief/eval}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
model_args=()
[ -n "${MODEL:-}" ] && model_args=(--llm-model "$MODEL")

for ep in ep1 ep2 ep3; do
    if [ ! -f "$eval_dir/transcripts/$ep.json" ]; then
        echo "bench-summarize: no $eval_dir/transcripts/$ep.json; run scripts/eval.sh first" >&2
        exit 1
    fi
done

# Four passes over the three transcripts, as one podbrief transcript JSON.
python3 - "$eval_dir/transcripts" "$work/long.json" <<'PY'
import json, sys
src, out = sys.argv[1], sys.argv[2]
segments, offset = [], 0.0
passes = 0
while offset < 3600:  # whole passes until the episode lasts an hour
    passes += 1
    for ep in ("ep1", "ep2", "ep3"):
        t = json.load(open(f"{src}/{ep}.json"))
        for s in t["segments"]:
            s = dict(s, start=s["start"] + offset, end=s["end"] + offset)
            segments.append(s)
        offset += t["duration"]
json.dump({"source": "long.mp3", "audio_sha256": "bench", "model": "whisper-tiny.en",
           "backend": "candle", "duration": offset, "segments": segments}, open(out, "w"))
print(f"bench-summarize: {offset / 60:.1f} minutes, {len(segments)} segments")
open(out + ".passes", "w").write(str(passes))
PY

run() { # run LABEL ARGS…: timed summarize with a private home, JSON brief to $work/LABEL.json
    local label="$1"; shift
    PODBRIEF_HOME="$work/home" PODBRIEF_MODELS="${PODBRIEF_MODELS:-$HOME/.cache/podbrief/models}" \
        /usr/bin/time -f '%e %M' -o "$work/$label.time" \
        "$bin" --threads "$threads" summarize "$@" "${model_args[@]}" --no-cache \
        --format json -o "$work/$label.json" 2>"$work/$label.log" || { cat "$work/$label.log" >&2; exit 1; }
    read -r wall kb < "$work/$label.time"
    python3 - "$work/$label.json" "$label" "$wall" "$kb" <<'PY'
import json, sys
b = json.load(open(sys.argv[1]))
s = b["stats"]
stages = ", ".join(f"{k} {v:.1f}s" for k, v in s["seconds"].items())
print(f"{sys.argv[2]:>14}: {float(sys.argv[3]):7.1f} s wall, peak RSS {int(sys.argv[4]) // 1024} MiB; "
      f"{s['sentences']} sentences, {s['nominated']} nominated, {s['llm_passages']} rewritten; {stages}")
PY
}

run distill "$work/long.json"

if [ "${E2E:-0}" = 1 ]; then
    list="$work/list.txt"
    for _ in $(seq "$(cat "$work/long.json.passes")"); do for ep in ep1 ep2 ep3; do echo "file '$eval_dir/$ep.mp3'" >> "$list"; done; done
    ffmpeg -nostdin -loglevel error -f concat -safe 0 -i "$list" -c copy "$work/long.mp3"
    run end-to-end "$work/long.mp3"
fi
