"""What an inspection of a big cluster costs, check by check, without the network: 1,000 nodes as
the capacity watch caches hold them (``--nodes``), 30 pods each, 3 % of the nodes with a
node-problem-detector condition, in one run.

    .venv/bin/python -m bench.inspection --nodes 1000 --rounds 20

Measures, in one process, the median of ``--rounds``:
- gathering: the cluster's facts from the caches (``services.inspection.gather_cluster`` over an
  in-memory :class:`~dockyard.adapters.kube.capacity.NodeIndex`/``UsageIndex``; the control plane
  read is a fixed fake: its cost is the apiserver's round trips, see docs/inspection.md);
- each cluster check (``domain.inspection.CLUSTER_CHECKS`` and ``certificates``);
- the diff against the previous run, and the report's JSON size.

Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import platform as host
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockyard.adapters.kube.capacity import NodeIndex, UsageIndex
from dockyard.domain.capacity import NodeInfo, Usage
from dockyard.domain.clusters import Cluster
from dockyard.domain.inspection import (
    CLUSTER_CHECKS,
    ClusterFacts,
    Component,
    ControlPlane,
    Limits,
    check_certificates,
    diff,
    inspect,
)
from dockyard.domain.live import Capacity, Connection, PodRecord
from dockyard.services.inspection import gather_cluster

NOW = dt.datetime(2026, 12, 2, 17, 30, tzinfo=dt.UTC)
CONTROL = ControlPlane(
    ready=True,
    version="v1.34.1",
    components=(Component("controller-manager", True), Component("etcd-0", True), Component("scheduler", True)),
    etcd_db_bytes=50e6,
    cert_not_after=NOW + dt.timedelta(days=300),
    metrics_api=True,
)


@dataclass
class FakeLive:
    nodes: list[NodeInfo]
    usage: UsageIndex

    def capacity(self, cluster: str) -> Capacity:
        return Capacity(self.nodes, self.usage, True)

    def instances(self, cluster: str) -> list[PodRecord]:
        return []

    def connection(self, cluster: str) -> Connection:
        return Connection(True, "")


@dataclass
class FakeControl:
    async def control_plane(self, cluster: Cluster) -> ControlPlane:
        return CONTROL


@dataclass
class FakePlatform:
    live: FakeLive
    control_plane: FakeControl = field(default_factory=FakeControl)


def world(nodes: int, pods_per_node: int) -> FakeLive:
    index = NodeIndex()
    for i in range(nodes):
        sick = (("KernelDeadlock", "DockerHung", "task docker blocked"),) if i % 33 == 0 else ()
        index.put(
            NodeInfo(
                name=f"kwok-node-{i}",
                labels=(("type", "kwok"),),
                taints=(),
                unschedulable=False,
                ready=True,
                cpu_millis=32000,
                memory=128 << 30,
                pods=110,
                problems=sick,
                kubelet="v1.34.1",
                # Real kubelets report their images and ephemeral-storage (KWOK's do not): every
                # node does here, so the images-disk check divides on all 1,000; 1 % near the limit.
                images=(90 if i % 100 == 0 else 20) << 30,
                ephemeral=100 << 30,
            )
        )
    usage = UsageIndex()
    for i in range(nodes):
        for j in range(pods_per_node):
            usage.put(
                Usage(
                    namespace="shop",
                    name=f"p-{i}-{j}",
                    node=f"kwok-node-{i}",
                    phase="Running",
                    cpu_millis=500,
                    memory=512 << 20,
                    priority=0,
                    app="web",
                    group="prod",
                    business="",
                    anti=None,
                    deleting=False,
                )
            )
    return FakeLive(index.all(), usage)


def timed(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else "")
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    live = world(args.nodes, args.pods_per_node)
    platform: Any = FakePlatform(live)
    cluster = Cluster(name="big", kubeconfig="", labels={})
    limits = Limits()

    loop = asyncio.new_event_loop()
    gather_ms, facts = timed(lambda: loop.run_until_complete(gather_cluster(platform, cluster)), args.rounds)
    assert isinstance(facts, ClusterFacts)
    rows = [("gather the cluster's facts from the caches", gather_ms)]
    for name, check in CLUSTER_CHECKS.items():
        rows.append((f"check `{name}`", timed(lambda check=check: check(facts, limits), args.rounds)[0]))
    rows.append(("check `certificates`", timed(lambda: check_certificates(facts, limits, now=NOW), args.rounds)[0]))
    all_ms, findings = timed(lambda: inspect([facts], None, limits, now=NOW), args.rounds)
    rows.append(("every check", all_ms))
    rows.append(("diff against the previous run", timed(lambda: diff(findings, findings), args.rounds)[0]))
    size = len(json.dumps([f.to_json() for f in findings]))
    failed = [f.check for f in findings if f.result == "failed"]

    print(
        f"{args.nodes} nodes, {args.nodes * args.pods_per_node} pods, median of {args.rounds} rounds, "
        f"Python {host.python_version()} on {host.machine()}\n"
    )
    print("| step | ms |\n|---|---|")
    for what, ms in rows:
        print(f"| {what} | {ms:.2f} |")
    print(f"| gather + every check (one cluster's report) | {gather_ms + all_ms:.2f} |")
    print(f"\nreport: {len(findings)} findings, {size:,} bytes of JSON; failed: {', '.join(failed) or 'none'}")


if __name__ == "__main__":
    main()
