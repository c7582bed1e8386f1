#!/usr/bin/env bash
# Soak test of `llmtap daemon` (host-wide), not part of CI. As root.
#
#   scripts/soak.sh [--minutes 30] [--llmtap build/llmtap] [--out DIR] [--interval 10]
#                   [--tolerance 0.10] [--max-procs 6] [--spawn-ms 150] [-- extra daemon args]
#
# Runs the daemon for --minutes while client processes start and exit continually against a
# local HTTPS server on 127.0.0.1 (curl and python; keep-alive and one-shot connections;
# LLM-shaped POST /v1/chat/completions with Host api.openai.com and non-LLM POST /api/orders;
# a fifth of the bodies 64 KiB). Every --interval seconds it samples the agent: RSS, open fds,
# BPF links and perf_event fds (from /proc/PID/fd, plus the host's `bpftool link list` count),
# the entries of its hash maps (`bpftool map dump`), CPU (schedstat), and from its metrics
# endpoint the llmtap_events_lost{stage=kernel|userspace} gauges, LLM calls, holds.
# Writes DIR/soak.csv and DIR/soak.png and prints a verdict: flat (last third of the samples
# against the first third, within the tolerance) or growing, and 0 lost or not.
# Exit status: 0 flat and nothing lost, 1 otherwise, 2 could not run.
# Everything it starts is stopped on exit or Ctrl-C; no process is left stopped.
set -uo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
HELPER="$REPO/scripts/soak_helper.py"
PY=/usr/bin/python3
MINUTES=30
LLMTAP="$REPO/build/llmtap"
OUT=""
INTERVAL=10
TOLERANCE=0.10
MAX_PROCS=6
SPAWN_MS=150
EXTRA=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    --llmtap) LLMTAP="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --interval) INTERVAL="$2"; shift 2 ;;
    --tolerance) TOLERANCE="$2"; shift 2 ;;
    --max-procs) MAX_PROCS="$2"; shift 2 ;;
    --spawn-ms) SPAWN_MS="$2"; shift 2 ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

[[ $EUID -eq 0 ]] || { echo "soak.sh: run as root (the agent loads BPF programs)" >&2; exit 2; }
[[ -x "$LLMTAP" ]] || { echo "soak.sh: no llmtap at $LLMTAP (build it or pass --llmtap)" >&2; exit 2; }

need=()
command -v curl >/dev/null || need+=(curl)
command -v openssl >/dev/null || need+=(openssl)
command -v bpftool >/dev/null || need+=(bpftool)
"$PY" -c 'import matplotlib' 2>/dev/null || need+=(python3-matplotlib)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "soak.sh: installing ${need[*]}" >&2
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
    { echo "soak.sh: apt-get install failed" >&2; exit 2; }
fi
# The daemon's syscall tracepoints need tracefs (not mounted at boot on these VMs).
[[ -e /sys/kernel/tracing/available_events ]] || mount -t tracefs nodev /sys/kernel/tracing

WORK="$(mktemp -d /tmp/llmtap-soak.XXXXXX)"
[[ -n "$OUT" ]] || OUT="$(pwd)/soak-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
CSV="$OUT/soak.csv"
PNG="$OUT/soak.png"
rm -f "$CSV"

SERVER_PID="" AGENT_PID="" TRAFFIC_PID="" SAMPLER_PID="" CLEANED=0 PORT=""

# Our client processes still alive: identified by their command line, which names our server's
# port (curl's URL, or the helper's `client --port PORT`), never by a bare program name.
client_pids() {
  [[ -n "$PORT" ]] || return 0
  local d cmd
  for d in /proc/[0-9]*; do
    { cmd="$(tr '\0' ' ' <"$d/cmdline")"; } 2>/dev/null || continue
    if [[ "$cmd" == *"https://127.0.0.1:$PORT/"* || "$cmd" == *"soak_helper.py client --port $PORT "* ]]; then
      echo "${d#/proc/}"
    fi
  done
}

# Sends SIGCONT to those of the given processes that are stopped (a hold left behind).
resume_ours() {
  local p
  for p in "$@"; do
    [[ -n "$p" ]] || continue
    if [[ "$(ps -o stat= -p "$p" 2>/dev/null)" == T* ]]; then kill -CONT "$p" 2>/dev/null; fi
  done
}

stop_pid() {  # stop_pid PID SIGNAL SECONDS: signal, wait, then SIGKILL
  local pid="$1" sig="$2" secs="$3" i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -CONT "$pid" 2>/dev/null
  kill "-$sig" "$pid" 2>/dev/null
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
  return 0
}

