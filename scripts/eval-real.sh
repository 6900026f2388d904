#!/usr/bin/env bash
# Briefs of the real evaluation episodes (eval/real/episodes/*.md), one folder per chat model,
# for blind judging (eval/real/JUDGING.md). Each episode is summarized on its own, from an empty
# podbrief home (no cached LLM replies), with its wall time and peak memory recorded.
#
#   scripts/eval-real.sh OUT_DIR [MODEL…]      MODEL: registry name (default: the default LLM)
#
# Writes OUT_DIR/MODEL/EPISODE.{json,md} and OUT_DIR/MODEL/times.tsv (episode, seconds, peak
# RSS in MiB, distill seconds from the brief's stats), keeps the model's replies in
# OUT_DIR/MODEL/replies/EPISODE and the distillation trace in OUT_DIR/MODEL/logs/EPISODE.log. REPLIES=OLD_OUT_DIR starts each episode with the replies of an
# earlier run (to re-judge a change after the model's step; its times are then not cold).
# EPISODES=eval/heldout/episodes briefs the held-out set instead; PODBRIEF_ARGS adds options to
# `summarize` (e.g. "--llm-passages 20" to judge another setting).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:?usage: scripts/eval-real.sh OUT_DIR [MODEL…]}"
shift
models=("$@")
[ ${#models[@]} -gt 0 ] || models=("qwen2.5-coder-1.5b-instruct")
# BIN: another podbrief binary (e.g. a copy, so a rebuild during a long run changes nothing).
bin="${BIN:-./target/release/podbrief}"
[ -x "$bin" ] || cargo build --release
export PODBRIEF_MODELS="${PODBRIEF_MODELS:-${PODBRIEF_HOME:-$HOME/.cache/podbrief}/models}"
threads="${THREADS:-2}"

for model in "${models[@]}"; do
  dir="$out/$model"
  mkdir -p "$dir"
  printf 'episode\tseconds\tpeak_mib\tdistill_seconds\n' >"$dir/times.tsv"
  for ep in "${EPISODES:-eval/real/episodes}"/*.md; do
    id=$(basename "$ep" .md)
    home=$(mktemp -d)
    if [ -n "${REPLIES:-}" ] && [ -d "$REPLIES/$model/replies/$id" ]; then
      cp -r "$REPLIES/$model/replies/$id" "$home/llm-replies"
    fi
    start=$(date +%s.%N)
    # The distillation trace (spans, nominations, the spans written up) goes to logs/, for
    # replaying the span choice offline (scripts/span-choice.py logs/).
    mkdir -p "$dir/logs"
    PODBRIEF_HOME="$home" RUST_LOG="${RUST_LOG:-podbrief::distill=trace}" \
      /usr/bin/time -f '%M' -o "$home/rss" \
      "$bin" --threads "$threads" summarize "$ep" --llm-model "$model" ${PODBRIEF_ARGS:-} --explain \
      --format json -o "$dir/$id.json" 2>"$dir/logs/$id.log" \
      || { tail -20 "$dir/logs/$id.log" >&2; exit 1; }
    secs=$(echo "$(date +%s.%N) - $start" | bc)
    # The same brief as Markdown, from the replies just cached.
    PODBRIEF_HOME="$home" "$bin" --threads "$threads" summarize "$ep" --llm-model "$model" \
      ${PODBRIEF_ARGS:-} --format md -o "$dir/$id.md"
    distill=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1]))['stats']['seconds']; print(round(sum(s.values()),1))" "$dir/$id.json")
    printf '%s\t%.1f\t%d\t%s\n' "$id" "$secs" "$(( $(cat "$home/rss") / 1024 ))" "$distill" >>"$dir/times.tsv"
    mkdir -p "$dir/replies"
    rm -rf "${dir:?}/replies/$id"
    [ -d "$home/llm-replies" ] && cp -r "$home/llm-replies" "$dir/replies/$id"
    rm -rf "$home"
    echo "$model $id: ${secs}s" >&2
  done
done
