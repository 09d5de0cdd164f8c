"""The console's group page with many instances: time to its first meaningful paint in Debian's
chromium, and what its event stream costs the server's CPU.

    .venv/bin/python -m bench.console_load --instances 1000 --loads 5

A fresh sandbox (``--nodes`` KWOK nodes) and server serving the built console (``web/dist``); one
group of ``--instances`` instances, Ready. A group holds at most ``MAX_INSTANCES`` (500): Dockyard deploys
that many (the group is healthy), and the rest of a larger count are a copy of its Deployment applied
straight to the cluster (its own name, one more selector label, the same pod template: the same
version), so the group page lists them all as the group's instances (its state is then
``degraded``: more instances run than its version wants). Then:

- **first meaningful paint**: a signed-in chromium (headless, the flags of tests/integration/
  test_console.py) opens the group page ``--loads`` times; the time from navigation start to the first
  frame painted after the instances tab shows every instance and the table its first rows (a
  ``requestAnimationFrame`` after the condition holds), beside the browser's own first contentful
  paint (which is the page's frame, before any data);
- **the event stream's CPU**: the server process's CPU (utime + stime from /proc) over ``--seconds``
  with 0, 1 and ``--streams`` group event streams open (what each open group page holds), the group
  idle; and with one stream open while the group's pods are deleted one by one (a change a second).

What a user would use instead, in the same run: ``kubectl get pods`` of the group's namespace (the
time until it has printed every instance, ``--loads`` times), and ``kubectl get pods --watch`` (the
live view kubectl has): the apiserver's CPU over ``--seconds`` with 0, 1 and ``--streams`` such
watches open, the group idle (the server's and the apiserver's CPU are both printed for each case).

Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright
from tests.integration.harness.browser import ARGS, CHROMIUM

from bench.deploy_throughput import APP, DockyardServer, load, spec, stop_on_sigterm
from dockyard.adapters.kube.client import KubeCluster
from dockyard.api.console import default_directory
from dockyard.domain.versions import MAX_INSTANCES
from dockyard.sandbox import cluster, processes
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM, GROUP = "bench", "prod"
PASSWORD = "a console bench passphrase"  # noqa: S105 (the bench server's own admin)
EVENTS = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/events"
TICK = os.sysconf("SC_CLK_TCK")

# Resolved in the page: the instances tab counts every instance and the table has rows; then the
# next frame is painted. Times are from the navigation's start (performance.now()).
MEANINGFUL = """async (wanted) => {
  const shown = () => {
    const tab = document.querySelector('[data-testid=tab-instances]');
    const rows = document.querySelectorAll('[data-testid=instances] .ant-table-row');
    return tab && tab.textContent.includes('(' + wanted + ')') && rows.length > 0;
  };
  while (!shown()) await new Promise((ok) => setTimeout(ok, 10));
  await new Promise((ok) => requestAnimationFrame(() => setTimeout(ok, 0)));
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return { meaningful: performance.now(), fcp: fcp ? fcp.startTime : null };
}"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def wait_ready(server: DockyardServer, wanted: int, *, healthy: bool, timeout: float = 900) -> float:
    """Seconds until the group counts ``wanted`` ready instances (and, with ``healthy``, is healthy)."""
    start = time.monotonic()
    with server.client() as api:
        while time.monotonic() - start < timeout:
            status = api.get(f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}").json()["status"]
            settled = status["state"] == "healthy" or (not healthy and status["state"] != "progressing")
            if settled and status["ready"] == status["instances"] == wanted:
                return time.monotonic() - start
            time.sleep(2)
    raise RuntimeError(f"{wanted} instances not ready in {timeout:.0f}s")


async def add_instances(layout: Layout, count: int) -> None:
    """``count`` more instances of the group: a copy of the Deployment Dockyard made for it, under its
    own name and with one more selector label (two Deployments never claim each other's pods)."""
    async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
        (ours,) = await kube.list("apps/v1", "Deployment", namespace=SYSTEM)
        meta = ours["metadata"]
        extra = {"bench.dockyard.io/extra": "1"}
        template = ours["spec"]["template"]
        await kube.apply(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"{meta['name']}-extra", "namespace": SYSTEM, "labels": meta.get("labels", {})},
                "spec": {
                    "replicas": count,
                    "selector": {"matchLabels": {**ours["spec"]["selector"]["matchLabels"], **extra}},
                    "template": {
                        **template,
                        "metadata": {**template["metadata"], "labels": {**template["metadata"]["labels"], **extra}},
                    },
                },
            }
        )


