#!/usr/bin/env bash
# Builds llmtap and runs every test: unit and end-to-end tests (ctest), then each parser's
# libFuzzer target for a bounded time (scripts/fuzz.sh; LLMTAP_FUZZ_SECONDS per target, 8 by
# default here to keep CI short; scripts/fuzz.sh alone runs 20). The BPF tests need root; with
# LLMTAP_REQUIRE_BPF=1 (as CI sets it) a test that cannot load BPF fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
# Unit tests in parallel; the end-to-end tests are RUN_SERIAL (two tracers at once would hold
# and slow each other's clients), so they still run alone.
(cd build && ctest --output-on-failure --timeout 600 -j "$(nproc)" "$@")
LLMTAP_FUZZ_SECONDS="${LLMTAP_FUZZ_SECONDS:-8}" scripts/fuzz.sh
