#!/usr/bin/env bash
# Builds llmtap and runs every test. The BPF tests need root; with LLMTAP_REQUIRE_BPF=1
# (as CI sets it) a test that cannot load BPF fails instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
cd build
ctest --output-on-failure --timeout 600 "$@"
