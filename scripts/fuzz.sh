#!/usr/bin/env bash
# Builds the parser fuzz targets with clang (libFuzzer, ASan, UBSan) into ./build-fuzz and runs
# each for LLMTAP_FUZZ_SECONDS (default 20) seconds, starting from its seed directory. A crash,
# a sanitizer report, a leak or more than LLMTAP_FUZZ_RSS_MB of memory fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${LLMTAP_FUZZ_SECONDS:-20}"
rss_mb="${LLMTAP_FUZZ_RSS_MB:-1024}"
cxx="${LLMTAP_FUZZ_CXX:-clang++-14}"
cc="${LLMTAP_FUZZ_CC:-clang-14}"
. scripts/compiler-cache.sh
CC="$cc" CXX="$cxx" cmake -S . -B build-fuzz -DLLMTAP_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "${compiler_cache_args[@]}" >/dev/null
cmake --build build-fuzz -j "$(nproc)"
status=0
while read -r name binary seeds; do
  [ -n "$name" ] || continue
  work="build-fuzz/corpus/$name"
  mkdir -p "$work"
  args=("$work")
  [ -n "${seeds:-}" ] && args+=("$seeds")
  echo "fuzz: $name for ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/$name-" "${args[@]}" \
      >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; last lines of build-fuzz/$name.log:"
    tail -40 "build-fuzz/$name.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$name.log" | tr '\n' ' '
    echo
  fi
done < build-fuzz/fuzz_targets.txt
exit $status
