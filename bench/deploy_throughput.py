"""Deploys until all Ready: Dockyard's REST API against `kubectl apply -f` of the same manifests, same run.

    .venv/bin/python -m bench.deploy_throughput --nodes 100 --groups 100 --instances 10

A fresh sandbox and a fresh Dockyard server (SQLite, its own state directory) in a temporary directory
on free ports; the sandbox is registered as cluster ``local``. Then four runs, alternating so neither
side gets the warmer cluster: Dockyard, kubectl, kubectl, Dockyard. Each run has a system of its own
(a namespace) holding ``--groups`` groups of ``--instances`` instances (flavor tiny):

- Dockyard: all deploy requests sent at once (``POST .../groups/gN/deploy`` with a spec); the time runs
  until every operation has succeeded (the latest ``finished_at``; an operation succeeds only when every
  instance is Ready). The time at which the cluster itself showed every Deployment Ready is kept too.
- kubectl: ``kubectl apply -f`` of one List holding exactly what Dockyard applies (``namespace``,
  ``system_objects`` and ``render`` of each group, in another namespace); the time runs until every
  Deployment has ``readyReplicas == replicas`` for its current generation (``condition=Available``
  comes at 75 %).

After each run its namespace is deleted and the bench waits until its pods are gone. The server's RSS
is read from /proc after each run. Prints Markdown tables for docs/benchmarks.md. Not a test: nothing
here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.model import Quota
from dockyard.domain.render import GroupRef, namespace, render, system_objects
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

APP = "web"
IMAGE = "registry.local/bench/web:1"
POLL = 0.5


def rss_mib(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak RSS) of ``pid`` in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("Vm")
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so the ``finally`` blocks stop the sandbox and the server."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def spec(instances: int) -> dict[str, Any]:
    return {"image": IMAGE, "flavor": "tiny", "instances": instances}


class DockyardServer:
    """``dockyard server`` as a child process on a free port, with its own SQLite database and admin token.

    Use as a context manager: the process is stopped (SIGTERM, then SIGKILL after 15 s) on exit.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.token = "dy_" + secrets.token_hex(20)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.log = root / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def start(self, timeout: float = 60.0) -> float:
        """Start the process and wait for /readyz; returns the seconds it took."""
        state = self.root / "state"
        state.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "DOCKYARD_DATABASE_URL": f"sqlite+aiosqlite:///{self.root / 'dockyard.db'}",
            "DOCKYARD_ADMIN_TOKEN": self.token,
            "DOCKYARD_STATE_DIR": str(state),
            "DOCKYARD_CONFIG": str(self.root / "no-config.yaml"),
        }
        executable = Path(sys.executable).parent / "dockyard"
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(executable), "server", "--port", str(self.port)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self._process.poll() is not None:
                raise RuntimeError(f"dockyard server exited with {self._process.returncode}; see {self.log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return time.monotonic() - start
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"dockyard server not ready in {timeout:.0f}s; see {self.log}")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> DockyardServer:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=self.headers, timeout=120)

    def async_client(self) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        return httpx.AsyncClient(base_url=f"{self.url}/api/v1", headers=self.headers, timeout=300, limits=limits)

    def register(self, kubeconfig: Path, timeout: float = 120.0) -> None:
        """Register the sandbox as cluster ``local`` and wait until its watches are connected."""
        with self.client() as api:
            body = {"name": "local", "kubeconfig": kubeconfig.read_text(), "labels": {}}
            api.put("/clusters/local", json=body).raise_for_status()
            start = time.monotonic()
            while not api.get("/clusters/local").json().get("connected"):
                if time.monotonic() - start > timeout:
                    raise RuntimeError(f"cluster local not connected in {timeout:.0f}s; see {self.log}")
                time.sleep(0.5)

    def make_groups(self, system: str, groups: list[str]) -> None:
        with self.client() as api:
            api.post("/systems", json={"name": system}).raise_for_status()
            repo = {"name": APP, "repository": "registry.local/bench/web"}
            api.post(f"/systems/{system}/apps", json=repo).raise_for_status()
            for group in groups:
                body = {"name": group, "environment": "prod", "cluster": "local"}
                api.post(f"/systems/{system}/apps/{APP}/groups", json=body).raise_for_status()


RESOURCES = ("namespaces", "limitranges", "resourcequotas", "configmaps", "deployments", "services")
_REQUEST = re.compile(r"^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$")
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def apiserver_requests(metrics: str) -> Iterator[tuple[dict[str, str], float]]:
    """Each ``apiserver_request_total`` series of an apiserver's /metrics text: its labels and count."""
    for line in metrics.splitlines():
        found = _REQUEST.match(line)
        if found:
            yield dict(_LABEL.findall(found["labels"])), float(found["value"])


