#!/usr/bin/python3
"""llmtap side by side with bcc's sslsniff and an empty-probe floor: CPU per request, syscall tax,
agent CPU and memory, completeness. One command, as root, not part of CI.

    sudo bench/compare_sslsniff.py [--runs 5] [--requests 2000] [--quick] [--modes a,b,...]
                                   [--llmtap build/llmtap] [--out result.md] [--plot result.png]

What it does (see docs/benchmarks.md, "llmtap against bcc's sslsniff"):
- installs what it needs when missing (Debian packages bpfcc-tools, bpftrace, linux-headers-amd64,
  python3-matplotlib, curl, openssl) and links Debian's 6.1 headers as /lib/modules/$(uname -r)/
  {build,source} for bcc (removed again at exit when this script made them);
- a local HTTPS server (Debian's python3, ssl module, self-signed cert made here, one per cell,
  single-threaded so that /proc/PID/task/*/schedstat is its whole CPU) answers small JSON;
- clients: one curl process doing many keep-alive POSTs (system libssl, SSL_write/SSL_read)
  and a python3 http.client keep-alive loop (SSL_write_ex/SSL_read_ex), full speed and paced;
- modes (agent started once per mode per run, modes alternated within each run, order rotated):
    bare, noop (empty uprobe+uretprobe on SSL_read/SSL_write/SSL_read_ex/SSL_write_ex),
    sslsniff (bcc, a patched temporary copy), trace-lib (llmtap trace --no-discovery --lib
    libssl), trace (host-wide), daemon-llm / daemon-other (llmtap daemon host-wide; requests
    to /v1/chat/completions with Host api.openai.com, or to /api/orders);
- before an llmtap agent's cells, 1.25 rings' worth of 64 KiB requests go through its data ring
  unmeasured (--no-warm-ring: not), so that cells measure a ring in its steady state, not the
  first touch of its fresh pages;
- figures are CPU, never wall time alone: client CPU from wait4 rusage, server CPU and agent
  CPU from schedstat; agent CPU is counted until it has drained what the client caused;
- the dd syscall tax (dd bs=512, CPU from rusage) in every mode; agent RSS; completeness
  (captured plaintext bytes / bytes the two ends wrote and read) and the losses each tool
  reports.
Measuring uses the standard library only; matplotlib only draws the plot.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from proc_cpu import descendants, task_cpu_ns, tree_cpu_ns

DEBIAN_PYTHON = "/usr/bin/python3"
if os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON) and os.path.exists(DEBIAN_PYTHON):
    # bcc's python module and python3-matplotlib live in Debian's python, not in a pyenv one.
    os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON] + sys.argv)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_MODES = ["bare", "noop", "sslsniff", "trace-lib", "trace", "daemon-llm", "daemon-other"]
MODE_LABEL = {
    "bare": "bare (no agent)",
    "noop": "no-op floor: empty uprobe+uretprobe x4",
    "sslsniff": "bcc sslsniff (--no-gnutls --no-nss --max-buffer-size 16384)",
    "trace-lib": "llmtap trace --no-discovery --lib libssl.so.3",
    "trace": "llmtap trace (host-wide)",
    "daemon-llm": "llmtap daemon (host-wide), LLM request",
    "daemon-other": "llmtap daemon (host-wide), non-LLM request",
}
LLM_PATH = "/v1/chat/completions"
OTHER_PATH = "/api/orders"
HOST_HEADER = "api.openai.com"
KIB = 1024


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Helper programs, written to the temporary directory and run with Debian's python3.

CLIENT_PY = r'''
import http.client, json, os, ssl, sys, time
port, path, body_file, requests, rate = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                         int(sys.argv[4]), float(sys.argv[5]))
host = sys.argv[6]
body = open(body_file, "rb").read()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
sent = 0

class Conn(http.client.HTTPSConnection):
    def send(self, data):
        global sent
        sent += len(data)
        super().send(data)

c = Conn("127.0.0.1", port, context=ctx, timeout=120)
headers = {"Host": host, "Content-Type": "application/json"}
received = ok = 0
start = time.perf_counter()
for i in range(requests):
    if rate > 0:
        due = start + i / rate
        now = time.perf_counter()
        if due > now:
            time.sleep(due - now)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    ok += r.status == 200
    received += (len(f"HTTP/1.1 {r.status} {r.reason}\r\n") + 2 + len(data)
                 + sum(len(k) + len(v) + 4 for k, v in r.getheaders()))
seconds = time.perf_counter() - start
c.close()
print(json.dumps({"pid": os.getpid(), "requests": requests, "ok": ok, "seconds": seconds,
                  "sent": sent, "received": received}))
'''

# Reads an agent's stdout until EOF and writes per-pid totals as JSON to argv[2].
COUNTER_PY = r'''
import base64, json, re, sys
kind, out = sys.argv[1], sys.argv[2]
per_pid = {}
total_bytes = 0
lines = 0
def acc(pid, key, n=1):
    d = per_pid.setdefault(str(pid), {})
    d[key] = d.get(key, 0) + n
stream = sys.stdin.buffer

def spans():
    """(buf, start, end) of each line, newline included, read in 8 MiB pieces into one buffer:
    no object per line (a trace line of a 1 MiB call is 1.4 MB, and a fresh 1.4 MB object per
    line costed this reader more than the agent spent making it)."""
    buf = bytearray(8 << 20)
    start = end = 0
    while True:
        if end == len(buf):
            if start > 0:  # move the partial line to the front
                buf[:end - start] = buf[start:end]
                end -= start
                start = 0
            else:  # one line longer than the buffer
                buf.extend(bytes(len(buf)))
        with memoryview(buf) as mv:
            n = stream.readinto(mv[end:])
        if not n:
            return
        end += n
        while True:
            nl = buf.find(b"\n", start, end)
            if nl < 0:
                break
            yield buf, start, nl + 1
            start = nl + 1
        if start == end:
            start = end = 0

if kind == "sslsniff":
    head = re.compile(rb"^(READ/RECV|WRITE/SEND)\s+[0-9.]+\s+.{1,16}?\s+(\d+)\s+(\d+)\s*$")
    trunc = re.compile(rb"^----- END DATA \(TRUNCATED, (\d+) bytes lost\) -----")
    pid = None
    for line in stream:
        total_bytes += len(line)
        lines += 1
        m = head.match(line)
        if m:
            pid = int(m.group(2))
            acc(pid, "calls")
            acc(pid, "bytes", int(m.group(3)))
            continue
        if line.startswith(b"----- END DATA (TRUNC"):
            t = trunc.match(line)
            if t and pid is not None:
                acc(pid, "bytes", -int(t.group(1)))
                acc(pid, "truncated_calls")
elif kind in ("trace", "daemon"):
    for buf, a, b in spans():
        total_bytes += b - a
        lines += 1
        # A trace event's base64 "data" comes last: only the head is parsed and the data's length
        # read off its quotes, as cheaply as the sslsniff reader reads only its header lines (a
        # full json.loads of a 1 MiB call's 1.4 MB line made this reader the slowest process).
        at = buf.find(b'"data":"', a, b) if kind == "trace" else -1
        end = buf.rfind(b'"', at, b) if at >= 0 else -1
        try:
            j = json.loads(bytes(buf[a:at]) + b'"data":""}' if end > at + 7 else bytes(buf[a:b]))
        except ValueError:
            acc(0, "bad_lines")
            continue
        if kind == "trace":
            if j.get("type") != "tls":
                continue
            d_len = end - (at + 8) if end > at + 7 else 0
            n = d_len * 3 // 4 - (buf[end - 2:end].count(b"=") if d_len >= 2 else 0)
            acc(j.get("pid", 0), "calls")
            acc(j.get("pid", 0), "bytes", n)
            if j.get("truncated"):
                acc(j.get("pid", 0), "truncated_calls")
            if j.get("lost"):
                acc(j.get("pid", 0), "lost", j["lost"])
        else:
            p = ((j.get("actor") or {}).get("process") or {}).get("pid", 0)
            acc(p, "records")
else:
    while True:
        b = stream.read(1 << 20)
        if not b:
            break
        total_bytes += len(b)
json.dump({"output_bytes": total_bytes, "lines": lines, "per_pid": per_pid}, open(out, "w"))
'''

NOOP_BCC_PY = r'''
import sys, time
from bcc import BPF
lib = sys.argv[1]
b = BPF(text="int noop(void *ctx) { return 0; }")
for sym in ("SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex"):
    b.attach_uprobe(name=lib, sym=sym, fn_name="noop")
    b.attach_uretprobe(name=lib, sym=sym, fn_name="noop")
print("noop ready", flush=True)
try:
    while True:
        time.sleep(1)
except KeyboardInterrupt:
    pass
'''

# The one change sslsniff needs to load here (DESIGN-NOTES, "Running the peer"): bound the
# copy so that this kernel's verifier accepts it. The plain `n &= 0x3fff` after clamping to
# 16384 would turn a full 16 KiB call into a 0-byte copy, so the mask is applied to n - 1:
# n ends in [1, 16384] and every call up to the buffer size is copied whole.
SSLSNIFF_OLD = "u32 buf_copy_size = min((size_t)MAX_BUF_SIZE, (size_t)len);"
SSLSNIFF_NEW = """u32 buf_copy_size = (u32)len;
        if (buf_copy_size > MAX_BUF_SIZE) buf_copy_size = MAX_BUF_SIZE;
        buf_copy_size -= 1;
        asm volatile("%0 &= 0x3fff" : "+r"(buf_copy_size));
        buf_copy_size += 1;"""
# Harness hook only: say on stderr when the probes are attached (stdout stays block-buffered).
SSLSNIFF_HEADER_OLD = "print(header)\n"
SSLSNIFF_HEADER_NEW = ("print(header)\nimport sys as _bench_sys\n"
                       "_bench_sys.stderr.write('sslsniff ready\\n'); _bench_sys.stderr.flush()\n")


# --------------------------------------------------------------------------------------------
# Setup

class Setup:
    def __init__(self):
        self.created_links = []
        self.apt_updated = False
        self.notes = []

    def apt_install(self, packages):
        if not packages:
            return True
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if not self.apt_updated:
            log("apt-get update")
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            self.apt_updated = True
        log("apt-get install -y " + " ".join(packages))
        r = subprocess.run(["apt-get", "install", "-y", "-qq"] + packages, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            log("apt-get install failed: " + r.stderr.strip()[-500:])
        return r.returncode == 0

    @staticmethod
    def has_module(name):
        return subprocess.run([DEBIAN_PYTHON, "-c", f"import {name}"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode == 0

    def install(self, modes):
        need = []
        if shutil.which("curl") is None:
            need.append("curl")
        if shutil.which("openssl") is None:
            need.append("openssl")
        if shutil.which("dd") is None:
            need.append("coreutils")
        if not self.has_module("matplotlib"):
            need.append("python3-matplotlib")
        if "sslsniff" in modes or "noop" in modes:
            if not os.path.exists("/usr/sbin/sslsniff-bpfcc") or not self.has_module("bcc"):
                need.append("bpfcc-tools")
            if not self.headers_dir():
                need.append("linux-headers-amd64")
        self.apt_install(need)
        if "noop" in modes and shutil.which("bpftrace") is None:
            self.apt_install(["bpftrace"])  # optional: the bcc no-op program is the fallback
        if "sslsniff" in modes or "noop" in modes:
            self.link_headers()
        if not os.path.exists("/sys/kernel/tracing/available_events"):
            # llmtap daemon's syscall tracepoints need tracefs (DESIGN-NOTES, kernel facilities).
            subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                           stderr=subprocess.DEVNULL)
            self.notes.append("mounted tracefs on /sys/kernel/tracing")

    @staticmethod
    def headers_dir():
        cands = sorted(d for d in os.listdir("/usr/src")
                       if re.fullmatch(r"linux-headers-6\.1\.0-\d+-amd64", d))
        if not cands:
            return None
        arch = "/usr/src/" + cands[-1]
        common = arch[: -len("-amd64")] + "-common"
        return (arch, common) if os.path.isdir(common) else None

    def link_headers(self):
        base = f"/lib/modules/{os.uname().release}"
        if os.path.exists(base + "/build"):
            return
        hd = self.headers_dir()
        if not hd:
            self.notes.append("no Debian 6.1 kernel headers: bcc cannot compile")
            return
        if not os.path.isdir(base):
            os.makedirs(base)
            self.created_links.append(base)
        for name, target in (("build", hd[0]), ("source", hd[1])):
            if not os.path.lexists(f"{base}/{name}"):
                os.symlink(target, f"{base}/{name}")
                self.created_links.insert(0, f"{base}/{name}")
        self.notes.append(f"linked {hd[0]} as {base}/build for bcc (removed at exit)")

    def undo(self):
        for path in self.created_links:
            try:
                if os.path.islink(path):
                    os.unlink(path)
                else:
                    os.rmdir(path)
            except OSError:
                pass
        self.created_links = []


def machine_description():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": _os_release(),
    }


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "?"


def tool_versions(llmtap):
    def out(cmd):
        try:
            r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               timeout=20)
            return r.stdout.strip().splitlines()[0] if r.stdout.strip() else "?"
        except Exception:
            return "?"
    return {
        "llmtap": out([llmtap, "--version"]),
        "bcc (bpfcc-tools)": out(["dpkg-query", "-W", "-f=${Version}", "bpfcc-tools"]),
        "bpftrace": out(["bpftrace", "--version"]) if shutil.which("bpftrace") else "absent",
        "curl": out(["curl", "--version"]),
        "python": out([DEBIAN_PYTHON, "--version"]),
    }


# --------------------------------------------------------------------------------------------
# CPU and memory of running processes

def bpf_prog_stats(pids):
    """{prog_id: (type, run_cnt, run_time_ns)} of the BPF programs the processes hold open
    (fdinfo; the counts move only while kernel.bpf_stats_enabled is 1)."""
    progs = {}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fdinfo")
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    info = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
            except (OSError, ValueError):
                continue
            if "prog_id" not in info or "run_cnt" not in info:
                continue
            progs[int(info["prog_id"])] = (info.get("prog_type", "?").strip(),
                                           int(info["run_cnt"]), int(info["run_time_ns"]))
    return progs


def bpf_delta(before, after):
    """Runs and ns of the programs between two snapshots, uprobes apart from the rest (a
    uprobe's run also costs the traced thread a trap; tracepoints do not)."""
    out = {"uprobe_runs": 0, "uprobe_ns": 0, "other_runs": 0, "other_ns": 0}
    for pid_, (kind, cnt, ns) in after.items():
        b = before.get(pid_, (kind, 0, 0))
        # uprobes are kprobe-type programs (BPF_PROG_TYPE_KPROBE, 2 in fdinfo)
        key = "uprobe" if kind in ("2", "kprobe") else "other"
        out[key + "_runs"] += cnt - b[1]
        out[key + "_ns"] += ns - b[2]
    return out


TRAP_BENCH_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
/* One call of this function is what a probed SSL_write is to the trap: an entry and a return. */
__attribute__((noinline)) int probed(int x) { __asm__ volatile("" ::: "memory"); return x + 1; }
int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    struct rusage a, b;
    int v = 0;
    getrusage(RUSAGE_SELF, &a);
    for (long i = 0; i < n; i++) v = probed(v);
    getrusage(RUSAGE_SELF, &b);
    double ns = ((b.ru_utime.tv_sec - a.ru_utime.tv_sec) + (b.ru_stime.tv_sec - a.ru_stime.tv_sec)) * 1e9
              + ((b.ru_utime.tv_usec - a.ru_utime.tv_usec) + (b.ru_stime.tv_usec - a.ru_stime.tv_usec)) * 1e3;
    printf("%.1f %d\n", ns / n, v);
    return 0;
}
"""


def measure_trap_cost(ctx, runs=7, calls=200000):
    """CPU per probe run of an empty uprobe + uretprobe (bpftrace) on a function called in a
    tight loop, against the same loop bare; alternating runs, median difference / 2. None
    without bpftrace or a compiler."""
    if not shutil.which("bpftrace") or not shutil.which("cc"):
        return None
    src = os.path.join(ctx.dir, "trap_bench.c")
    exe = os.path.join(ctx.dir, "trap_bench")
    with open(src, "w") as f:
        f.write(TRAP_BENCH_C)
    if subprocess.run(["cc", "-O2", "-o", exe, src]).returncode != 0:
        return None

    def loop():
        out = subprocess.run([exe, str(calls)], capture_output=True, text=True).stdout.split()
        return float(out[0]) if out else None

    prog = (f"uprobe:{exe}:probed {{}} uretprobe:{exe}:probed {{}} "
            'BEGIN { printf("trap ready\\n"); }')
    bare, probed = [], []
    for _ in range(runs):
        bare.append(loop())
        tracer = subprocess.Popen(["bpftrace", "-B", "line", "-e", prog], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "trap ready" not in (tracer.stdout.readline() or ""):
                if tracer.poll() is not None:
                    return None
            probed.append(loop())
        finally:
            interrupt_and_wait(tracer, 20)
    bare = [x for x in bare if x is not None]
    probed = [x for x in probed if x is not None]
    if not bare or not probed:
        return None
    per_run = [(p - med(bare)) / 2e3 for p in probed]  # µs per probe run (entry or return)
    return {"bare_ns_per_call": bare, "probed_ns_per_call": probed, "trap_us_per_run": per_run}


class BpfStats:
    """kernel.bpf_stats_enabled on for the run (programs then count their runs and time),
    restored at the end."""

    PATH = "/proc/sys/kernel/bpf_stats_enabled"

    def __init__(self):
        self.saved = None

    def enable(self):
        try:
            with open(self.PATH) as f:
                self.saved = f.read().strip()
            with open(self.PATH, "w") as f:
                f.write("1")
        except OSError as e:
            log(f"bpf stats not available: {e}")

    def restore(self):
        if self.saved is not None:
            with open(self.PATH, "w") as f:
                f.write(self.saved)
            self.saved = None


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def wait_rusage(proc, timeout=None):
    """wait4 on a Popen child: (returncode, user+sys CPU seconds)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, ru.ru_utime + ru.ru_stime
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.02)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --------------------------------------------------------------------------------------------
# Agents

