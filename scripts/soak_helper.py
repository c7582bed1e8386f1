#!/usr/bin/python3
"""Helper of scripts/soak.sh (not in CI): the local HTTPS server, the churning traffic, the
10-second sampler of the agent, and the report (verdict + PNG). Standard library only, except
matplotlib for the plot. Run with Debian's python3.

    soak_helper.py server --cert C --key K --port-file F
    soak_helper.py traffic --port P --seconds S --pids-file F [--max-procs 6] [--spawn-ms 150]
    soak_helper.py client --port P --requests N --body B --path llm|other|mixed [--new-conn]
    soak_helper.py sample --pid AGENT --metrics 127.0.0.1:PORT --csv F --interval 10 --traffic-pid T
    soak_helper.py report --csv F --png P [--tolerance 0.10]
"""

import argparse
import csv
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.request

LLM_PATH = "/v1/chat/completions"
OTHER_PATH = "/api/orders"
HOST = "api.openai.com"


def body_for(path, size):
    if path == LLM_PATH:
        def enc(c):
            return json.dumps({"model": "gpt-4o-mini", "messages": [
                {"role": "user", "content": c}]}, separators=(",", ":")).encode()
    else:
        def enc(c):
            return json.dumps({"customer": "c-1", "items": [{"sku": "A-1", "qty": 1}], "note": c},
                              separators=(",", ":")).encode()
    pad = max(0, size - len(enc("")))
    return enc(("soak " * (pad // 5 + 1))[:pad])


# ------------------------------------------------------------------------------------------
def cmd_server(a):
    # The benchmark's server (bench/fake_llm_https_server.py), threaded for many clients.
    server = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench",
                          "fake_llm_https_server.py")
    os.execv(sys.executable, [sys.executable, server, a.cert, a.key, "--port-file", a.port_file,
                              "--threaded"])


# ------------------------------------------------------------------------------------------
def cmd_client(a):
    import http.client
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = None
    failures = 0
    for i in range(a.requests):
        path = {"llm": LLM_PATH, "other": OTHER_PATH}.get(a.path) or (LLM_PATH if i % 2 == 0 else OTHER_PATH)
        if conn is None or a.new_conn:
            if conn is not None:
                conn.close()
            conn = http.client.HTTPSConnection("127.0.0.1", a.port, context=ctx, timeout=30)
        try:
            conn.request("POST", path, body=body_for(path, a.body),
                         headers={"Host": HOST, "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            failures += r.status != 200
        except (OSError, http.client.HTTPException):
            failures += 1
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    sys.exit(1 if failures else 0)


# ------------------------------------------------------------------------------------------
def cmd_traffic(a):
    """Starts client processes continually (curl and python; keep-alive and short; LLM-shaped and
    not; some 64 KiB bodies) until --seconds have passed; at most --max-procs at once."""
    me = os.path.abspath(__file__)
    py = "/usr/bin/python3"
    work = os.path.dirname(os.path.abspath(a.pids_file))
    bodies = {}
    for path, name in ((LLM_PATH, "llm"), (OTHER_PATH, "other")):
        for size in (1024, 65536):
            f = os.path.join(work, f"body-{name}-{size}.json")
            with open(f, "wb") as out:
                out.write(body_for(path, size))
            bodies[(path, size)] = f
    url = f"https://127.0.0.1:{a.port}"
    curl_base = ["curl", "-sk", "--http1.1", "--max-time", "30", "-o", "/dev/null",
                 "-H", f"Host: {HOST}", "-H", "Content-Type: application/json", "-H", "Expect:"]
    rng = random.Random(a.seed)
    running = []
    stats = {"started": 0, "failed": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *x: stop.append(1))
    signal.signal(signal.SIGINT, lambda *x: stop.append(1))

    def pick():
        r = rng.random()
        size = 65536 if rng.random() < 0.2 else 1024
        path = LLM_PATH if rng.random() < 0.6 else OTHER_PATH
        if r < 0.30:   # curl, one request, short connection
            return curl_base + ["--data-binary", "@" + bodies[(path, size)], url + path]
        if r < 0.50:   # curl keep-alive: 10 requests on one connection
            n = 10
            return curl_base + ["--data-binary", "@" + bodies[(path, size)]] + [url + path] * n
        if r < 0.80:   # python keep-alive, 20 requests, LLM and non-LLM alternating
            return [py, me, "client", "--port", str(a.port), "--requests", "20", "--body",
                    str(size), "--path", "mixed"]
        # python, 5 requests, a new connection for each
        return [py, me, "client", "--port", str(a.port), "--requests", "5", "--body", str(size),
                "--path", "mixed", "--new-conn"]

    deadline = time.monotonic() + a.seconds
    with open(a.pids_file, "a") as pids:
        while time.monotonic() < deadline and not stop:
            still = []
            for p in running:
                if p.poll() is None:
                    still.append(p)
                elif p.returncode != 0:
                    stats["failed"] += 1
            running = still
            if len(running) < a.max_procs:
                p = subprocess.Popen(pick(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                pids.write(f"{p.pid}\n")
                pids.flush()
                running.append(p)
                stats["started"] += 1
            time.sleep(a.spawn_ms / 1000.0)
        for p in running:  # let the last ones finish (bounded by their own timeouts)
            try:
                p.wait(timeout=35)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.returncode != 0:
                stats["failed"] += 1
    print(json.dumps(stats), flush=True)


# ------------------------------------------------------------------------------------------
HASH_TYPES = {"hash", "lru_hash", "percpu_hash", "lru_percpu_hash", "hash_of_maps"}


def cpu_ns(pids):
    total = 0
    for pid in pids:
        try:
            for t in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                        total += int(f.read().split()[0])
                except (OSError, ValueError):
                    pass
        except OSError:
            pass
    return total


def children_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                if int(st[st.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError):
                pass
    return out


def fd_kinds(pid):
    """(open fds, bpf link fds, perf_event fds, map ids) from /proc/PID/fd and fdinfo."""
    fds = links = perf = 0
    maps = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0, 0, 0, maps
    for fd in names:
        fds += 1
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target == "anon_inode:bpf_link":
            links += 1
        elif target == "anon_inode:[perf_event]":
            perf += 1
        elif target == "anon_inode:bpf-map":
            try:
                with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                    m = re.search(r"^map_id:\s*(\d+)", f.read(), re.M)
                if m:
                    maps.add(int(m.group(1)))
            except OSError:
                pass
    return fds, links, perf, maps


def bpftool_json(args):
    try:
        r = subprocess.run(["bpftool", "-j"] + args, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True, timeout=30)
        return json.loads(r.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return []


def map_entries(map_id):
    """Entries in a map: `bpftool -j map dump` is a JSON list (one item per entry)."""
    try:
        r = subprocess.run(["bpftool", "-j", "map", "dump", "id", str(map_id)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=30)
        entries = json.loads(r.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return -1
    return len(entries) if isinstance(entries, list) else -1


def scrape(address):
    try:
        text = urllib.request.urlopen(f"http://{address}/metrics", timeout=5).read().decode()
    except Exception:
        return None
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name = key.split("{", 1)[0]
        try:
            v = float(value)
        except ValueError:
            continue
        if name == "llmtap_events_lost":
            stage = re.search(r'stage="(\w+)"', key)
            name = f"lost_{stage.group(1) if stage else 'other'}"
        out[name] = out.get(name, 0.0) + v
    return out


def stopped_among(root_pids):
    """Processes in state T (stopped) that descend from one of root_pids, and in all."""
    parent, state = {}, {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                rest = st[st.rindex(")") + 2:].split()
                state[int(d)], parent[int(d)] = rest[0], int(rest[1])
            except (OSError, ValueError):
                pass
    ours = total = 0
    for pid, s in state.items():
        if s not in ("T", "t"):
            continue
        total += 1
        p, seen = pid, 0
        while p > 1 and seen < 64:
            if p in root_pids:
                ours += 1
                break
            p, seen = parent.get(p, 0), seen + 1
    return ours, total


def cmd_sample(a):
    stop = []
    signal.signal(signal.SIGTERM, lambda *x: stop.append(1))
    signal.signal(signal.SIGINT, lambda *x: stop.append(1))
    roots = {int(x) for x in a.roots.split(",") if x}
    fields = ["t_s", "rss_kb", "agent_tree_rss_kb", "fds", "agent_bpf_links", "agent_perf_events",
              "host_bpf_links", "agent_maps", "hash_map_entries", "hash_map_capacity",
              "max_map_fill", "cpu_pct", "llm_calls", "tls_calls", "lost_kernel",
              "lost_userspace", "processes_held", "holds", "probes_attached", "files_attached",
              "stopped_ours", "stopped_all", "top_map", "maps"]
    new = not os.path.exists(a.csv)
    f = open(a.csv, "a", newline="")
    w = csv.DictWriter(f, fieldnames=fields)
    if new:
        w.writeheader()
    t0 = time.monotonic()
    last_cpu, last_t = None, None
    while not stop:
        if not os.path.exists(f"/proc/{a.pid}"):
            break
        tree = [a.pid] + children_of(a.pid)
        now_cpu, now_t = cpu_ns(tree), time.monotonic()
        fds, links, perf, map_ids = fd_kinds(a.pid)
        maps = {m["id"]: m for m in bpftool_json(["map", "list"]) if m.get("id") in map_ids}
        entries = capacity = 0
        top = ("", 0.0)
        per_map = []
        for mid, m in sorted(maps.items()):
            if m.get("type") not in HASH_TYPES:
                continue
            n = map_entries(mid)
            if n < 0:
                continue
            entries += n
            per_map.append(f"{m.get('name', mid)}={n}")
            capacity += m.get("max_entries", 0)
            fill = n / m["max_entries"] if m.get("max_entries") else 0.0
            if fill >= top[1]:
                top = (f"{m.get('name', mid)}={n}/{m.get('max_entries')}", fill)
        metrics = scrape(a.metrics) or {}
        ours, total = stopped_among(roots | {a.pid})
        row = {
            "t_s": round(now_t - t0, 1),
            "rss_kb": _status_kb(a.pid, "VmRSS"),
            "agent_tree_rss_kb": sum(_status_kb(p, "VmRSS") for p in tree),
            "fds": fds, "agent_bpf_links": links, "agent_perf_events": perf,
            "host_bpf_links": len(bpftool_json(["link", "list"])),
            "agent_maps": len(map_ids), "hash_map_entries": entries,
            "hash_map_capacity": capacity, "max_map_fill": round(top[1], 4),
            "cpu_pct": ("" if last_cpu is None else
                        round(100.0 * (now_cpu - last_cpu) / 1e9 / (now_t - last_t), 2)),
            "llm_calls": int(metrics.get("llmtap_llm_calls_total", 0)),
            "tls_calls": int(metrics.get("llmtap_tls_calls_captured", 0)),
            "lost_kernel": int(metrics.get("lost_kernel", 0)),
            "lost_userspace": int(metrics.get("lost_userspace", 0)),
            "processes_held": int(metrics.get("llmtap_processes_held", 0)),
            "holds": int(metrics.get("llmtap_holds", 0)),
            "probes_attached": int(metrics.get("llmtap_probes_attached", 0)),
            "files_attached": int(metrics.get("llmtap_tls_files_attached", 0)),
            "stopped_ours": ours, "stopped_all": total, "top_map": top[0],
            "maps": " ".join(per_map),
        }
        w.writerow(row)
        f.flush()
        last_cpu, last_t = now_cpu, now_t
        end = time.monotonic() + a.interval
        while not stop and time.monotonic() < end:
            time.sleep(0.2)
    f.close()


def _status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ------------------------------------------------------------------------------------------
# Flat or growing: mean of the last third against the first third, within tolerance + slack.
CHECKS = [  # column, absolute slack, label
    ("rss_kb", 4096, "RSS (KiB)"),
    ("fds", 4, "open fds"),
    ("agent_bpf_links", 2, "BPF links (agent's fds)"),
    ("agent_perf_events", 4, "perf_event fds (uprobes)"),
    ("hash_map_entries", 256, "hash map entries"),
]


def cmd_report(a):
    rows = list(csv.DictReader(open(a.csv)))
    if len(rows) < 3:
        print(f"verdict: too few samples ({len(rows)}) to judge")
        return 2
    third = max(1, len(rows) // 3)
    lines = [f"samples: {len(rows)} over {rows[-1]['t_s']} s"]
    growing = []
    for col, slack, label in CHECKS:
        vals = [float(r[col]) for r in rows if r.get(col) not in ("", None)]
        if len(vals) < 3:
            continue
        first = sum(vals[:third]) / third
        last = sum(vals[-third:]) / third
        grew = last > first * (1 + a.tolerance) + slack
        lines.append(f"  {label:28s} first third {first:12.1f}  last third {last:12.1f}  "
                     f"min {min(vals):.0f} max {max(vals):.0f}  -> {'GROWING' if grew else 'flat'}")
        if grew:
            growing.append(label)
    def per_map(row):
        return {k: int(v) for k, _, v in (x.partition("=") for x in (row.get("maps") or "").split()) if v}
    first_maps, last_maps = per_map(rows[0]), per_map(rows[-1])
    moved = [f"{k} {first_maps.get(k, 0)}->{v}" for k, v in last_maps.items() if v != first_maps.get(k, 0)]
    if moved:
        lines.append("  map entries, first -> last sample: " + ", ".join(moved))
    cpu = [float(r["cpu_pct"]) for r in rows if r["cpu_pct"] not in ("", None)]
    if cpu:
        lines.append(f"  agent CPU % of one core      median {sorted(cpu)[len(cpu) // 2]:.1f}  "
                     f"max {max(cpu):.1f}")
    last = rows[-1]
    lost = int(last["lost_kernel"]) + int(last["lost_userspace"])
    lines.append(f"  LLM calls reported {last['llm_calls']}, TLS calls captured {last['tls_calls']}, "
                 f"holds {last['holds']}, held now {last['processes_held']}, "
                 f"max map fill {max(float(r['max_map_fill']) for r in rows):.1%} "
                 f"({last['top_map']})")
    lines.append(f"  lost: kernel {last['lost_kernel']}, userspace {last['lost_userspace']}")
    stopped = max(int(r["stopped_ours"]) for r in rows)
    lines.append(f"  processes of ours seen stopped (T) at a sample: max {stopped}")
    verdict = ("flat" if not growing else "growing: " + ", ".join(growing)) + \
        ("; 0 lost" if lost == 0 else f"; {lost} lost")
    print("\n".join(lines))
    print(f"verdict: {verdict}")
    if a.png:
        plot(rows, a.png, verdict)
    return 0 if not growing and lost == 0 else 1


def plot(rows, path, verdict):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing: no plot", file=sys.stderr)
        return
    t = [float(r["t_s"]) / 60 for r in rows]

    def col(c):
        return [float(r[c]) if r[c] not in ("", None) else float("nan") for r in rows]
    panels = [
        ("RSS (MiB)", [("agent", [x / 1024 for x in col("rss_kb")]),
                       ("agent + helpers", [x / 1024 for x in col("agent_tree_rss_kb")])]),
        ("open fds", [("fds", col("fds"))]),
        ("BPF links / perf events", [("agent bpf_link fds", col("agent_bpf_links")),
                                     ("agent perf_event fds", col("agent_perf_events")),
                                     ("host links (bpftool)", col("host_bpf_links"))]),
        ("hash map entries", [("sum", col("hash_map_entries"))]),
        ("agent CPU % of one core", [("cpu", col("cpu_pct"))]),
        ("counters", [("LLM calls", col("llm_calls")), ("lost (kernel)", col("lost_kernel")),
                      ("lost (userspace)", col("lost_userspace")), ("holds", col("holds"))]),
    ]
    fig, axes = plt.subplots(3, 2, figsize=(12, 9), sharex=True)
    for ax, (title, series) in zip(axes.flat, panels):
        for label, ys in series:
            ax.plot(t, ys, marker=".", label=label)
        ax.set_title(title, fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=7)
    for ax in axes[-1]:
        ax.set_xlabel("minutes")
    fig.suptitle(f"llmtap daemon soak: {verdict}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--port-file", required=True)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--requests", type=int, default=1)
    c.add_argument("--body", type=int, default=1024)
    c.add_argument("--path", choices=["llm", "other", "mixed"], default="mixed")
    c.add_argument("--new-conn", action="store_true")
    t = sub.add_parser("traffic")
    t.add_argument("--port", type=int, required=True)
    t.add_argument("--seconds", type=float, required=True)
    t.add_argument("--pids-file", required=True)
    t.add_argument("--max-procs", type=int, default=6)
    t.add_argument("--spawn-ms", type=float, default=150)
    t.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("sample")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--metrics", required=True)
    m.add_argument("--csv", required=True)
    m.add_argument("--interval", type=float, default=10)
    m.add_argument("--roots", default="", help="pids whose descendants are ours (for T checks)")
    r = sub.add_parser("report")
    r.add_argument("--csv", required=True)
    r.add_argument("--png")
    r.add_argument("--tolerance", type=float, default=0.10)
    a = p.parse_args()
    return {"server": cmd_server, "client": cmd_client, "traffic": cmd_traffic,
            "sample": cmd_sample, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main() or 0)