def request_counts(kubectl: Path, kubeconfig: Path) -> Counter[str]:
    """The apiserver's request counter, summed by "resource verb" for the kinds a deploy writes (no subresources)."""
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", "get", "--raw", "/metrics"]
    counts: Counter[str] = Counter()
    for labels, value in apiserver_requests(subprocess.run(argv, capture_output=True, text=True, check=True).stdout):
        if labels.get("resource") in RESOURCES and not labels.get("subresource"):
            counts[f"{labels['resource']} {labels['verb']}"] += int(value)
    return counts


@dataclass
class Run:
    side: str
    seconds: float  # until every operation succeeded / every Deployment Ready
    cluster_ready: float  # until the cluster showed every Deployment Ready (the same as seconds for kubectl)
    accepted: float  # Dockyard: until every deploy request had its 202; kubectl: until `apply` returned
    rss: tuple[float, float]
    load_before: str
    load_after: str
    requests: Counter[str]


def _all_ready(deployments: list[dict[str, Any]], count: int, instances: int) -> bool:
    if len(deployments) < count:
        return False
    for d in deployments:
        status, meta = d.get("status") or {}, d["metadata"]
        if (status.get("observedGeneration") or 0) < meta.get("generation", 1):
            return False
        if (status.get("readyReplicas") or 0) != instances or (status.get("updatedReplicas") or 0) != instances:
            return False
    return True


async def _wait_ready(kube: KubeCluster, namespace: str, count: int, instances: int, start: float) -> float:
    while True:
        deployments = await kube.list("apps/v1", "Deployment", namespace=namespace)
        if _all_ready(deployments, count, instances):
            return time.monotonic() - start
        if time.monotonic() - start > 1800:
            raise RuntimeError(f"{namespace}: Deployments not all Ready in 30 min")
        await asyncio.sleep(POLL)


async def dockyard_run(
    server: DockyardServer, kube: KubeCluster, system: str, groups: list[str], instances: int
) -> tuple[float, float, float]:
    """Deploy every group at once; (until all operations succeeded, until all Ready in the cluster, until all 202)."""
    async with server.async_client() as api:
        wall, start = time.time(), time.monotonic()
        answers = await asyncio.gather(
            *(
                api.post(
                    f"/systems/{system}/apps/{APP}/groups/{g}/deploy",
                    json={"spec": spec(instances), "deadline_seconds": 1800},
                )
                for g in groups
            )
        )
        accepted = time.monotonic() - start
        for answer in answers:
            if answer.status_code != 202:
                raise RuntimeError(f"deploy answered {answer.status_code}: {answer.text}")
        operations = [a.json()["id"] for a in answers]
        ready = await _wait_ready(kube, system, len(groups), instances, start)
        finished: dict[str, float] = {}
        while len(finished) < len(operations):
            for op_id in operations:
                if op_id in finished:
                    continue
                op = (await api.get(f"/operations/{op_id}")).json()
                if op["status"] == "failed":
                    raise RuntimeError(f"operation {op_id} failed: {op['error']}")
                if op["status"] == "succeeded":
                    finished[op_id] = dt.datetime.fromisoformat(op["finished_at"]).timestamp()
            if len(finished) < len(operations):
                await asyncio.sleep(1)
    return max(finished.values()) - wall, ready, accepted


def kubectl_manifests(system: str, groups: list[str], instances: int) -> dict[str, Any]:
    """The List of what Dockyard applies for these groups (same functions, another namespace)."""
    parsed = parse_spec(spec(instances))
    first = GroupRef(system, APP, groups[0])
    items = [namespace(first), *system_objects(first, Quota())]
    for g in groups:
        items += render(GroupRef(system, APP, g), 1, parsed)
    return {"apiVersion": "v1", "kind": "List", "items": items}


async def kubectl_run(
    kube: KubeCluster, kubectl: Path, kubeconfig: Path, workdir: Path, system: str, groups: list[str], instances: int
) -> tuple[float, float]:
    """(until every Deployment is Ready, until `kubectl apply` returned)."""
    path = workdir / f"{system}.json"
    path.write_text(json.dumps(kubectl_manifests(system, groups, instances)))
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        str(kubectl), f"--kubeconfig={kubeconfig}", "apply", "-f", str(path), stdout=subprocess.DEVNULL
    )
    if await proc.wait() != 0:
        raise RuntimeError("kubectl apply failed")
    applied = time.monotonic() - start
    return await _wait_ready(kube, system, len(groups), instances, start), applied


