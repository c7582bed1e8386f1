#!/usr/bin/env bash
# Builds llmtap and runs every test: unit and end-to-end tests (ctest), then each parser's
# libFuzzer target for a bounded time (scripts/fuzz.sh; LLMTAP_FUZZ_SECONDS per target,
# 15 by default here). The BPF tests need root; with LLMTAP_REQUIRE_BPF=1 (as CI sets it) a
# test that cannot load BPF fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
(cd build && ctest --output-on-failure --timeout 600 "$@")
LLMTAP_FUZZ_SECONDS="${LLMTAP_FUZZ_SECONDS:-15}" scripts/fuzz.sh
