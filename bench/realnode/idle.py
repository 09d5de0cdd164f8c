"""The real node's programs at idle (no pod): RSS and CPU of the kubelet, containerd and kube-proxy from
/proc over a window."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.realnode import Context
from dockyard.sandbox import processes

WINDOW = 60.0
PROGRAMS = ("kubelet-0", "containerd-0", "kube-proxy")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def run(ctx: Context) -> str:
    pids = {}
    for name in PROGRAMS:
        found = processes.find(ctx.layout.pid_file(name), marker=str(ctx.layout.root))
        if found:
            pids[name] = found.pid
    time.sleep(10)  # let the last deletions settle
    before = {n: _cpu_seconds(p) for n, p in pids.items()}
    start = time.monotonic()
    time.sleep(WINDOW)
    elapsed = time.monotonic() - start
    lines = [
        f"Idle (no pod on the real node), {WINDOW:.0f} s window:",
        "",
        "| process | RSS (MiB) | CPU (% of one core) |",
        "|---|---|---|",
    ]
    for name, pid in pids.items():
        cpu = (_cpu_seconds(pid) - before[name]) / elapsed * 100
        lines.append(f"| {name} | {processes.rss_bytes(pid) / 2**20:.0f} | {cpu:.2f} |")
    return "\n".join(lines)
