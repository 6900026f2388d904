#!/usr/bin/env bash
# Benchmark `podbrief embed` against sentence-transformers on the same 1,000 sentences, same
# model directory, same thread count, in the same run, and print sentences/s and the ratio.
#
#   scripts/bench-embed.sh [PODBRIEF_BIN]
#
# PODBRIEF_BIN (default target/release/podbrief) is anything that takes
# `embed [--model NAME|PATH] [--threads N] -`, reads one sentence per stdin line and prints a
# JSON array of vectors; it builds nothing itself.
#
# Environment:
#   THREADS          CPU threads for both (default 2): --threads N and RAYON_NUM_THREADS for
#                    podbrief, torch.set_num_threads(N) (+ OMP/MKL_NUM_THREADS) for torch
#   N                number of sentences (default 1000)
#   REPEAT           runs of each engine, alternating; the best is reported (default 5)
#   PODBRIEF_MODELS  model root (default ~/.cache/podbrief/models); the model is
#                    $PODBRIEF_MODELS/all-minilm-l6-v2
#   ST_PYTHON        Python with sentence-transformers
#                    (default ~/.cache/podbrief/st-venv/bin/python)
#   SPEECH_DIR       text the sentences are cut from (default tests/fixtures/speech)
#
# Timings: "with load" is process start to last vector for podbrief (what a user waits for)
# and model load + encode inside a fresh Python process for sentence-transformers (the
# interpreter and `import torch` are left out, which favours sentence-transformers). "encode
# only" leaves model loading out on both sides (podbrief's figure comes from its stderr);
# tokenisation counts on both sides.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

bin="${1:-${PODBRIEF_BIN:-target/release/podbrief}}"
threads="${THREADS:-2}"
n="${N:-1000}"
repeat="${REPEAT:-5}"
models="${PODBRIEF_MODELS:-$HOME/.cache/podbrief/models}"
model_dir="$models/all-minilm-l6-v2"
st_python="${ST_PYTHON:-$HOME/.cache/podbrief/st-venv/bin/python}"
speech_dir="${SPEECH_DIR:-$repo/tests/fixtures/speech}"

die() { echo "bench-embed: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no podbrief binary at $bin (cargo build --release, or pass its path)"
[ -f "$model_dir/model.safetensors" ] || die "no model in $model_dir (podbrief models fetch all-minilm-l6-v2)"
"$st_python" -c 'import sentence_transformers' 2>/dev/null \
    || die "$st_python has no sentence-transformers (set ST_PYTHON)"
compgen -G "$speech_dir/*.txt" >/dev/null || die "no text in $speech_dir/*.txt"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Deterministic podcast-like sentences: windows of 6 to 40 words over the fixture transcripts.
python3 - "$n" "$speech_dir" >"$work/sentences.txt" <<'EOF'
import glob, sys
n, speech_dir = int(sys.argv[1]), sys.argv[2]
words = []
for path in sorted(glob.glob(f"{speech_dir}/*.txt")):
    words += open(path, encoding="utf-8").read().split()
for i in range(n):
    length = 6 + (i * 37) % 35
    start = (i * 101) % len(words)
    s = " ".join(words[(start + j) % len(words)] for j in range(length)).rstrip(".,;:!?")
    print(s[0].upper() + s[1:] + ".")
EOF

export OMP_NUM_THREADS="$threads" MKL_NUM_THREADS="$threads" RAYON_NUM_THREADS="$threads"

# sentence-transformers, one fresh process per run like a command-line tool; prints the
# seconds for model load + encode and for encode alone (imports excluded).
cat >"$work/st.py" <<'EOF'
import json, sys, time
from pathlib import Path
import torch
model_dir, sentences, threads = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads)
from sentence_transformers import SentenceTransformer
texts = open(sentences, encoding="utf-8").read().splitlines()
t0 = time.perf_counter()
model = SentenceTransformer(str(model_dir), device="cpu")
cfg = model_dir / "sentence_bert_config.json"
model.max_seq_length = json.loads(cfg.read_text()).get("max_seq_length", 256) if cfg.exists() else 256
t1 = time.perf_counter()
emb = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
t2 = time.perf_counter()
assert emb.shape[0] == len(texts)
print(t2 - t0, t2 - t1)
EOF

now() { date +%s.%N; }
# The two alternate, so that a slow spell on a shared machine hits both alike; the best run
# of each counts.
: >"$work/times"
for _ in $(seq "$repeat"); do
    start=$(now)
    "$bin" embed --model "$model_dir" --threads "$threads" --stats - <"$work/sentences.txt" \
        >"$work/ours.json" 2>"$work/ours.err" || { cat "$work/ours.err" >&2; die "podbrief failed"; }
    end=$(now)
    # Pure embedding time, if the binary reports it ("... tokenize 0.01s, encode 0.123s ...").
    enc=$(sed -n 's/.*tokenize \([0-9.]*\)s, encode \([0-9.]*\)s.*/\1 \2/p' "$work/ours.err" \
        | awk '{print $1 + $2}')
    echo "ours $(python3 -c "print($end - $start)") ${enc:-nan}" >>"$work/times"
    "$st_python" "$work/st.py" "$model_dir" "$work/sentences.txt" "$threads" 2>/dev/null \
        | sed 's/^/st /' >>"$work/times"
done
grep -q '^st ' "$work/times" || die "sentence-transformers failed"

python3 - "$n" "$threads" "$work/times" "$work/ours.json" <<'EOF'
import json, sys
n, threads = int(sys.argv[1]), int(sys.argv[2])
runs = {"ours": [], "st": []}
for line in open(sys.argv[3]):
    who, total, enc = line.split()
    runs[who].append((float(total), float(enc)))
ours, ours_enc = min(r[0] for r in runs["ours"]), min(r[1] for r in runs["ours"])
st, st_enc = min(r[0] for r in runs["st"]), min(r[1] for r in runs["st"])
rows = json.load(open(sys.argv[4]))
assert len(rows) == n, f"podbrief returned {len(rows)} vectors for {n} sentences"
print(f"{n} sentences, {threads} threads, best of {len(runs['ours'])} alternating runs")
print(f"{'':26}{'podbrief':>10}{'sent-transf':>13}{'ratio':>7}")
print(f"{'sentences/s, with load':26}{n / ours:10.1f}{n / st:13.1f}{st / ours:7.2f}")
if ours_enc == ours_enc:
    print(f"{'sentences/s, encode only':26}{n / ours_enc:10.1f}{n / st_enc:13.1f}{st_enc / ours_enc:7.2f}")
print("ratio > 1: podbrief is faster. With load: podbrief's whole process against "
      "sentence-transformers' model load + encode (its Python start-up and imports left out).")
EOF