class Agent:
    """One mode's agent: started once per (mode, run), several cells measured under it."""

    def __init__(self, mode, ctx):
        self.mode = mode
        self.ctx = ctx
        self.proc = None
        self.counter = None
        self.err_path = None
        self.counter_out = None
        self.metrics_port = None
        self.pids = []
        self.summary = {}
        self.counts = {}
        self.stderr_text = ""
        self.peak_rss_kb = 0
        self.ring_bytes = 0  # llmtap's data ring, from its ready line

    def start(self):
        ctx, mode = self.ctx, self.mode
        if mode == "bare":
            return
        tag = f"{mode}-{ctx.session}"
        self.err_path = os.path.join(ctx.dir, tag + ".err")
        self.counter_out = os.path.join(ctx.dir, tag + ".count.json")
        kind, cmd, ready = None, None, None
        if mode == "noop":
            cmd, ready = ctx.noop_cmd, ctx.noop_ready
            kind = "raw"
        elif mode == "sslsniff":
            cmd = [DEBIAN_PYTHON, ctx.sslsniff, "--no-gnutls", "--no-nss",
                   "--max-buffer-size", "16384"]
            kind, ready = "sslsniff", ("stderr", "sslsniff ready")
        elif mode in ("trace", "trace-lib"):
            cmd = [ctx.llmtap, "trace"]
            if mode == "trace-lib":
                cmd += ["--no-discovery", "--lib", ctx.libssl]
            kind, ready = "trace", ("stderr", "; ready")
        else:
            self.metrics_port = free_port()
            cmd = [ctx.llmtap, "daemon", "--metrics-address", f"127.0.0.1:{self.metrics_port}"]
            kind, ready = "daemon", ("stderr", "; ready")
        cmd = cmd + ctx.extra_args.get(mode, [])
        err = open(self.err_path, "w")
        if kind == "raw":
            # The no-op program prints only its ready line: stdout and stderr to one file.
            self.proc = subprocess.Popen(cmd, stdout=err, stderr=err, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        else:
            # The agent's stdout goes through a pipe to a separate counting process.
            self.counter = subprocess.Popen([DEBIAN_PYTHON, ctx.counter, kind, self.counter_out],
                                            stdin=subprocess.PIPE, start_new_session=True)
            ctx.children.append(self.counter)
            self.proc = subprocess.Popen(cmd, stdout=self.counter.stdin, stderr=err,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
            self.counter.stdin.close()
        err.close()
        ctx.children.append(self.proc)
        where, text = ready
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{mode} exited with {self.proc.returncode}: "
                                   + self._tail(self.err_path))
            if text in self._read(self.err_path):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{mode} not ready in 120 s: " + self._tail(self.err_path))
        ring = re.search(r"ring buffer (\d+) bytes", self._read(self.err_path))
        self.ring_bytes = int(ring.group(1)) if ring else 0
        time.sleep(0.5)
        self.pids = descendants(self.proc.pid)
        # Start-up work can go on after the ready line (llmtap examines the running processes'
        # files): let it settle so that the first cell does not pay for it.
        self.drain(max_seconds=10)

    @staticmethod
    def _read(path):
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def _tail(self, path, n=1500):
        return self._read(path)[-n:]

    def cpu_ns(self):
        if not self.proc:
            return 0
        # The hold guard and other helpers llmtap starts count as the agent's.
        self.pids = sorted(set(self.pids) | set(descendants(self.proc.pid)))
        return tree_cpu_ns(self.pids)

    def rss_kb(self):
        return status_kb(self.proc.pid, "VmRSS") if self.proc else 0

    def drain(self, background_ns_per_s=0.0, max_seconds=20):
        """Waits until the agent's CPU rate is back to its background rate (it has processed
        the cell's traffic; other processes on a shared host keep a host-wide agent busy)."""
        if not self.proc:
            return
        threshold = max(2_000_000, 1.5 * background_ns_per_s * 0.2)
        last = self.cpu_ns()
        quiet = 0
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline and quiet < 2:
            time.sleep(0.2)
            now = self.cpu_ns()
            quiet = quiet + 1 if now - last < threshold else 0
            last = now

    def background(self, seconds):
        """The agent's CPU rate (ns/s) with no traffic of ours: what the rest of the host costs it."""
        if not self.proc:
            return 0.0
        a, t = self.cpu_ns(), time.monotonic()
        time.sleep(seconds)
        return (self.cpu_ns() - a) / (time.monotonic() - t)

    def metrics(self):
        if not self.metrics_port:
            return {}
        # llmtap refreshes its capture gauges once a second: wait for a fresh value.
        time.sleep(1.2)
        try:
            text = urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                          timeout=5).read().decode()
        except Exception:
            return {}
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
        return out

    def stop(self):
        if not self.proc:
            return
        self.peak_rss_kb = status_kb(self.proc.pid, "VmHWM")
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.counter:
            try:
                self.counter.wait(timeout=300)
            except subprocess.TimeoutExpired:
                self.counter.kill()
                self.counter.wait()
        self.stderr_text = self._read(self.err_path)
        for line in self.stderr_text.splitlines():
            at = line.find("summary:")
            if at < 0 or "sink " in line[:at]:
                continue
            section = line[:at].split()[-1] if line[:at].split() else "summary"
            for field in line[at + 8:].split():
                k, eq, v = field.partition("=")
                if eq and v.isdigit():
                    self.summary[f"{section}.{k}"] = int(v)
        lost = re.findall(r"Possibly lost (\d+) samples", self.stderr_text)
        if lost:
            self.summary["perf.lost_samples"] = sum(int(x) for x in lost)
        try:
            with open(self.counter_out) as f:
                self.counts = json.load(f)
        except (OSError, ValueError):
            self.counts = {}


