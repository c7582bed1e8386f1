#!/usr/bin/env python3
"""The daemon's CPU per LLM call on issue 16's own workload, binaries alternating.

curl (the system's libssl) POSTs 1 KiB OpenAI chat bodies over one keep-alive connection to a
node HTTPS server on 127.0.0.1 (the upstream node builds link OpenSSL statically; Debian's
nodejs uses the system's libssl); `llmtap daemon` runs host-wide and
records both ends of every call, its stdout read through a pipe by a counting reader. Before
each measured burst the ring is warmed with 320 calls of 64 KiB (as a long-running agent's
is). The agent's CPU is the sum of /proc/PID/task/*/schedstat over its threads and its hold
guard, read before the burst and 1 s after it; divided by the calls. Every run checks that the
agent wrote one record per end of every call.

    bench/daemon_issue_workload.py [--runs 8] [--calls 6000] BINARY [BINARY...]
        [--agent-cpus 1 --client-cpus 0]   (pin: where the agent runs against the writers)

Runs as root (the daemon's probes); installs node, curl and openssl from Debian when they are
missing. Not part of CI.
"""

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from proc_cpu import context_switches, descendants, tree_cpu_ns

SERVER_JS = r"""
const https = require('https'); const fs = require('fs');
const answer = JSON.stringify({id: 'chatcmpl-1', object: 'chat.completion', created: 1,
  model: 'gpt-4o-mini', choices: [{index: 0, message: {role: 'assistant',
  content: 'x'.repeat(900)}, finish_reason: 'stop'}],
  usage: {prompt_tokens: 250, completion_tokens: 200, total_tokens: 450}});
https.createServer({key: fs.readFileSync(process.argv[2]), cert: fs.readFileSync(process.argv[3])},
  (req, res) => { req.on('data', () => {}); req.on('end', () => {
    res.writeHead(200, {'content-type': 'application/json'}); res.end(answer); }); })
  .listen(8443, '127.0.0.1', () => console.log('listening'));
"""

COUNTER_PY = r"""
import sys
n = 0
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    n += b.count(b"\n")
open(sys.argv[1], "w").write(str(n))
"""

WARM_CALLS = 320


def body(size):
    head = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'
    tail = '"}]}'
    text = ("Summarise the quarterly report for the team please. " * (size // 50 + 2))
    return head + text[: size - len(head) - len(tail)] + tail


def curl_config(path, calls, body_path):
    block = (
        'url = "https://api.openai.com:8443/v1/chat/completions"\noutput = "/dev/null"\n'
        'insecure\nhttp1.1\nsilent\nresolve = "api.openai.com:8443:127.0.0.1"\n'
        f'data-binary = "@{body_path}"\nheader = "Content-Type: application/json"\n'
        'header = "Authorization: Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD"\n')
    with open(path, "w") as f:
        f.write("next\n".join([block] * calls))


def pinned(cmd, cpus):
    return (["taskset", "-c", cpus] + cmd) if cpus else cmd


def wait_for(path, text, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in open(path, errors="replace").read():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def one_run(binary, args, work):
    server = subprocess.Popen(pinned(["node", f"{work}/srv.js", f"{work}/key.pem",
                                      f"{work}/cert.pem"], args.client_cpus),
                              stdout=subprocess.PIPE, text=True)
    agent = counter = err = None
    try:
        if server.stdout.readline().strip() != "listening":
            raise RuntimeError("the node server did not start")
        count_path = f"{work}/count"
        if os.path.exists(count_path):
            os.unlink(count_path)
        err = open(f"{work}/agent.err", "w")
        agent = subprocess.Popen(pinned([binary, "daemon", "--metrics-address", "127.0.0.1:0"],
                                        args.agent_cpus),
                                 stdout=subprocess.PIPE, stderr=err)
        counter = subprocess.Popen([sys.executable, f"{work}/counter.py", count_path],
                                   stdin=agent.stdout)
        agent.stdout.close()
        if not wait_for(f"{work}/agent.err", "ready", 60):
            raise RuntimeError(f"{binary} did not get ready: see {work}/agent.err")
        time.sleep(1)  # discovery attaches to node
        curl = pinned(["curl", "-K"], args.client_cpus)
        subprocess.run(curl + [f"{work}/warm.cfg"], check=True)
        time.sleep(1)
        def counts():  # the agent's threads and its hold guard's
            pids = descendants(agent.pid)
            return (tree_cpu_ns(pids), context_switches(pids, "voluntary"),
                    context_switches(pids, "nonvoluntary"))

        before = counts()
        subprocess.run(curl + [f"{work}/calls.cfg"], check=True)
        time.sleep(1)
        after = counts()
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=60)
        counter.wait(timeout=60)
        records = int(open(count_path).read())
        expected = 2 * (WARM_CALLS + args.calls)
        cpu, woken, preempted = (b - a for a, b in zip(before, after))
        return cpu / 1000 / args.calls, woken, preempted / args.calls, records, expected
    finally:
        for p in (agent, counter, server):
            if p and p.poll() is None:
                p.kill()
                p.wait()
        if err:
            err.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--calls", type=int, default=6000)
    ap.add_argument("--agent-cpus", default="", help="taskset list for the agent")
    ap.add_argument("--client-cpus", default="", help="taskset list for curl and node")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("daemon_issue_workload: run as root (the daemon attaches probes)")
    packages = {"node": "nodejs", "curl": "curl", "openssl": "openssl", "taskset": "util-linux"}
    missing = [packages[tool] for tool in packages if not shutil.which(tool)]
    if missing:
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + missing, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    work = tempfile.mkdtemp(prefix="llmtap-issue-workload.")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        f"{work}/key.pem", "-out", f"{work}/cert.pem", "-days", "2", "-subj",
                        "/CN=api.openai.com", "-addext", "subjectAltName=DNS:api.openai.com"],
                       check=True, capture_output=True)
        open(f"{work}/srv.js", "w").write(SERVER_JS)
        open(f"{work}/counter.py", "w").write(COUNTER_PY)
        open(f"{work}/body.json", "w").write(body(1024))
        open(f"{work}/body64k.json", "w").write(body(65536))
        curl_config(f"{work}/calls.cfg", args.calls, f"{work}/body.json")
        curl_config(f"{work}/warm.cfg", WARM_CALLS, f"{work}/body64k.json")
        results = {b: [] for b in args.binaries}
        for run in range(args.runs):
            for binary in args.binaries:
                us, woken, preempted, records, expected = one_run(binary, args, work)
                results[binary].append(us)
                flag = "" if records == expected else f"  RECORDS MISSING: {records}/{expected}"
                print(f"run {run + 1} {binary}: {us:.2f} µs per call, woken {woken} times, "
                      f"{preempted:.3f} preemptions per call, {records} records{flag}",
                      flush=True)
        print()
        for binary, values in results.items():
            v = sorted(values)
            print(f"{binary}: median {statistics.median(v):.2f} µs per call [{v[0]:.2f}-"
                  f"{v[-1]:.2f}], {sum(x <= 15 for x in v)}/{len(v)} runs at or under 15")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
