#!/usr/bin/env bash
# Benchmark podbrief's Whisper against faster-whisper on the same audio, same
# model (tiny.en), same beam size and thread count, and print a small table:
# wall time (model load included), load and transcribe times, real-time
# factor, peak RSS and WER against the reference script.
#
#   scripts/bench-asr.sh                 beam 5 (faster-whisper's default)
#   BEAM=1 scripts/bench-asr.sh          greedy
#
# Environment:
#   PODBRIEF_BIN      podbrief binary (default: target/release/podbrief)
#   PODBRIEF_CT2_DIR  CTranslate2 tiny.en directory for faster-whisper (default:
#                     what `podbrief models path whisper-tiny.en --source` prints,
#                     i.e. the folder podbrief converted its weights from, so both
#                     engines run the very same weights)
#   PODBRIEF_HOME     cache root (default: ~/.cache/podbrief); the faster-whisper
#                     venv lives in $PODBRIEF_HOME/bench-venv
#   BEAM, THREADS     beam size (5) and CPU threads (2) for both engines
#   SPEECH_DIR        where speech-long.{mp3,txt} are, generated if missing
#                     (default: tests/fixtures/speech)
#   BENCH_AUDIO, BENCH_REF   other audio and reference text to score
#   BENCH_OUT         where transcripts and raw timings are kept
#                     (default: $PODBRIEF_HOME/bench-out)
#
# Needs: python3 (venv + pip, reaching the Python package index once),
# /usr/bin/time (Debian package "time"), ffmpeg, and for generating the clip
# espeak-ng and sox.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

beam="${BEAM:-5}"
threads="${THREADS:-2}"
bin="${PODBRIEF_BIN:-target/release/podbrief}"
home="${PODBRIEF_HOME:-$HOME/.cache/podbrief}"
venv="$home/bench-venv"
speech_dir="${SPEECH_DIR:-$repo/tests/fixtures/speech}"
audio="${BENCH_AUDIO:-$speech_dir/speech-long.mp3}"
ref="${BENCH_REF:-${audio%.*}.txt}"
out="${BENCH_OUT:-$home/bench-out}"

die() { echo "bench-asr: $*" >&2; exit 1; }
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time): it reports peak RSS"
[ -x "$bin" ] || die "no podbrief binary at $bin (cargo build --release, or set PODBRIEF_BIN)"

# faster-whisper lives in its own venv so the benchmark never touches the
# system Python; installed once, reused after.
if ! "$venv/bin/python" -c 'import faster_whisper' 2>/dev/null; then
    echo "bench-asr: installing faster-whisper into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check faster-whisper
fi

if [ ! -f "$audio" ]; then
    [ -z "${BENCH_AUDIO:-}" ] || die "no $audio"
    CLIPS=speech-long "$here/make-tts-fixtures.sh" "$speech_dir" >&2
fi
[ -f "$ref" ] || die "no reference text $ref"

ct2="${PODBRIEF_CT2_DIR:-}"
if [ -z "$ct2" ]; then
    # `--source` is what the CLI has; `--ct2` was the planned spelling.
    ct2="$("$bin" models path whisper-tiny.en --source 2>/dev/null \
        || "$bin" models path whisper-tiny.en --ct2 2>/dev/null || true)"
fi
[ -n "$ct2" ] && [ -f "$ct2/model.bin" ] \
    || die "no CTranslate2 tiny.en directory (set PODBRIEF_CT2_DIR to a folder with model.bin)"

mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
# peak RSS in MiB from a `/usr/bin/time -v -o FILE` report
rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