# --------------------------------------------------------------------------------------------
# Workloads

def padded_json(path, size, index=0):
    if path == LLM_PATH:
        def enc(content):
            return json.dumps({"model": "gpt-4o-mini", "messages": [
                {"role": "system", "content": "You are a benchmark."},
                {"role": "user", "content": content}]}, separators=(",", ":")).encode()
    else:
        def enc(content):
            return json.dumps({"customer": "c-1001", "items": [{"sku": "A-1", "qty": 2}],
                               "note": content}, separators=(",", ":")).encode()
    minimal = len(enc(""))
    if size <= minimal:
        return b"x" * size
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
    filler = (alphabet * (size // len(alphabet) + 1))[: size - minimal]
    body = enc(filler)
    assert len(body) == size
    return body


class Context:
    def __init__(self, args, workdir):
        self.args = args
        self.dir = workdir
        self.children = []
        self.session = 0
        self.extra_args = {}
        self.llmtap = None
        self.libssl = None
        self.noop_cmd = None
        self.noop_ready = None
        self.noop_tool = None
        self.sslsniff = None
        self.counter = os.path.join(workdir, "counter.py")
        self.server = os.path.join(REPO, "bench", "fake_llm_https_server.py")
        self.client = os.path.join(workdir, "client.py")
        self.cert = os.path.join(workdir, "cert.pem")
        self.key = os.path.join(workdir, "key.pem")
        self.bodies = {}

    def body_file(self, path, size):
        key = (path, size)
        if key not in self.bodies:
            name = os.path.join(self.dir, f"body-{'llm' if path == LLM_PATH else 'other'}-{size}.json")
            with open(name, "wb") as f:
                f.write(padded_json(path, size))
            self.bodies[key] = name
        return self.bodies[key]


def start_server(ctx):
    p = subprocess.Popen([DEBIAN_PYTHON, ctx.server, ctx.cert, ctx.key], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True,
                         start_new_session=True)
    ctx.children.append(p)
    port = int(p.stdout.readline().strip())
    return p, port


def interrupt_and_wait(p, timeout):
    """SIGINT, then SIGKILL if it has not exited within `timeout` seconds."""
    p.send_signal(signal.SIGINT)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def stop_server(p):
    interrupt_and_wait(p, 10)


def client_command(ctx, client, port, path, body_file, requests, rate):
    if client == "python":
        return [DEBIAN_PYTHON, ctx.client, str(port), path, body_file, str(requests), str(rate),
                HOST_HEADER], None
    cfg = os.path.join(ctx.dir, f"curl-{port}.cfg")
    url = f"https://127.0.0.1:{port}{path}"
    with open(cfg, "w") as f:
        f.write("silent\ninsecure\nhttp1.1\n")
        f.write(f'header = "Host: {HOST_HEADER}"\nheader = "Content-Type: application/json"\n')
        f.write('header = "Expect:"\n')
        f.write(f'data-binary = "@{body_file}"\n')
        f.write('write-out = "%{size_request} %{size_upload} %{size_header} %{size_download} '
                '%{http_code}\\n"\n')
        for _ in range(requests):
            f.write(f'url = "{url}"\noutput = "/dev/null"\n')
    return ["curl", "--config", cfg], cfg


def run_cell(ctx, agent, client, path, body, rate, requests):
    server, port = start_server(ctx)
    body_file = ctx.body_file(path, body)
    cmd, cfg = client_command(ctx, client, port, path, body_file, requests, rate)
    out_path = os.path.join(ctx.dir, "client.out")
    background = agent.background(ctx.args.background_seconds)
    metrics_before = agent.metrics()
    agent_before = agent.cpu_ns()
    bpf_before = bpf_prog_stats(agent.pids)
    server_before = task_cpu_ns(server.pid)
    t0 = time.monotonic()
    with open(out_path, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL,
                                stdin=subprocess.DEVNULL)
        ctx.children.append(proc)
        code, client_cpu = wait_rusage(proc)
    wall = time.monotonic() - t0
    server_after = task_cpu_ns(server.pid)
    agent.drain(background)
    agent_after = agent.cpu_ns()
    bpf = bpf_delta(bpf_before, bpf_prog_stats(agent.pids))
    agent_window = time.monotonic() - t0
    rss = agent.rss_kb()
    metrics_after = agent.metrics()
    stop_server(server)
    ctx.children = [c for c in ctx.children if c not in (proc, server)]
    if cfg:
        os.unlink(cfg)
    with open(out_path) as f:
        text = f.read()
    sent = received = ok = 0
    seconds = wall
    if client == "python":
        try:
            j = json.loads(text.strip().splitlines()[-1])
            sent, received, ok, seconds = j["sent"], j["received"], j["ok"], j["seconds"]
        except (ValueError, IndexError, KeyError):
            pass
    else:
        for line in text.splitlines():
            f = line.split()
            if len(f) == 5:
                # size_request counts the body when curl wrote it with the headers, not when
                # it went in later writes (large bodies).
                req, up = int(f[0]), int(f[1])
                sent += req if req >= up else req + up
                received += int(f[2]) + int(f[3])
                ok += f[4] == "200"
    cell = {
        "mode": agent.mode, "client": client, "path": path, "body": body, "rate": rate,
        "requests": requests, "ok": ok, "exit": code, "wall_s": wall, "loop_s": seconds,
        "client_pid": proc.pid, "server_pid": server.pid,
        "client_cpu_s": client_cpu, "server_cpu_s": (server_after - server_before) / 1e9,
        # Minus the background rate measured just before, over the same window.
        "agent_cpu_s": max(0.0, (agent_after - agent_before - background * agent_window) / 1e9),
        "agent_cpu_raw_s": (agent_after - agent_before) / 1e9,
        "agent_background_cpu_per_s": background / 1e9, "agent_window_s": agent_window,
        "agent_rss_kb": rss,
        # The agent's BPF programs over the cell (host-wide tracepoints count other processes'
        # events too).
        "bpf": bpf,
        # Both ends run here on the system libssl: a whole capture is what the client wrote
        # and read plus what the server read and wrote.
        "expected_bytes": 2 * (sent + received),
    }
    if metrics_after and metrics_before:
        key = "llmtap_tls_bytes_captured"
        cell["metrics_bytes"] = metrics_after.get(key, 0) - metrics_before.get(key, 0)
    if code != 0 or ok != requests:
        log(f"  warning: {client} exit {code}, {ok}/{requests} ok")
    return cell


def warm_ring(ctx, agent):
    """Sends 1.25 rings' worth of 64 KiB LLM requests, not measured, before an llmtap agent's
    cells. A long-running agent's ring has been written round many times; a fresh one has pages
    the traced processes have never touched, and on a VM the first touch of such a page costs
    far more than any later one (a host page fault): short cells (15 requests at 1 MiB, 75 at
    64 KiB) would otherwise measure the first pass over a fresh ring, not the steady state."""
    if not agent.ring_bytes or ctx.args.no_warm_ring:
        return
    body = 64 * KIB
    n = -(-agent.ring_bytes * 5 // 4 // (2 * body))  # both ends copy each body
    run_cell(ctx, agent, "curl", LLM_PATH, body, 0, n)
    log(f"  ring warmed: {n} requests of 64 KiB through a {agent.ring_bytes >> 20} MiB ring")


def run_dd(count):
    p = subprocess.Popen(["dd", "if=/dev/zero", "of=/dev/null", "bs=512", f"count={count}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, cpu = wait_rusage(p)
    return cpu


def requests_for(args, body):
    if body >= 1024 * KIB:
        return max(5, args.requests // 20)
    if body >= 64 * KIB:
        return max(10, args.requests // 4)
    return args.requests


def workloads(args, mode):
    path = OTHER_PATH if mode == "daemon-other" else LLM_PATH
    cells = []
    for body in args.bodies:
        if "curl" in args.clients:
            cells.append(("curl", path, body, 0))
        if "python" in args.clients:
            for rate in args.rates:
                cells.append(("python", path, body, rate))
    return cells


# --------------------------------------------------------------------------------------------
# Results

def med(values):
    return statistics.median(values) if values else None


def spread(values, scale=1.0, fmt="{:.0f}"):
    if not values:
        return "n/a"
    m = statistics.median(values) * scale
    lo, hi = min(values) * scale, max(values) * scale
    if len(values) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} [{fmt.format(lo)}-{fmt.format(hi)}]"


def size_name(b):
    return f"{b // (1024 * KIB)} MiB" if b >= 1024 * KIB else f"{b // KIB} KiB"


def completeness(cell, agent_counts):
    """Captured bytes of this cell's two processes / bytes they wrote and read."""
    mode = cell["mode"]
    if mode in ("bare", "noop") or not cell["expected_bytes"]:
        return None
    if mode.startswith("daemon"):
        got = cell.get("metrics_bytes")
        return None if got is None else got / cell["expected_bytes"]
    per_pid = agent_counts.get("per_pid", {})
    got = sum(per_pid.get(str(cell[k]), {}).get("bytes", 0) for k in ("client_pid", "server_pid"))
    return got / cell["expected_bytes"]


def build_report(args, machine, versions, setup_notes, cells, sessions, dd, started, ended,
                 trap=None):
    lines = []
    w = lines.append
    w(f"### llmtap vs bcc sslsniff: {'SHORT (--quick) run, a smoke check only' if args.quick else 'full run'}")
    w("")
    w(f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), kernel {machine['kernel']}, "
      f"{machine['memory']} memory, {machine['os']}; load average at start {started['load']}, "
      f"at end {ended['load']}. Run {started['time']} - {ended['time']}.")
    w("Tools: " + "; ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    w(f"No-op floor built with: {args.noop_tool}.")
    if setup_notes:
        w("Setup: " + "; ".join(setup_notes) + ".")
    w(f"{args.runs} run(s); in each run every mode once (order rotated), one agent start per mode "
      f"and run; requests per cell: {args.requests} (1 KiB), {requests_for(args, 64 * KIB)} "
      f"(64 KiB), {requests_for(args, 1024 * KIB)} (1 MiB); response: a small JSON. "
      f"Figures: median [min-max] over runs.")
    w("")
    w("CPU per request, in microseconds: client+server (client rusage + server schedstat), "
      "added = that minus bare's median, agent = the agent's own CPU (schedstat, until drained, "
      "minus its background rate on this host measured just before the cell), "
      "total added = added + agent. Completeness = plaintext bytes captured for the two processes "
      "/ bytes they wrote and read (both ends use the system libssl).")
    w("")
    w("| client | body | rate | mode | req/s | client+server µs/req | added µs/req | agent µs/req | total added µs/req | agent RSS MiB | completeness |")
    w("| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    keys = []
    for c in cells:
        k = (c["client"], c["body"], c["rate"])
        if k not in keys:
            keys.append(k)
    keys.sort(key=lambda k: (k[0] != "curl", k[1], k[2]))
    plot_rows = []
    for key in keys:
        bare = [(c["client_cpu_s"] + c["server_cpu_s"]) / c["requests"] for c in cells
                if (c["client"], c["body"], c["rate"]) == key and c["mode"] == "bare"]
        bare_med = med(bare)
        for mode in args.modes:
            cs = [c for c in cells if (c["client"], c["body"], c["rate"]) == key and c["mode"] == mode]
            if not cs:
                continue
            cpu = [(c["client_cpu_s"] + c["server_cpu_s"]) / c["requests"] * 1e6 for c in cs]
            agent = [c["agent_cpu_s"] / c["requests"] * 1e6 for c in cs]
            rps = [c["requests"] / c["loop_s"] for c in cs if c["loop_s"] > 0]
            added = [x - bare_med * 1e6 for x in cpu] if bare_med is not None else []
            total = [a + g for a, g in zip(added, agent)] if added else []
            comp = [x for x in (completeness(c, sessions[c["session"]]["counts"]) for c in cs)
                    if x is not None]
            rss = [c["agent_rss_kb"] / 1024 for c in cs if c["agent_rss_kb"]]
            rate = "full" if key[2] == 0 else f"{key[2]:.0f}/s"
            w(f"| {key[0]} | {size_name(key[1])} | {rate} | {mode} | {spread(rps)} | {spread(cpu)} | "
              f"{spread(added) if mode != 'bare' else '0'} | {spread(agent) if mode != 'bare' else '0'} | "
              f"{spread(total) if mode != 'bare' else '0'} | {spread(rss, fmt='{:.0f}') if rss else '-'} | "
              f"{spread(comp, 100, '{:.1f}') + ' %' if comp else '-'} |")
            if key[2] == 0 and mode != "bare" and added:
                plot_rows.append((key[0], key[1], mode, med(added), med(agent)))
    w("")
    w("BPF work inside the traced processes, per request (client + server; `kernel.bpf_stats_enabled`, "
      "the programs' own run counts and run time, which the VM's noise does not touch): uprobe "
      "runs (each also costs the thread a trap into the kernel, the same for every tool) and "
      "nanoseconds in those programs; tracepoint runs and ns (host-wide: other processes' "
      "socket I/O adds a little). In-process estimate = uprobe runs x the trap cost + all "
      "program ns, with the trap cost per run taken from the floor (its added CPU / its runs; "
      "its programs are empty). The ratio compares that with the floor's own estimate.")
    w("")
    w("| client | body | mode | uprobe runs/req | uprobe prog ns/req | tracepoint runs/req | tracepoint prog ns/req | in-process µs/req (est.) | x floor |")
    w("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    traps = []
    measured_trap = med(trap["trap_us_per_run"]) if trap else None
    for key in keys:
        if key[2] != 0:
            continue
        def per_req(cs, field):
            return [c["bpf"][field] / c["requests"] for c in cs if c.get("bpf")]
        floor_cells = [c for c in cells if (c["client"], c["body"], c["rate"]) == key and c["mode"] == "noop"]
        bare = [(c["client_cpu_s"] + c["server_cpu_s"]) / c["requests"] for c in cells
                if (c["client"], c["body"], c["rate"]) == key and c["mode"] == "bare"]
        floor_cpu = [(c["client_cpu_s"] + c["server_cpu_s"]) / c["requests"] for c in floor_cells]
        floor_runs = med(per_req(floor_cells, "uprobe_runs"))
        trap_us = measured_trap
        if bare and floor_cpu and floor_runs:
            from_floor = max(0.0, (med(floor_cpu) - med(bare)) * 1e6 / floor_runs)
            traps.append(f"{key[0]} {size_name(key[1])} {from_floor:.2f}")
            if trap_us is None:
                trap_us = from_floor
        floor_est = None
        if trap_us is not None and floor_runs:
            floor_est = floor_runs * trap_us + (med(per_req(floor_cells, "uprobe_ns")) or 0) / 1e3
        for mode in args.modes:
            if mode == "bare":
                continue
            cs = [c for c in cells if (c["client"], c["body"], c["rate"]) == key and c["mode"] == mode]
            if not cs or not per_req(cs, "uprobe_runs"):
                continue
            ur, un = per_req(cs, "uprobe_runs"), per_req(cs, "uprobe_ns")
            tr, tn = per_req(cs, "other_runs"), per_req(cs, "other_ns")
            est, ratio = "-", "-"
            if trap_us is not None:
                e = [r * trap_us + (a + b) / 1e3 for r, a, b in zip(ur, un, tn)]
                est = spread(e, fmt="{:.1f}")
                if floor_est:
                    ratio = spread([x / floor_est for x in e], fmt="x{:.2f}")
            w(f"| {key[0]} | {size_name(key[1])} | {mode} | {spread(ur, fmt='{:.1f}')} | "
              f"{spread(un)} | {spread(tr, fmt='{:.1f}')} | {spread(tn)} | {est} | {ratio} |")
    if trap:
        w("")
        w("Trap cost per uprobe run, measured apart (a C loop calling a function with an empty "
          "bpftrace uprobe + uretprobe on it, against the loop bare, "
          f"{len(trap['trap_us_per_run'])} alternating runs): "
          f"{spread(trap['trap_us_per_run'], fmt='{:.2f}')} µs; bare call "
          f"{spread(trap['bare_ns_per_call'], fmt='{:.1f}')} ns. The estimate above uses its median.")
    if traps:
        w("")
        w("The same cost inferred from the floor's added CPU per request / its uprobe runs (µs; "
          "noisy: the per-request CPU of two processes on a VM): " + "; ".join(traps) + ".")
    w("")
    w("Per mode: the syscall tax (CPU of `dd if=/dev/zero of=/dev/null bs=512 "
      f"count={args.dd_count}`, rusage, seconds), the agent's peak RSS (VmHWM), and what the tool "
      "itself reported as lost or cut.")
    w("")
    w("| mode | dd CPU s | dd x bare | agent peak RSS MiB | losses reported | cut (truncated) calls | LLM records / LLM requests |")
    w("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    bare_dd = med(dd.get("bare", []))
    for mode in args.modes:
        ss = [s for s in sessions.values() if s["mode"] == mode]
        ratio = [x / bare_dd for x in dd.get(mode, [])] if bare_dd else []
        hwm = [s["peak_rss_kb"] / 1024 for s in ss if s["peak_rss_kb"]]
        losses, cut, records = "-", "-", "-"
        if mode == "sslsniff":
            lost = sum(s["summary"].get("perf.lost_samples", 0) for s in ss)
            losses = f"perf buffer: {lost} samples lost"
            cut = str(sum(v.get("truncated_calls", 0) for s in ss
                          for v in s["counts"].get("per_pid", {}).values()))
        elif mode.startswith("trace") or mode.startswith("daemon"):
            def tot(k):
                return sum(s["summary"].get(k, 0) for s in ss)
            losses = (f"lost_calls={tot('capture.lost_calls')} lost_bytes={tot('capture.lost_bytes')} "
                      f"lost_records={tot('capture.lost_records')}")
            if mode.startswith("daemon"):
                losses += f" gaps={tot('pipeline.gaps')}"
            cut = str(tot("capture.truncated_calls"))
        if mode == "daemon-llm" or mode == "daemon-other":
            n_req = sum(c["requests"] for c in cells if c["mode"] == mode)
            got = 0
            for c in cells:
                if c["mode"] == mode:
                    pp = sessions[c["session"]]["counts"].get("per_pid", {})
                    got += pp.get(str(c["client_pid"]), {}).get("records", 0)
            records = f"{got} / {n_req if mode == 'daemon-llm' else 0}"
        w(f"| {mode} | {spread(dd.get(mode, []), fmt='{:.2f}')} | "
          f"{spread(ratio, fmt='x{:.2f}') if mode != 'bare' else 'x1'} | "
          f"{spread(hwm, fmt='{:.0f}') if hwm else '-'} | {losses} | {cut} | {records} |")
    w("")
    w("Modes: " + "; ".join(f"`{m}` = {MODE_LABEL[m]}" for m in args.modes) + ".")
    w("")
    w("Reading it: sslsniff has no `_ex` probes, so python's calls (client and server: python's "
      "ssl module uses SSL_read_ex/SSL_write_ex) are not captured at all, and it cuts each call "
      "at 16 KiB (and its perf buffer drops samples when its Python consumer falls behind). llmtap "
      "cuts a call at --max-bytes (1 MiB by default; counted as truncated). The daemon's "
      "completeness is from its llmtap_tls_bytes_captured gauge, read before and after each cell "
      "(host-wide: other TLS traffic on the host adds to it); its LLM records are counted per "
      "client pid. A single short run is noise-dominated (negative 'added' values): compare "
      "medians of a full run.")
    return "\n".join(lines), plot_rows


def draw_plot(path, plot_rows, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no plot")
        return False
    clients = [c for c in ("curl", "python") if any(r[0] == c for r in plot_rows)]
    if not clients:
        return False
    fig, axes = plt.subplots(1, len(clients), figsize=(7 * len(clients), 5), squeeze=False)
    for ax, client in zip(axes[0], clients):
        rows = [r for r in plot_rows if r[0] == client]
        bodies = sorted({r[1] for r in rows})
        modes = [m for m in ALL_MODES if any(r[2] == m for r in rows)]
        width = 0.8 / max(1, len(modes))
        for i, mode in enumerate(modes):
            xs, added, agent = [], [], []
            for j, b in enumerate(bodies):
                r = [x for x in rows if x[1] == b and x[2] == mode]
                if not r:
                    continue
                xs.append(j + i * width - 0.4 + width / 2)
                added.append(max(0.0, r[0][3]))
                agent.append(r[0][4])
            color = f"C{ALL_MODES.index(mode)}"
            ax.bar(xs, added, width, color=color, label=mode)
            ax.bar(xs, agent, width, bottom=added, color=color, alpha=0.4, hatch="//")
        ax.set_xticks(range(len(bodies)))
        ax.set_xticklabels([size_name(b) for b in bodies])
        ax.set_yscale("log")
        ax.set_ylabel("added CPU per request, µs (log)")
        ax.set_xlabel("request body")
        ax.set_title(f"{client}, keep-alive, full speed")
        handles, labels = ax.get_legend_handles_labels()
        from matplotlib.patches import Patch
        handles += [Patch(facecolor="white", edgecolor="black"),
                    Patch(facecolor="white", edgecolor="black", hatch="//")]
        labels += ["solid: traced processes (client+server) added",
                   "hatched: the agent's own CPU"]
        ax.legend(handles, labels, fontsize=7, ncol=2)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


# --------------------------------------------------------------------------------------------

def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=None, help="runs per mode (default 5; --quick: 1)")
    p.add_argument("--requests", type=int, default=None,
                   help="requests per cell with 1 KiB bodies (64 KiB: /4, 1 MiB: /20); default 2000")
    p.add_argument("--quick", action="store_true", help="tiny settings for a smoke run")
    p.add_argument("--modes", default=",".join(ALL_MODES),
                   help="comma-separated subset of " + ",".join(ALL_MODES))
    p.add_argument("--clients", default="curl,python")
    p.add_argument("--bodies", default="1024,65536,1048576", help="request body sizes, bytes")
    p.add_argument("--rates", default="0,1000,10000",
                   help="python client rates in calls/s (0 = full speed); curl runs at full speed")
    p.add_argument("--background-seconds", type=float, default=None,
                   help="idle window before each cell that measures the agent's background CPU "
                        "rate, subtracted from its figure (default 1; --quick: 0.5)")
    p.add_argument("--dd-count", type=int, default=None, help="dd blocks (default 2000000)")
    p.add_argument("--llmtap", default=os.path.join(REPO, "build", "llmtap"))
    p.add_argument("--llmtap-args", default="", help="extra arguments for every llmtap mode")
    p.add_argument("--out", help="also write the markdown here")
    p.add_argument("--plot", help="PNG path (default: --out with .png, else /tmp/compare_sslsniff.png)")
    p.add_argument("--json", help="write every measured cell here")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory")
    p.add_argument("--no-warm-ring", action="store_true",
                   help="measure from a fresh ring (by default 1.25 rings' worth of 64 KiB "
                        "requests go through llmtap's ring, unmeasured, before its cells)")
    a = p.parse_args()
    a.modes = [m for m in a.modes.split(",") if m]
    bad = [m for m in a.modes if m not in ALL_MODES]
    if bad:
        p.error(f"unknown modes {bad}; known: {ALL_MODES}")
    if "bare" not in a.modes:
        a.modes.insert(0, "bare")  # every figure is relative to it
    a.clients = [c for c in a.clients.split(",") if c]
    a.bodies = [int(x) for x in a.bodies.split(",")]
    a.rates = [float(x) for x in a.rates.split(",")]
    a.runs = a.runs or (1 if a.quick else 5)
    a.requests = a.requests or (100 if a.quick else 2000)
    a.background_seconds = (a.background_seconds if a.background_seconds is not None
                            else (0.5 if a.quick else 1.0))
    a.dd_count = a.dd_count or (200000 if a.quick else 2000000)
    a.plot = a.plot or (os.path.splitext(a.out)[0] + ".png" if a.out else "/tmp/compare_sslsniff.png")
    return a


def find_libssl():
    r = subprocess.run(["ldconfig", "-p"], stdout=subprocess.PIPE, text=True)
    for line in r.stdout.splitlines():
        if "libssl.so.3 " in line and "x86-64" in line or line.strip().startswith("libssl.so.3 ("):
            return os.path.realpath(line.split("=>")[-1].strip())
    return os.path.realpath("/usr/lib/x86_64-linux-gnu/libssl.so.3")


def prepare(ctx, args, setup):
    d = ctx.dir
    for name, text in (("client.py", CLIENT_PY), ("counter.py", COUNTER_PY)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", f"/CN={HOST_HEADER}", "-keyout", ctx.key, "-out", ctx.cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx.libssl = find_libssl()
    if any(m.startswith(("trace", "daemon")) for m in args.modes):
        if not os.access(args.llmtap, os.X_OK):
            sys.exit(f"llmtap not found at {args.llmtap} (build it, or pass --llmtap)")
        # A copy: the build tree may be rebuilt while this runs.
        ctx.llmtap = os.path.join(d, "llmtap")
        shutil.copy2(args.llmtap, ctx.llmtap)
        extra = args.llmtap_args.split()
        for m in args.modes:
            if m.startswith(("trace", "daemon")):
                ctx.extra_args[m] = extra
    if "sslsniff" in args.modes:
        text = open("/usr/sbin/sslsniff-bpfcc").read()
        if SSLSNIFF_OLD not in text or SSLSNIFF_HEADER_OLD not in text:
            sys.exit("this sslsniff-bpfcc differs from bcc 0.26's: update the workaround")
        ctx.sslsniff = os.path.join(d, "sslsniff.py")
        with open(ctx.sslsniff, "w") as f:
            f.write(text.replace(SSLSNIFF_OLD, SSLSNIFF_NEW)
                    .replace(SSLSNIFF_HEADER_OLD, SSLSNIFF_HEADER_NEW, 1))
    if "noop" in args.modes:
        L = ctx.libssl
        syms = ("SSL_read", "SSL_write", "SSL_read_ex", "SSL_write_ex")
        prog = (",".join(f"uprobe:{L}:{s}" for s in syms) + " {} "
                + ",".join(f"uretprobe:{L}:{s}" for s in syms) + " {} "
                + 'BEGIN { printf("noop ready\\n"); }')
        if shutil.which("bpftrace"):
            ctx.noop_cmd = ["bpftrace", "-B", "line", "-e", prog]
            ctx.noop_tool = "bpftrace (Debian's), 8 empty probes on " + L
        else:
            path = os.path.join(d, "noop_bcc.py")
            with open(path, "w") as f:
                f.write(NOOP_BCC_PY)
            ctx.noop_cmd = [DEBIAN_PYTHON, path, L]
            ctx.noop_tool = "a bcc program (bpftrace not installable), 8 empty probes on " + L
        ctx.noop_ready = ("stderr", "noop ready")
    args.noop_tool = ctx.noop_tool or "n/a"


def main():
    args = parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: the agents load BPF programs")
    setup = Setup()
    workdir = tempfile.mkdtemp(prefix="llmtap-compare-")
    ctx = Context(args, workdir)
    interrupted = []

    def on_term(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    cells, sessions, dd = [], {}, {}
    bpf_stats = BpfStats()
    try:
        setup.install(args.modes)
        bpf_stats.enable()
        prepare(ctx, args, setup)
        machine = machine_description()
        versions = tool_versions(ctx.llmtap or args.llmtap)
        started = {"load": " ".join(open("/proc/loadavg").read().split()[:3]),
                   "time": time.strftime("%Y-%m-%d %H:%M")}
        log(f"workdir {workdir}; modes {args.modes}; runs {args.runs}")
        for run in range(args.runs):
            order = args.modes[run % len(args.modes):] + args.modes[: run % len(args.modes)]
            for mode in order:
                ctx.session += 1
                agent = Agent(mode, ctx)
                try:
                    agent.start()
                except RuntimeError as e:
                    log(f"run {run + 1}: {mode} failed to start: {e}")
                    agent.stop()
                    sessions[ctx.session] = {"mode": mode, "summary": {}, "counts": {},
                                             "peak_rss_kb": 0, "error": str(e)}
                    ctx.children = []
                    continue
                log(f"run {run + 1}/{args.runs}: {mode}")
                warm_ring(ctx, agent)
                for client, path, body, rate in workloads(args, mode):
                    n = requests_for(args, body)
                    if rate > 0:
                        n = max(n, 1)
                    cell = run_cell(ctx, agent, client, path, body, rate, n)
                    cell["session"] = ctx.session
                    cell["run"] = run
                    cells.append(cell)
                    log(f"  {client} {size_name(body)} rate={rate:.0f}: "
                        f"{cell['requests']} req, client+server "
                        f"{(cell['client_cpu_s'] + cell['server_cpu_s']) / cell['requests'] * 1e6:.0f} "
                        f"µs/req, agent {cell['agent_cpu_s'] / cell['requests'] * 1e6:.0f} µs/req")
                dd.setdefault(mode, []).append(run_dd(args.dd_count))
                agent.stop()
                sessions[ctx.session] = {"mode": mode, "summary": agent.summary,
                                         "counts": agent.counts, "peak_rss_kb": agent.peak_rss_kb}
                ctx.children = []
        ended = {"load": " ".join(open("/proc/loadavg").read().split()[:3]),
                 "time": time.strftime("%Y-%m-%d %H:%M")}
        failed = [f"{s['mode']}: {s['error'][:300]}" for s in sessions.values() if s.get("error")]
        trap = measure_trap_cost(ctx) if "noop" in args.modes else None
        report, plot_rows = build_report(args, machine, versions, setup.notes, cells, sessions, dd,
                                         started, ended, trap)
        if failed:
            report += "\n\nFailed to start: " + "; ".join(failed)
        print(report)
        if args.out:
            with open(args.out, "w") as f:
                f.write(report + "\n")
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"cells": cells, "sessions": sessions, "dd": dd, "machine": machine,
                           "trap": trap},
                          f, indent=1, default=str)
        if draw_plot(args.plot, plot_rows, "Added CPU per request (traced processes + agent)"
                     + (" — SHORT run" if args.quick else "")):
            log(f"plot written to {args.plot}")
    except KeyboardInterrupt:
        log("interrupted: cleaning up")
    finally:
        bpf_stats.restore()
        cleanup(ctx, setup, args.keep)
    if interrupted:
        sys.exit(1)


def cleanup(ctx, setup, keep):
    for p in reversed(ctx.children):
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.send_signal(signal.SIGINT)
            except OSError:
                pass
    deadline = time.monotonic() + 60
    for p in reversed(ctx.children):
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    setup.undo()
    if not keep:
        shutil.rmtree(ctx.dir, ignore_errors=True)
    else:
        log(f"kept {ctx.dir}")


if __name__ == "__main__":
    main()
