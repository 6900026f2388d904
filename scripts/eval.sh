#!/usr/bin/env bash
# End-to-end quality check of `podbrief summarize` on three synthetic episodes whose insights are
# known (eval/key.json): recall, brief precision, merging of duplicates across episodes and
# grounding, plus wall time and peak memory, for one or more chat models.
#
#   scripts/eval.sh [OUT_DIR]       (default: ${PODBRIEF_EVAL_DIR:-~/.cache/podbrief/eval})
#
#   MODELS="qwen2.5-coder-0.5b-instruct smollm2-135m-instruct" THREADS=4 scripts/eval.sh
#
# Steps: make the audio if missing (scripts/make-eval-audio.sh), transcribe it into
# OUT_DIR/transcripts (the scorer's reference text), then per model: timed `podbrief summarize`
# -> OUT_DIR/brief-MODEL.json, scored by scripts/score-eval.py (full report in
# OUT_DIR/score-MODEL.txt). Prints one row per model.
#
# podbrief runs with its home in OUT_DIR/home (models still come from the usual store): the
# transcript cache there makes every run after the first skip speech recognition, and the LLM
# reply cache there is emptied before each model so the timings always include generation
# (REUSE_REPLIES=1 keeps it, for re-scoring quickly). The user's own caches are left alone.
#
# Env: MODELS (default qwen2.5-coder-1.5b-instruct, the default LLM), THREADS (default 2, the target laptop's
# budget, so timings are comparable), TOP (default 5), THRESHOLD (default 0.55), PODBRIEF (binary,
# default target/release/podbrief), SUMMARIZE_ARGS (extra flags for summarize), REUSE_REPLIES,
# SET (a set's folder with episodes/ep1-3.txt and key.json; default eval, the tuning set; the
# second set, eval/scripted2, is for scoring only: `SET=eval/scripted2 scripts/eval.sh OUT_DIR`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
out_dir="${1:-${PODBRIEF_EVAL_DIR:-$HOME/.cache/podbrief/eval}}"
models="${MODELS:-qwen2.5-coder-1.5b-instruct}"
threads="${THREADS:-2}"
top="${TOP:-5}"
threshold="${THRESHOLD:-0.55}"
podbrief="${PODBRIEF:-$repo/target/release/podbrief}"
episodes=(ep1 ep2 ep3)
set_dir="$(cd "${SET:-$repo/eval}" && pwd)"

[ -x "$podbrief" ] || { echo "eval: no $podbrief (cargo build --release first)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "eval: needs GNU time at /usr/bin/time (for peak memory)" >&2; exit 1; }
mkdir -p "$out_dir"
# Two runs in one OUT_DIR would overwrite each other's briefs and empty each other's reply cache.
if command -v flock >/dev/null; then
    exec 9>"$out_dir/.eval.lock"
    flock -n 9 || { echo "eval: another eval.sh is using $out_dir (set PODBRIEF_EVAL_DIR or pass OUT_DIR)" >&2; exit 1; }
fi
# Resolve the model store before PODBRIEF_HOME is redirected below.
export PODBRIEF_MODELS="${PODBRIEF_MODELS:-${PODBRIEF_HOME:-$HOME/.cache/podbrief}/models}"
export PODBRIEF_HOME="$out_dir/home"

# make-eval-audio.sh is idempotent, and regenerates an episode whose script changed.
"$here/make-eval-audio.sh" "$out_dir" "$set_dir"/episodes/ep?.txt >/dev/null

audio=()
for ep in "${episodes[@]}"; do audio+=("$out_dir/$ep.mp3"); done

# Transcribe with the same binary: the scorer needs the reference text, and this fills the
# transcript cache that summarize then reads, so its wall time below is summarizing only.
# Instant when cached (podbrief keys the cache by the audio's hash).
tdir="$out_dir/transcripts"
echo "eval: transcribing (cached after the first run)..." >&2
"$podbrief" transcribe "${audio[@]}" --format json -o "$tdir" --threads "$threads" >&2 ||
    { echo "eval: transcription failed" >&2; exit 1; }

rows=()
for model in $models; do
    brief="$out_dir/brief-$model.json" timing="$out_dir/time-$model.txt" log="$out_dir/summarize-$model.log"
    echo "eval: summarizing with $model..." >&2
    [ "${REUSE_REPLIES:-0}" = 1 ] || rm -rf "$PODBRIEF_HOME/llm-replies"
    # shellcheck disable=SC2086 # SUMMARIZE_ARGS is a list of flags
    if ! /usr/bin/time -f '%e %M' -o "$timing" "$podbrief" summarize "${audio[@]}" --format json \
        -o "$brief" --llm-model "$model" --top "$top" --threads "$threads" ${SUMMARIZE_ARGS:-} \
        >"$log" 2>&1; then
        echo "eval: summarize failed with $model (log: $log):" >&2
        tail -n 5 "$log" >&2
        rows+=("$(printf '%-30s %8s %10s %8s %8s %8s %8s %11s' "$model" failed - - - - - -)")
        continue
    fi
    read -r wall rss_kb < <(tail -n 1 "$timing")
    score="$out_dir/score-$model.json"
    if ! python3 "$here/score-eval.py" "$brief" --key "$set_dir/key.json" --transcripts "$tdir" \
        --podbrief "$podbrief" --threshold "$threshold" --json >"$score" 2>"$out_dir/score-$model.txt"; then
        echo "eval: scoring failed for $model:" >&2
        tail -n 3 "$out_dir/score-$model.txt" >&2
        rows+=("$(printf '%-30s %7.1fs %6.0f MiB %8s %8s %8s %8s %11s' "$model" "$wall" "$((rss_kb / 1024))" unscored - - - -)")
        continue
    fi
    rows+=("$(python3 - "$score" "$model" "$wall" "$rss_kb" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
model, wall, rss = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]) / 1024
print(f"{model:<30} {wall:>7.1f}s {rss:>6.0f} MiB {100 * s['recall']:>7.0f}% "
      f"{s['brief_matched']:>4}/{s['brief_size']:<3} {s['duplicates_merged']:>4}/{s['duplicate_groups']:<3} "
      f"{s['duplicates_covering']:>4}/{s['duplicate_groups']:<3} {s['unsupported']:>7}/{s['checked']}")
EOF
)")
done

printf '\n%-30s %8s %10s %8s %8s %8s %8s %11s\n' model wall "peak RSS" recall brief merged cited unsupported
printf '%s\n' "${rows[@]}"
# merged: duplicate groups carried by exactly one cluster; cited: ... whose sources name every
# episode that says it (a cluster found in only one episode counts as merged but not cited).
echo "(reports: $out_dir/score-MODEL.txt; threads $threads, top $top, threshold $threshold)"
