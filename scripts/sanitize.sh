#!/usr/bin/env bash
# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer in
# ./build-asan (a second build; not part of CI for time). Any sanitizer report fails its test.
# Extra arguments go to ctest (e.g. -L bpf, -R Audit, -LE image).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/compiler-cache.sh
cmake -S . -B build-asan -DLLMTAP_SANITIZE=ON -DLLMTAP_BUILD_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${compiler_cache_args[@]}" >/dev/null
cmake --build build-asan -j "$(nproc)"
# Leaks are reported at exit of every test binary; a report fails the test.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
(cd build-asan && ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@")