cleanup() {
  [[ $CLEANED -eq 1 ]] && return
  CLEANED=1
  trap '' INT TERM
  stop_pid "$SAMPLER_PID" TERM 15
  # The traffic generator stops starting clients on SIGTERM and waits for its last ones.
  if [[ -n "$TRAFFIC_PID" ]] && kill -0 "$TRAFFIC_PID" 2>/dev/null; then
    resume_ours $(client_pids)
    stop_pid "$TRAFFIC_PID" TERM 40
  fi
  local p
  for p in $(client_pids); do
    kill -CONT "$p" 2>/dev/null; kill -KILL "$p" 2>/dev/null
  done
  # SIGINT: llmtap resumes anything it holds, detaches and prints its summaries (takes ~5 s).
  stop_pid "$AGENT_PID" INT 90
  stop_pid "$SERVER_PID" TERM 10
  resume_ours $(client_pids)
  # Anything of ours still stopped?
  local left=""
  for p in $(client_pids) $SERVER_PID $AGENT_PID $TRAFFIC_PID $SAMPLER_PID; do
    if [[ "$(ps -o stat= -p "$p" 2>/dev/null)" == T* ]]; then left+=" $p"; fi
  done
  [[ -z "$left" ]] || echo "soak.sh: WARNING: still stopped:$left" >&2
  [[ -f "$WORK/agent.err" ]] && cp "$WORK/agent.err" "$OUT/agent.err"
  rm -rf "$WORK"
}
# After the run (or an interruption): what the agent said, what is left, the verdict and plot.
final_report() {
  echo "traffic: ${TRAFFIC_STATS:-interrupted} (client processes started / failed)"
  grep -E 'capture summary|hold summary|pipeline summary' "$OUT/agent.err" 2>/dev/null | sed 's/^/agent: /' | cut -c1-400
  echo "processes in state T on the host now: $(ps -eo stat= | grep -c '^T')"
  echo "llmtap daemon still running: $([[ -n "$AGENT_PID" ]] && kill -0 "$AGENT_PID" 2>/dev/null && echo YES || echo no)"
  local status=2
  if [[ -s "$CSV" ]]; then
    "$PY" "$HELPER" report --csv "$CSV" --png "$PNG" --tolerance "$TOLERANCE"
    status=$?
    echo "csv: $CSV"
    echo "png: $PNG"
  fi
  return $status
}
TRAFFIC_STATS=""
trap cleanup EXIT
trap 'echo "soak.sh: interrupted, cleaning up" >&2; cleanup; trap - EXIT; final_report; exit 130' INT TERM

# A copy of the binary: the build tree may be rebuilt during a long soak.
cp "$LLMTAP" "$WORK/llmtap"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=api.openai.com" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" >/dev/null 2>&1 || { echo "openssl failed" >&2; exit 2; }

METRICS_PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$WORK/llmtap" daemon --metrics-address "127.0.0.1:$METRICS_PORT" "${EXTRA[@]}" \
  >/dev/null 2>"$WORK/agent.err" </dev/null &
AGENT_PID=$!
for ((i = 0; i < 600; i++)); do
  grep -q '; ready' "$WORK/agent.err" 2>/dev/null && break
  kill -0 "$AGENT_PID" 2>/dev/null || { echo "soak.sh: llmtap daemon exited:" >&2; cat "$WORK/agent.err" >&2; exit 2; }
  sleep 0.1
done
grep -q '; ready' "$WORK/agent.err" || { echo "soak.sh: llmtap not ready in 60 s" >&2; exit 2; }

"$PY" "$HELPER" server --cert "$WORK/cert.pem" --key "$WORK/key.pem" --port-file "$WORK/port" \
  </dev/null >/dev/null 2>"$WORK/server.err" &
SERVER_PID=$!
for ((i = 0; i < 100; i++)); do [[ -s "$WORK/port" ]] && break; sleep 0.1; done
[[ -s "$WORK/port" ]] || { echo "soak.sh: server did not start" >&2; cat "$WORK/server.err" >&2; exit 2; }
PORT="$(cat "$WORK/port")"

SECONDS_TOTAL=$(( ${MINUTES%.*} * 60 ))
[[ "$MINUTES" == *.* ]] && SECONDS_TOTAL="$("$PY" -c "print(int(float('$MINUTES')*60))")"
echo "soak.sh: llmtap daemon pid $AGENT_PID, server 127.0.0.1:$PORT, $MINUTES min, sampling every ${INTERVAL}s into $CSV" >&2

"$PY" "$HELPER" sample --pid "$AGENT_PID" --metrics "127.0.0.1:$METRICS_PORT" --csv "$CSV" \
  --interval "$INTERVAL" --roots "$$" </dev/null >/dev/null 2>"$WORK/sampler.err" &
SAMPLER_PID=$!
"$PY" "$HELPER" traffic --port "$PORT" --seconds "$SECONDS_TOTAL" --pids-file "$WORK/clients.pids" \
  --max-procs "$MAX_PROCS" --spawn-ms "$SPAWN_MS" </dev/null >"$WORK/traffic.out" 2>"$WORK/traffic.err" &
TRAFFIC_PID=$!

# Wait for the traffic to end (it stops by itself), checking that the agent stays up.
while kill -0 "$TRAFFIC_PID" 2>/dev/null; do
  if ! kill -0 "$AGENT_PID" 2>/dev/null; then
    echo "soak.sh: llmtap daemon died during the soak:" >&2; tail -20 "$WORK/agent.err" >&2; break
  fi
  sleep 1
done
wait "$TRAFFIC_PID" 2>/dev/null
TRAFFIC_PID=""
# One last sample after the last clients ended, then stop sampling.
sleep "$INTERVAL"
stop_pid "$SAMPLER_PID" TERM 15
SAMPLER_PID=""
TRAFFIC_STATS="$(cat "$WORK/traffic.out" 2>/dev/null)"
cleanup   # stops the agent (its summaries land in agent.err) and the server
trap - EXIT INT TERM
final_report
exit $?