# Each podbrief backend in turn (BACKENDS, default both; whisper-cpp needs a build with
# `--features whisper-cpp`). podbrief prints no separate load time, so its fixed cost (process
# start + model load + one 30 s window) is estimated from a 3-second excerpt and subtracted.
backends="${BACKENDS:-candle whisper-cpp}"
ffmpeg -nostdin -loglevel error -y -i "$audio" -t 3 -ac 1 -ar 16000 "$tmp/probe.wav"
rows=""
for backend in $backends; do
    pb=("$bin" transcribe --format txt --no-cache --threads "$threads" --beam-size "$beam" --backend "$backend")
    t0="$(now)"
    if ! "${pb[@]}" "$tmp/probe.wav" > /dev/null 2> "$out/podbrief-$backend-probe.err"; then
        echo "bench-asr: skipping $backend: $(tail -n 1 "$out/podbrief-$backend-probe.err")" >&2
        continue
    fi
    t1="$(now)"
    fixed="$(sub "$t1" "$t0")"
    echo "bench-asr: podbrief ($backend) on $(basename "$audio"), beam $beam, $threads threads" >&2
    t0="$(now)"
    /usr/bin/time -v -o "$out/podbrief-$backend.time" "${pb[@]}" "$audio" \
        > "$out/podbrief-$backend.txt" 2> "$out/podbrief-$backend.err" \
        || die "podbrief ($backend) failed: $(tail -n 3 "$out/podbrief-$backend.err")"
    t1="$(now)"
    wer="$(python3 "$here/wer.py" "$ref" "$out/podbrief-$backend.txt")"
    rows="$rows podbrief-$backend $(sub "$t1" "$t0") $fixed $(rss_mb "$out/podbrief-$backend.time") $wer"
done
[ -n "$rows" ] || die "no podbrief backend ran"

echo "bench-asr: faster-whisper on $(basename "$audio"), beam $beam, $threads threads" >&2
t0="$(now)"
/usr/bin/time -v -o "$out/faster-whisper.time" \
    "$venv/bin/python" "$here/fw_transcribe.py" "$audio" --model-dir "$ct2" \
    --beam-size "$beam" --threads "$threads" \
    > "$out/faster-whisper.txt" 2> "$out/faster-whisper.err" \
    || die "faster-whisper failed: $(tail -n 3 "$out/faster-whisper.err")"
t1="$(now)"
fw_wall="$(sub "$t1" "$t0")"
fw_line="$(grep '^fw_timing ' "$out/faster-whisper.err" | tail -n 1)"
field() { echo "$fw_line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
fw_load="$(field load_s)" fw_tr="$(field transcribe_s)" dur="$(field audio_s)"

fw_wer="$(python3 "$here/wer.py" "$ref" "$out/faster-whisper.txt")"

echo $rows | awk -v fw="$fw_wall" -v fl="$fw_load" -v ft="$fw_tr" -v dur="$dur" \
    -v frss="$(rss_mb "$out/faster-whisper.time")" -v fwer="$fw_wer" -v beam="$beam" -v th="$threads" \
    -v name="$(basename "$audio")" '{
    printf "\n%s: %.1f s of audio, tiny.en, beam %d, %d threads\n\n", name, dur, beam, th
    printf "%-22s %8s %8s %13s %7s %9s %7s %10s\n", "engine", "wall_s", "load_s", "transcribe_s", "RTF", "peak_MiB", "WER", "wall/fw"
    for (i = 1; i <= NF; i += 5) {
        pw = $(i + 1); pf = $(i + 2); pt = pw - pf; if (pt <= 0) pt = pw
        printf "%-22s %8.2f %8s %13s %7.4f %9d %6.2f%% %9.2fx\n", $i, pw, sprintf("~%.2f", pf), sprintf("~%.2f", pt), pt / dur, $(i + 3), 100 * $(i + 4), pw / fw
    }
    printf "%-22s %8.2f %8.2f %13.2f %7.4f %9d %6.2f%% %9.2fx\n", "faster-whisper", fw, fl, ft, ft / dur, frss, 100 * fwer, 1
    print "\n(wall_s: whole process, model load included; podbrief load_s ~ its run on a 3 s excerpt)"
}'
echo "transcripts and /usr/bin/time reports: $out" >&2
