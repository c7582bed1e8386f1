#!/usr/bin/env bash
# The BPF work llmtap does inside traced processes, program by program: kernel-counted runs and
# nanoseconds (kernel.bpf_stats_enabled, switched on for the measurement and restored) over N
# curl POSTs of a 1 KiB OpenAI chat body on one keep-alive connection to the benchmark's local
# TLS server (bench/fake_llm_https_server.py, itself traced where its libssl is), for one or
# more llmtap binaries, alternating. Not a test; needs root.
#
#   bench/bpf_program_cost.sh [--requests 2000] [--runs 2] [--body-bytes 1024]
#                             --binary build/llmtap [--binary OTHER] -- MODE ARGS...
#   e.g. -- trace --no-discovery --lib /usr/lib/x86_64-linux-gnu/libssl.so.3
#        -- daemon
#
# Prints, per run and binary, each program's runs per request, ns per run and ns per request.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=2000
runs=2
body_bytes=1024
binaries=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --requests) requests=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --body-bytes) body_bytes=$2; shift 2 ;;
    --binary) binaries+=("$(realpath "$2")"); shift 2 ;;
    --) shift; break ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ ${#binaries[@]} -gt 0 && $# -gt 0 ]] || { sed -n 2,14p "$0" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "needs root" >&2; exit 2; }

work=$(mktemp -d /tmp/llmtap-bpfcost-XXXXXX)
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
server=""
agent=""
cleanup() {
  sysctl -qw kernel.bpf_stats_enabled="$stats_before"
  [[ -n $agent ]] && kill -INT "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  [[ -n $server ]] && kill -9 "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
  -days 1 -subj /CN=localhost 2>/dev/null
python3 - "$body_bytes" > "$work/body.json" <<'PY'
import json, sys
size = int(sys.argv[1])
empty = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": ""}]})
print(json.dumps({"model": "gpt-4o",
                  "messages": [{"role": "user", "content": "x" * max(0, size - len(empty))}]}),
      end="")
PY
python3 bench/fake_llm_https_server.py "$work/cert.pem" "$work/key.pem" > "$work/port" \
  2>/dev/null &
server=$!
for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(head -1 "$work/port")
{
  printf 'silent\ninsecure\nhttp1.1\nheader = "Host: api.openai.com"\n'
  printf 'header = "Content-Type: application/json"\nheader = "Expect:"\n'
  printf 'data-binary = "@%s"\n' "$work/body.json"
  for _ in $(seq "$requests"); do
    printf 'url = "https://127.0.0.1:%s/v1/chat/completions"\noutput = "/dev/null"\n' "$port"
  done
} > "$work/curl.cfg"

measure() {  # binary, mode args...
  local binary=$1
  shift
  "$binary" "$@" > /dev/null 2> "$work/agent.err" &
  agent=$!
  # The capture's own line ("...; ready"): the daemon's metrics line names /readyz before any
  # probe is attached, and a SIGINT sent then is lost (an async command's SIGINT starts ignored).
  for _ in $(seq 300); do grep -q "; ready" "$work/agent.err" 2>/dev/null && break; sleep 0.1; done
  grep -q "; ready" "$work/agent.err" || { echo "not ready in 30 s" >&2; cat "$work/agent.err" >&2; exit 1; }
  sysctl -qw kernel.bpf_stats_enabled=1
  bpftool prog show -j > "$work/before.json"
  curl --config "$work/curl.cfg"
  bpftool prog show -j > "$work/after.json"
  sysctl -qw kernel.bpf_stats_enabled="$stats_before"
  kill -INT "$agent"
  wait "$agent" || true
  agent=""
  python3 - "$work/before.json" "$work/after.json" "$requests" <<'PY'
import json, sys
before = {p["id"]: p for p in json.load(open(sys.argv[1]))}
requests = int(sys.argv[3])
total = 0
for p in json.load(open(sys.argv[2])):
    q = before.get(p["id"])
    if not q:
        continue
    runs = p.get("run_cnt", 0) - q.get("run_cnt", 0)
    ns = p.get("run_time_ns", 0) - q.get("run_time_ns", 0)
    if runs <= 0 or runs < requests / 100:
        continue
    total += ns
    print(f"  {p.get('name', '?'):24s} runs/req {runs / requests:6.2f}  ns/run {ns / runs:7.0f}"
          f"  ns/req {ns / requests:7.0f}")
print(f"  all programs: {total / requests:.0f} ns per request")
PY
}

for run in $(seq "$runs"); do
  for binary in "${binaries[@]}"; do
    echo "run $run: $binary $*"
    measure "$binary" "$@"
  done
done
