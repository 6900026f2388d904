#!/usr/bin/env bash
# The test command: sets up what the tests need (same step as for users) and runs the whole suite
# on the release build, with both Whisper backends compiled in.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo test --release --features "${PODBRIEF_FEATURES:-whisper-cpp}" "$@"