async def delete_namespace(kube: KubeCluster, kubectl: Path, kubeconfig: Path, namespace: str) -> None:
    """Delete the namespace and wait until it and its pods are gone, then let the cluster settle."""
    argv = [str(kubectl), f"--kubeconfig={kubeconfig}", "delete", "namespace", namespace, "--wait=false"]
    subprocess.run(argv, check=True, capture_output=True)
    while await kube.list("v1", "Pod", namespace=namespace) or any(
        n["metadata"]["name"] == namespace for n in await kube.list("v1", "Namespace")
    ):
        await asyncio.sleep(1)
    await asyncio.sleep(5)


async def _runs(
    layout: Layout, server: DockyardServer, kubectl: Path, args: argparse.Namespace, order: list[str]
) -> list[Run]:
    groups = [f"g{i}" for i in range(1, args.groups + 1)]
    runs: list[Run] = []
    async with KubeCluster(layout.kubeconfig, timeout=60) as kube:
        for index, side in enumerate(order, 1):
            system = f"{'dy' if side == 'dockyard' else 'kc'}{index}"
            if side == "dockyard":
                server.make_groups(system, groups)
            before = load()
            counted = request_counts(kubectl, layout.kubeconfig)
            print(f"run {index}: {side} in namespace {system} (load {before})", flush=True)
            if side == "dockyard":
                seconds, ready, accepted = await dockyard_run(server, kube, system, groups, args.instances)
            else:
                ready, accepted = await kubectl_run(
                    kube, kubectl, layout.kubeconfig, layout.root, system, groups, args.instances
                )
                seconds = ready
            requests = request_counts(kubectl, layout.kubeconfig)
            requests.subtract(counted)
            requests = +requests
            runs.append(Run(side, seconds, ready, accepted, rss_mib(server.pid), before, load(), requests))
            print(f"  {runs[-1]}", flush=True)
            await delete_namespace(kube, kubectl, layout.kubeconfig, system)
    return runs


def report(runs: list[Run], args: argparse.Namespace, server_start: float) -> None:
    pods = args.groups * args.instances
    print()
    print(
        f"| run | side | {args.groups} groups × {args.instances} until all Ready | cluster all Ready "
        "| requests answered | server RSS (peak) | load before → after |"
    )
    print("|---|---|---|---|---|---|---|")
    for i, r in enumerate(runs, 1):
        name = "Dockyard API" if r.side == "dockyard" else "`kubectl apply -f`"
        print(
            f"| {i} | {name} | {r.seconds:.1f} s ({pods / r.seconds:.0f} pods/s) | {r.cluster_ready:.1f} s "
            f"| {r.accepted:.2f} s | {r.rss[0]:.0f} MiB ({r.rss[1]:.0f}) | {r.load_before} → {r.load_after} |"
        )
    dy = [r.seconds for r in runs if r.side == "dockyard"]
    kc = [r.seconds for r in runs if r.side == "kubectl"]
    print()
    print(f"Dockyard/kubectl, means: {statistics.mean(dy) / statistics.mean(kc):.3f}")
    for i, (d, k) in enumerate(zip(dy, kc, strict=False), 1):
        print(f"  pair {i}: {d / k:.3f}")
    print()
    print("Requests to the apiserver during each run (no subresources, e.g. not deployments/status):")
    for i, r in enumerate(runs, 1):
        each = ", ".join(f"{k} {v}" for k, v in sorted(r.requests.items()))
        print(f"  {i} {r.side}: {sum(r.requests.values())} — {each}")
    print(f"server ready in {server_start:.1f}s; date {time.strftime('%Y-%m-%d')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--instances", type=int, default=10)
    parser.add_argument("--order", default="dockyard,kubectl,kubectl,dockyard")
    args = parser.parse_args()
    stop_on_sigterm()
    kubectl = ensure_binaries().kubectl
    root = Path(tempfile.mkdtemp(prefix="dockyard-bench-"))
    layout = Layout(root / "sandbox")
    server = DockyardServer(root / "server")
    (root / "server").mkdir()
    try:
        cluster.up(layout, ports=Ports.pick_free(), topology=default_topology(args.nodes), wait_timeout=600)
        print(f"sandbox up: {args.nodes} nodes (load {load()})", flush=True)
        server_start = server.start()
        server.register(layout.kubeconfig)
        runs = asyncio.run(_runs(layout, server, kubectl, args, args.order.split(",")))
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    report(runs, args, server_start)


if __name__ == "__main__":
    main()
