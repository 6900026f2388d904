#!/usr/bin/env bash
# Batch throughput on this machine, in audio hours per wall hour, over a folder of episodes,
# measured three ways in one run, each from an empty podbrief home (nothing cached; models
# from the store):
#
#   summarize  `podbrief summarize FILE` on each file in turn (the reference)
#   batch-1    `podbrief batch --jobs 1` (the default): models loaded once, each episode
#              through speech recognition then distillation, on all the cores
#   batch-2    `podbrief batch --jobs 2`: two workers with half the cores and their own models
#              each, so one transcribes an episode while the other distills another
#
#   scripts/bench-batch.sh [DIR]
#
# DIR defaults to the three evaluation episodes (scripts/make-eval-audio.sh) plus the two
# shows of the summarize test: 5 episodes, 25 minutes of speech. Env: THREADS (2),
# LLM_PASSAGES (2 per episode, to keep the run short), PODBRIEF (target/release/podbrief).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
bin="${PODBRIEF:-$repo/target/release/podbrief}"
threads="${THREADS:-2}"
passages="${LLM_PASSAGES:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PODBRIEF_MODELS="${PODBRIEF_MODELS:-${PODBRIEF_HOME:-$HOME/.cache/podbrief}/models}"

if [ $# -ge 1 ]; then
    dir="$1"
else
    dir="$work/episodes"
    mkdir -p "$dir"
    eval_dir="${PODBRIEF_EVAL_DIR:-$HOME/.cache/podbrief/eval}"
    "$here/make-eval-audio.sh" "$eval_dir" >/dev/null
    cp "$eval_dir"/ep1.mp3 "$eval_dir"/ep2.mp3 "$eval_dir"/ep3.mp3 "$dir/"
    cp "$repo"/tests/fixtures/summarize/show-a.mp3 "$repo"/tests/fixtures/summarize/show-b.mp3 "$dir/"
fi
mapfile -t files < <(find "$dir" -maxdepth 1 -type f \( -name '*.mp3' -o -name '*.m4a' -o -name '*.ogg' -o -name '*.flac' -o -name '*.wav' \) | sort)
echo "${#files[@]} episodes in $dir; $threads threads; $passages LLM passages per episode"

# wall seconds and peak RSS (MiB) of a command, as "WALL RSS"
measure() {
    local log="$work/time.log"
    local t0 t1
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$log" "$@" >/dev/null 2>"$work/stderr.log" || {
        echo "failed: $*" >&2; tail -5 "$work/stderr.log" >&2; }
    t1=$(date +%s.%N)
    echo "$(echo "$t1 - $t0" | bc) $(( $(tail -1 "$log") / 1024 ))"
}

# Audio hours, from a batch report (every variant processes the same files).
run_batch() {
    local name="$1"; shift
    export PODBRIEF_HOME="$work/home-$name"
    read -r wall rss < <(measure "$bin" --threads "$threads" batch "$dir" --llm-passages "$passages" \
        --report "$work/$name.json" "$@")
    echo "$name $wall $rss"
}

summarize_all() {
    export PODBRIEF_HOME="$work/home-summarize"
    local total=0 peak=0
    for f in "${files[@]}"; do
        read -r wall rss < <(measure "$bin" --threads "$threads" summarize "$f" --llm-passages "$passages")
        total=$(echo "$total + $wall" | bc)
        [ "$rss" -gt "$peak" ] && peak=$rss
    done
    echo "summarize $total $peak"
}

{
    summarize_all
    run_batch batch-1 --jobs 1
    run_batch batch-2 --jobs 2
} | tee "$work/results.txt"

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
rows = [l.split() for l in open(f"{work}/results.txt")]
hours = json.load(open(f"{work}/batch-1.json"))["audio_hours"]
base = float(rows[0][1])
print(f"\n{hours * 60:.1f} minutes of audio")
print("| run | wall s | peak RSS MiB | audio h per wall h | speed-up vs summarize |")
print("|---|---|---|---|---|")
for name, wall, rss in rows:
    wall = float(wall)
    print(f"| {name} | {wall:.1f} | {rss} | {hours / (wall / 3600):.1f} | {base / wall:.2f}x |")
for name in ("batch-1", "batch-2"):
    s = json.load(open(f"{work}/{name}.json"))["seconds"]
    print(f"{name}: " + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(s.items())))
PY