def paints(server: DockyardServer, wanted: int, loads: int) -> list[tuple[float, float | None]]:
    out: list[tuple[float, float | None]] = []
    url = f"{server.url}/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.goto(server.url)
            page.get_by_test_id("login-user").fill("admin")
            page.get_by_test_id("login-password").fill(PASSWORD)
            page.get_by_test_id("login-submit").click()
            page.get_by_test_id("logout").wait_for(timeout=60_000)
            for _ in range(loads):
                page.goto(url)  # a new document: the session is in sessionStorage, nothing else is kept
                got = page.evaluate(MEANINGFUL, wanted)
                out.append((got["meaningful"], got["fcp"]))
                print(f"  meaningful paint {got['meaningful']:7.0f} ms   first contentful {got['fcp']} ms", flush=True)
        finally:
            browser.close()
    return out


def cpu_rates(pids: list[int], seconds: float) -> list[float]:
    """Each process's CPU seconds per second over the next ``seconds``."""
    before, start = [cpu_seconds(p) for p in pids], time.monotonic()
    time.sleep(seconds)
    took = time.monotonic() - start
    return [(cpu_seconds(p) - b) / took for p, b in zip(pids, before, strict=True)]


def apiserver_pid(layout: Layout) -> int:
    running = processes.find(layout.pid_file("kube-apiserver"), marker=str(layout.root))
    assert running is not None, "the sandbox's kube-apiserver is not running"
    return running.pid


def kubectl_lists(kubectl: Path, layout: Layout, wanted: int, loads: int) -> list[float]:
    """Milliseconds until ``kubectl get pods`` of the namespace has printed every instance."""
    argv = [str(kubectl), f"--kubeconfig={layout.kubeconfig}", "get", "pods", "-n", SYSTEM, "--no-headers"]
    out = []
    for _ in range(loads):
        start = time.perf_counter()
        listed = subprocess.run(argv, capture_output=True, check=True, text=True).stdout.splitlines()
        out.append((time.perf_counter() - start) * 1000)
        assert len(listed) == wanted, f"kubectl listed {len(listed)} pods, not {wanted}"
        print(f"  kubectl get pods {out[-1]:7.0f} ms", flush=True)
    return out


def hold_watches(
    kubectl: Path, layout: Layout, wanted: int, count: int, seconds: float, pids: list[int]
) -> list[float]:
    """The CPU of ``pids`` (per second) with ``count`` ``kubectl get pods --watch`` open, each past its
    first listing."""
    argv = [str(kubectl), f"--kubeconfig={layout.kubeconfig}", "get", "pods", "-n", SYSTEM, "--no-headers", "--watch"]
    outputs = [layout.root.parent / f"watch-{i}.txt" for i in range(count)]
    watches = []
    try:
        for path in outputs:
            with path.open("wb") as sink:
                watches.append(subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 120
        while any(len(p.read_bytes().splitlines()) < wanted for p in outputs):
            if time.monotonic() > deadline:
                raise RuntimeError("a kubectl watch did not list every pod in 120 s")
            time.sleep(0.2)
        time.sleep(3)
        return cpu_rates(pids, seconds)
    finally:
        for w in watches:
            w.terminate()
            w.wait()


async def hold_streams(server: DockyardServer, count: int, seconds: float, pids: list[int]) -> list[float]:
    """The CPU of ``pids`` (per second) with ``count`` event streams open, read to the end."""

    async def read(api: httpx.AsyncClient, opened: asyncio.Event) -> None:
        async with api.stream("GET", EVENTS, timeout=None) as answer:
            async for _ in answer.aiter_bytes():
                opened.set()

    async with server.async_client() as api:
        opens = [asyncio.Event() for _ in range(count)]
        readers = [asyncio.create_task(read(api, o)) for o in opens]
        try:
            for o in opens:
                await asyncio.wait_for(o.wait(), 120)
            await asyncio.sleep(3)  # the first snapshots are out
            before, start = [cpu_seconds(p) for p in pids], time.monotonic()
            await asyncio.sleep(seconds)
            took = time.monotonic() - start
            return [(cpu_seconds(p) - b) / took for p, b in zip(pids, before, strict=True)]
        finally:
            for r in readers:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)


