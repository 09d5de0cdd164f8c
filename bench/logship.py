"""The log shipper from N KWOK instances into the log store (``bench.logs --kwok N``).

A fresh sandbox (``--nodes``, default enough for N at 110 pods a node) and ``dockyard server`` (its
shipper pointed at the sandbox's VictoriaLogs); one group of N instances deployed, each given a
KWOK ``Logs`` file. For ``seconds`` every instance appends one line every 0.1 s (N × 10 lines/s
offered); every 2 s one instance also writes a marker line, and the bench measures when a search
through Dockyard's API first finds it (written → searchable). Prints what was written and stored,
the stored lines/s (the time until every written line was in the store), and the marker latencies.
Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.deploy_throughput import APP, DockyardServer, load, spec, stop_on_sigterm
from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.logstore import VictoriaLogs
from dockyard.domain.logsearch import STREAM_FIELDS
from dockyard.sandbox import cluster, kwoklogs, logstore
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM, GROUP = "benchlogs", "prod"
SEARCH = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/logs/search"
INSTANCES = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/instances"


async def _running(server: DockyardServer, count: int, timeout: float = 900) -> list[str]:
    async with server.async_client() as api:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            items = (await api.get(INSTANCES)).json()["items"]
            names = [i["name"] for i in items if i["phase"] == "Running"]
            if len(names) >= count:
                return names
            await asyncio.sleep(2)
    raise TimeoutError(f"{count} instances not running in {timeout:.0f}s")


async def _stored(store: VictoriaLogs) -> int:
    await store.flush()
    rows = await store.query(f'_stream:{{system="{SYSTEM}"}} | stats count() as n')
    return int(rows[0]["n"]) if rows else 0


async def _measure(server: DockyardServer, layout: Layout, store: VictoriaLogs, count: int, seconds: float) -> None:
    names = await _running(server, count)
    async with KubeCluster(layout.kubeconfig, timeout=60.0) as kube:
        gate = asyncio.Semaphore(32)

        async def attach(name: str) -> Path:
            async with gate:
                return await kwoklogs.attach(kube, layout.root, SYSTEM, name)

        paths = await asyncio.gather(*(attach(n) for n in names))
    print(f"{len(names)} instances running, their Logs attached (load {load()})", flush=True)
    written, latencies = 0, []
    started = time.monotonic()
    async with server.async_client() as api:
        marker_tasks: list[asyncio.Task[None]] = []

        async def marker(k: int) -> None:
            text = f"marker-{k}-{time.time_ns()}"
            kwoklogs.append(paths[k % len(paths)], [text])
            at = time.monotonic()
            while time.monotonic() - at < 60:
                lines = (await api.get(SEARCH, params={"q": text})).json()["lines"]
                if lines:
                    latencies.append(time.monotonic() - at)
                    return
                await asyncio.sleep(0.1)

        tick, k = 0, 0
        while time.monotonic() - started < seconds:
            at = time.time_ns()
            for n, path in enumerate(paths):
                with path.open("a") as f:
                    f.write(kwoklogs.cri_line(f"instance={n} tick={tick} GET /api/orders 200 took 3ms", at=at))
            written += len(paths)
            tick += 1
            if tick % 20 == 0:
                marker_tasks.append(asyncio.create_task(marker(k)))
                k += 1
            await asyncio.sleep(max(0.0, started + tick * 0.1 - time.monotonic()))
        writing = time.monotonic() - started
        await asyncio.gather(*marker_tasks)
    wanted = written + len(latencies)
    stored = await _stored(store)
    while stored < wanted and time.monotonic() - started < seconds + 300:
        await asyncio.sleep(1)
        stored = await _stored(store)
    took = time.monotonic() - started
    print(f"\n{len(paths)} KWOK instances, {seconds:.0f} s of writing, load {load()}\n")
    print("| lines written | offered lines/s | stored | until all stored (s) | stored lines/s |")
    print("|---|---|---|---|---|")
    print(f"| {wanted:,} | {written / writing:,.0f} | {stored:,} | {took:.1f} | {stored / took:,.0f} |")
    if latencies:
        latencies.sort()
        p95 = statistics.quantiles(latencies, n=20)[18] if len(latencies) >= 2 else latencies[0]
        print(
            f"\nwritten → found by search ({len(latencies)} markers): p50 {statistics.median(latencies):.2f}s "
            f"p95 {p95:.2f}s max {latencies[-1]:.2f}s"
        )


async def run(count: int, *, seconds: float, nodes: int = 0) -> None:
    stop_on_sigterm()
    nodes = nodes or max(4, count // 100 + 2)
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-logship-"))
    layout = Layout(root / "sandbox")
    (root / "server").mkdir()
    server = DockyardServer(root / "server")
    ports = Ports.pick_free()
    try:
        await asyncio.to_thread(cluster.up, layout, ports=ports, topology=default_topology(nodes), wait_timeout=900)
        os.environ["DOCKYARD_LOGSTORE_URL"] = logstore.url(ports)
        server.start()
        server.register(layout.kubeconfig)
        server.make_groups(SYSTEM, [GROUP])
        with server.client() as api:
            api.post(f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}/deploy", json={"spec": spec(count)})
        store = VictoriaLogs(logstore.url(ports), stream_fields=STREAM_FIELDS, timeout=60.0)
        try:
            await _measure(server, layout, store, count, seconds)
        finally:
            await store.aclose()
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
