#!/usr/bin/env bash
# The test command: sets up what the tests need (same step as for users) and runs the whole suite
# on the release build, with both Whisper backends compiled in.
set -euo pipefail
cd "$(dirname "$0")/.."
# Besides what setup fetches for users, the tests need every model with a conversion (the
# conversion test re-runs each one from its downloaded files and compares it with its pins).
export PODBRIEF_MODELS_TO_FETCH="${PODBRIEF_MODELS_TO_FETCH:-smollm2-135m-instruct whisper-base}"
./scripts/setup.sh
cargo test --release --features "${PODBRIEF_FEATURES:-whisper-cpp}" "$@"
