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

Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
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
from dockyard.sandbox import cluster
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


async def hold_streams(server: DockyardServer, count: int, seconds: float) -> float:
    """The server's CPU seconds per second with ``count`` event streams open, read to the end."""

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
            before, start = cpu_seconds(server.pid), time.monotonic()
            await asyncio.sleep(seconds)
            return (cpu_seconds(server.pid) - before) / (time.monotonic() - start)
        finally:
            for r in readers:
                r.cancel()
            await asyncio.gather(*readers, return_exceptions=True)


async def churn(server: DockyardServer, layout: Layout, seconds: float, streams: int) -> float:
    """The server's CPU seconds per second with ``streams`` streams open while a pod is deleted each second."""

    async def deleting() -> None:
        async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
            while True:
                pods = await kube.list("v1", "Pod", namespace=SYSTEM)
                victim = sorted(p["metadata"]["name"] for p in pods if not p["metadata"].get("deletionTimestamp"))[0]
                await kube.delete("v1", "Pod", victim, namespace=SYSTEM)
                await asyncio.sleep(1)

    task = asyncio.create_task(deleting())
    try:
        return await hold_streams(server, streams, seconds)
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
    cpu: dict[str, float] = {}
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
        for count in (0, 1, args.streams):
            cpu[f"{count} streams open, idle"] = asyncio.run(hold_streams(server, count, args.seconds))
            print(f"  {count} streams: {cpu[f'{count} streams open, idle']:.3f} core", flush=True)
        cpu["1 stream open, a pod deleted every second"] = asyncio.run(churn(server, layout, args.seconds, 1))
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
    print(f"\n| server, over {args.seconds:.0f} s | CPU (cores) |\n|---|---|")
    for name, value in cpu.items():
        print(f"| {name} | {value:.3f} |")


if __name__ == "__main__":
    main()
