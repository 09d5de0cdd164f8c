"""How fast the console learns of a change in the cluster: the group's event stream vs `kubectl get -w`.

    .venv/bin/python -m bench.console_events --rounds 20

A fresh sandbox and server; one group of ``--instances`` instances, deployed and Ready. The bench
holds the group's event stream open (``GET …/groups/prod/events``, what the console's group page
reads) and, beside it, ``kubectl get pods -w`` on the same namespace (the nearest alternative: a
watch straight on the apiserver). Each round deletes one of the group's pods and records, from the
moment the delete is sent, when each of the two first shows that pod terminating or gone. Prints a
Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.deploy_throughput import APP, DockyardServer, load, spec, stop_on_sigterm
from dockyard.adapters.kube.client import KubeCluster
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM, GROUP = "bench", "prod"
EVENTS = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/events"


class Seen:
    """When each watcher first saw a pod terminating or gone (monotonic seconds)."""

    def __init__(self, wanted: int) -> None:
        self.wanted = wanted
        self.stream: dict[str, float] = {}
        self.kubectl: dict[str, float] = {}
        self.live: set[str] = set()


async def read_stream(server: DockyardServer, seen: Seen, ready: asyncio.Event) -> None:
    async with server.async_client() as api, api.stream("GET", EVENTS, timeout=None) as answer:
        kind = ""
        async for line in answer.aiter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "snapshot":
                now = time.monotonic()
                items = json.loads(line[6:])["instances"]["items"]
                alive = {i["name"] for i in items if not i["deleting"]}
                for gone in seen.live - alive:
                    seen.stream.setdefault(gone, now)
                seen.live = alive
                if len(alive) == seen.wanted and all(i["ready"] for i in items):
                    ready.set()


async def read_kubectl(kubectl: Path, kubeconfig: Path, seen: Seen) -> asyncio.subprocess.Process:
    columns = "custom-columns=TYPE:.type,NAME:.object.metadata.name,DELETING:.object.metadata.deletionTimestamp"
    argv = [f"--kubeconfig={kubeconfig}", "get", "pods", "-n", SYSTEM, "-w", "--output-watch-events"]
    proc = await asyncio.create_subprocess_exec(
        str(kubectl), *argv, "-o", columns, "--no-headers", stdout=asyncio.subprocess.PIPE
    )

    async def lines() -> None:
        assert proc.stdout is not None
        async for raw in proc.stdout:
            parts = raw.decode().split()
            if len(parts) == 3 and (parts[0] == "DELETED" or parts[2] != "<none>"):
                seen.kubectl.setdefault(parts[1], time.monotonic())

    asyncio.get_running_loop().create_task(lines())
    return proc


async def rounds(
    server: DockyardServer, layout: Layout, kubectl: Path, count: int, wanted: int
) -> list[tuple[float, float]]:
    seen, ready = Seen(wanted), asyncio.Event()
    stream = asyncio.create_task(read_stream(server, seen, ready))
    watcher = await read_kubectl(kubectl, layout.kubeconfig, seen)
    out: list[tuple[float, float]] = []
    try:
        async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
            for _ in range(count):
                await asyncio.wait_for(ready.wait(), 300)
                ready.clear()  # set again by the stream once the replacement is Ready
                await asyncio.sleep(2)  # both watchers idle
                victim = sorted(seen.live)[0]
                start = time.monotonic()
                await kube.delete("v1", "Pod", victim, namespace=SYSTEM)
                while victim not in seen.stream or victim not in seen.kubectl:
                    if time.monotonic() - start > 120:
                        saw = f"stream {victim in seen.stream}, kubectl {victim in seen.kubectl}"
                        raise RuntimeError(f"{victim}: not seen gone in 120 s ({saw})")
                    await asyncio.sleep(0.01)
                out.append((seen.stream[victim] - start, seen.kubectl[victim] - start))
                print(f"  stream {out[-1][0] * 1000:7.0f} ms   kubectl -w {out[-1][1] * 1000:7.0f} ms", flush=True)
    finally:
        stream.cancel()
        watcher.terminate()
        await watcher.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    stop_on_sigterm()
    kubectl = ensure_binaries().kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(args.nodes), wait_timeout=600)
        before = load()
        server.start()
        server.register(layout.kubeconfig)
        print(f"sandbox up: {args.nodes} nodes (load {before})", flush=True)
        server.make_groups(SYSTEM, [GROUP])
        with server.client() as api:
            api.post(f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/deploy", json={"spec": spec(args.instances)})
        runs = asyncio.run(rounds(server, layout, kubectl, args.rounds, args.instances))
        after = load()
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    ms = {name: sorted(r[i] * 1000 for r in runs) for i, name in enumerate(("event stream", "kubectl get -w"))}
    print(f"\n{len(runs)} rounds, {args.instances} instances, load {before} → {after}\n")
    print("| watcher | p50 ms | max ms |\n|---|---|---|")
    for name, samples in ms.items():
        print(f"| {name} | {statistics.median(samples):.0f} | {samples[-1]:.0f} |")


if __name__ == "__main__":
    main()
