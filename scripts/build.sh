#!/usr/bin/env bash
# Configures and builds llmtap (and its tests) into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
build_type="${LLMTAP_BUILD_TYPE:-RelWithDebInfo}"
. scripts/compiler-cache.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" "${compiler_cache_args[@]}" >/dev/null
cmake --build build -j "$(nproc)"
