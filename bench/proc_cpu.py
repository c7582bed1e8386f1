"""CPU and context switches of running processes, from /proc, for the benchmark scripts.

Threads and processes that end while being read are skipped: the figures are of what runs.
"""

import os


def over_tasks(pids, name, read):
    """read(text of /proc/P/task/T/<name>) summed over every thread of the processes."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{pid}/task/{t}/{name}") as f:
                    total += read(f.read())
            except (OSError, ValueError, IndexError):
                pass
    return total


def tree_cpu_ns(pids):
    """Nanoseconds on a CPU (schedstat's first field) of every thread of the processes."""
    return over_tasks(pids, "schedstat", lambda text: int(text.split()[0]))


def task_cpu_ns(pid):
    return tree_cpu_ns([pid])


def context_switches(pids, kind):
    """'voluntary' (the threads slept: their wakeups) or 'nonvoluntary' (preempted)."""
    def read(text):
        for line in text.splitlines():
            if line.startswith(kind + "_ctxt_switches:"):
                return int(line.split()[1])
        return 0
    return over_tasks(pids, "status", read)


def descendants(pid):
    """pid and every process below it."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
            ppid = int(st[st.rindex(")") + 2:].split()[1])
        except (OSError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out
