#!/usr/bin/env bash
# Configures and builds llmtap (and its tests) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
build_type="${LLMTAP_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
cmake --build build -j "$(nproc)"
