#!/usr/bin/env bash
# Benchmark podbrief's LLM runtime against llama.cpp (llama-cpp-python) on the
# same GGUF, same prompt, same thread count, in one run, and print prompt
# processing and generation speeds with their ratio. Then measure podbrief's
# peak memory with a 4k-token context and its load time.
#
#   scripts/bench-llm.sh
#   MODEL=smollm2-135m-instruct THREADS=1 scripts/bench-llm.sh
#
# Environment:
#   PODBRIEF_BIN   podbrief binary (default: target/release/podbrief)
#   MODEL          registry name of a GGUF model (default: qwen2.5-coder-0.5b-instruct)
#   THREADS        CPU threads for both engines (default: 2)
#   PROMPT_TOKENS  approximate prompt length (default: 1000)
#   GEN_TOKENS     tokens to generate, end-of-turn ignored (default: 200)
#   PODBRIEF_HOME  cache root (default: ~/.cache/podbrief); llama-cpp-python
#                  lives in the venv $PODBRIEF_HOME/bench-venv
#
# Needs python3 and /usr/bin/time. llama-cpp-python compiles llama.cpp at
# install (about 10 minutes on 2 cores); the flags below avoid AMX, which some
# virtual machines report but do not allow.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cd "$repo"

bin="${PODBRIEF_BIN:-target/release/podbrief}"
model="${MODEL:-qwen2.5-coder-0.5b-instruct}"
threads="${THREADS:-2}"
prompt_tokens="${PROMPT_TOKENS:-1000}"
gen_tokens="${GEN_TOKENS:-200}"
home="${PODBRIEF_HOME:-$HOME/.cache/podbrief}"
venv="$home/bench-venv"

die() { echo "bench-llm: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no podbrief binary at $bin (cargo build --release, or set PODBRIEF_BIN)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time): it reports peak RSS"

if ! "$venv/bin/python" -c 'import llama_cpp' 2>/dev/null; then
    echo "bench-llm: installing llama-cpp-python into $venv (compiles llama.cpp)" >&2
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
-DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF" \
        "$venv/bin/pip" install --quiet llama-cpp-python
fi

gguf="$("$bin" models path "$model")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# A prompt of about N tokens from the TTS fixture's text (4.7 characters a token).
make_prompt() {
    python3 - "$1" "$2" <<'EOF'
import sys
n = int(sys.argv[1]) * 47 // 10
text = open("tests/fixtures/speech/speech-long.txt").read().split()
out, i = [], 0
while len(" ".join(out)) < n:
    out.append(text[i % len(text)]); i += 1
print(sys.argv[2] + "\n\n" + " ".join(out))
EOF
}
make_prompt "$prompt_tokens" "Summarize this transcript in five bullet points." > "$work/prompt.txt"

echo "== podbrief ($model, $threads threads)"
"$bin" --threads "$threads" llm --model "$model" --max-tokens "$gen_tokens" --ignore-eos --stats - \
    < "$work/prompt.txt" > /dev/null 2> "$work/podbrief.err" || { cat "$work/podbrief.err"; exit 1; }
grep '^stats:' "$work/podbrief.err"

echo "== llama.cpp ($model, $threads threads)"
"$venv/bin/python" "$here/llama_bench.py" "$gguf" "$work/prompt.txt" "$threads" "$gen_tokens" \
    2> "$work/llama.err" | tee "$work/llama.out" || { tail -20 "$work/llama.err"; exit 1; }

python3 - "$work/podbrief.err" "$work/llama.out" <<'EOF'
import re, sys
ours = dict(re.findall(r"(\w+)=([\d.]+)", open(sys.argv[1]).read().split("stats:")[1]))
ref = dict(re.findall(r"(\w+)=([\d.]+)", open(sys.argv[2]).read()))
print()
print(f"{'':24}{'podbrief':>12}{'llama.cpp':>12}{'ratio':>8}")
for key, label in [("prompt_tps", "prompt tokens/s"), ("generation_tps", "generation tokens/s")]:
    a, b = float(ours[key]), float(ref[key])
    print(f"{label:24}{a:12.1f}{b:12.1f}{a / b:8.2f}")
print(f"{'prompt tokens':24}{ours['prompt_tokens']:>12}{ref['prompt_tokens']:>12}")
print(f"{'load seconds':24}{float(ours['load_s']):12.2f}{float(ref['load_s']):12.2f}")
EOF

echo
echo "== podbrief memory: 4096-token context filled to about 3,600 tokens"
make_prompt 3300 "Summarize:" > "$work/long.txt"
/usr/bin/time -v "$bin" --threads "$threads" llm --model "$model" --ctx 4096 --max-tokens 300 \
    --ignore-eos --stats - < "$work/long.txt" > /dev/null 2> "$work/mem.err" \
    || { cat "$work/mem.err"; exit 1; }
grep '^stats:' "$work/mem.err"
awk -F': ' '/Maximum resident set size/ {printf "peak RSS: %.0f MiB\n", $2/1024}' "$work/mem.err"