async def churn(server: DockyardServer, layout: Layout, seconds: float, streams: int, pids: list[int]) -> list[float]:
    """The CPU of ``pids`` with ``streams`` streams open while a pod is deleted each second."""

    async def deleting() -> None:
        async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
            while True:
                pods = await kube.list("v1", "Pod", namespace=SYSTEM)
                victim = sorted(p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp"))[0]
                await kube.delete("v1", "Pod", victim, namespace=SYSTEM)
                await asyncio.sleep(1)

    task = asyncio.create_task(deleting())
    try:
        return await hold_streams(server, streams, seconds, pids)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--loads", type=int, default=5)
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if not (default_directory() / "index.html").is_file():
        sys.exit("the console is not built: cd web && npm run build")
    stop_on_sigterm()
    os.environ["DOCKYARD_ADMIN_PASSWORD"] = PASSWORD  # the browser signs in as admin
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    cpu: dict[str, list[float]] = {}
    kubectl = ensure_binaries().kubectl
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(args.nodes), wait_timeout=600)
        before = load()
        server.start()
        server.register(layout.kubeconfig)
        server.make_groups(SYSTEM, [GROUP])
        deployed = min(args.instances, MAX_INSTANCES)
        with server.client() as api:
            body = {"spec": spec(deployed)}
            api.post(f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/deploy", json=body).raise_for_status()
        took = wait_ready(server, deployed, healthy=True)
        if args.instances > deployed:
            asyncio.run(add_instances(layout, args.instances - deployed))
            took += wait_ready(server, args.instances, healthy=False)
        print(f"{args.instances} instances ready in {took:.0f}s (load {before} → {load()})", flush=True)
        runs = paints(server, args.instances, args.loads)
        lists = kubectl_lists(kubectl, layout, args.instances, args.loads)
        pids = [server.pid, apiserver_pid(layout)]
        for count in (0, 1, args.streams):
            name = f"{count} group event streams open, idle"
            cpu[name] = asyncio.run(hold_streams(server, count, args.seconds, pids))
            print(f"  {name}: server {cpu[name][0]:.3f}, apiserver {cpu[name][1]:.3f} core", flush=True)
        for count in (1, args.streams):
            name = f"instead: {count} `kubectl get pods --watch` open, idle"
            cpu[name] = hold_watches(kubectl, layout, args.instances, count, args.seconds, pids)
            print(f"  {name}: server {cpu[name][0]:.3f}, apiserver {cpu[name][1]:.3f} core", flush=True)
        name = "1 group event stream open, a pod deleted every second"
        cpu[name] = asyncio.run(churn(server, layout, args.seconds, 1, pids))
        after = load()
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    meaningful = sorted(r[0] for r in runs)
    fcp = sorted(r[1] for r in runs if r[1] is not None)
    print(f"\n{args.instances} instances on {args.nodes} nodes, {len(runs)} page loads, load {before} → {after}\n")
    print("| group page | p50 ms | max ms |\n|---|---|---|")
    p50 = statistics.median(meaningful)
    print(f"| first meaningful paint (every instance counted, rows shown) | {p50:.0f} | {meaningful[-1]:.0f} |")
    if fcp:
        print(f"| first contentful paint (the browser's) | {statistics.median(fcp):.0f} | {fcp[-1]:.0f} |")
    lists.sort()
    print(f"| instead: `kubectl get pods` printed every instance | {statistics.median(lists):.0f} | {lists[-1]:.0f} |")
    print(f"\n| over {args.seconds:.0f} s | Dockyard server CPU (cores) | kube-apiserver CPU (cores) |\n|---|---|---|")
    for name, (ours, apiserver) in cpu.items():
        print(f"| {name} | {ours:.3f} | {apiserver:.3f} |")


if __name__ == "__main__":
    main()
