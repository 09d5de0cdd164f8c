"""Deploy → every instance Ready on the real node: Dockyard (``POST …/deploy``, until the operation
succeeded and until the Deployment is Ready) vs ``kubectl apply`` of the same objects (until Ready),
alternating which side goes first; the namespaces are deleted (and their pods gone) between rounds."""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import time

from bench.deploy_throughput import APP, _wait_ready, delete_namespace
from bench.realnode import Context, web_spec
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.model import Quota
from dockyard.domain.render import GroupRef, namespace, render, system_objects
from dockyard.domain.versions import parse_spec

INSTANCES = 3


async def _dockyard(ctx: Context, kube: KubeCluster, system: str) -> tuple[float, float]:
    ctx.server.make_groups(system, ["g"])
    async with ctx.server.async_client() as api:
        start = time.monotonic()
        answer = await api.post(
            f"/systems/{system}/apps/{APP}/groups/g/deploy",
            json={"spec": web_spec(ctx, INSTANCES, system), "deadline_seconds": 300},
        )
        answer.raise_for_status()
        ready = await _wait_ready(kube, system, 1, INSTANCES, start)
        while (op := (await api.get(f"/operations/{answer.json()['id']}")).json())["status"] not in (
            "succeeded",
            "failed",
        ):
            await asyncio.sleep(0.1)
        if op["status"] == "failed":
            raise RuntimeError(f"deploy failed: {op['error']}")
        return time.monotonic() - start, ready


async def _kubectl(ctx: Context, kube: KubeCluster, system: str) -> float:
    ref = GroupRef(system, APP, "g")
    items = [
        namespace(ref),
        *system_objects(ref, Quota()),
        *render(ref, 1, parse_spec(web_spec(ctx, INSTANCES, system))),
    ]
    path = ctx.layout.root / f"{system}.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    start = time.monotonic()
    argv = [str(ctx.kubectl), f"--kubeconfig={ctx.layout.kubeconfig}", "apply", "-f", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    return await _wait_ready(kube, system, 1, INSTANCES, start)


async def _rounds(ctx: Context) -> tuple[list[tuple[float, float]], list[float]]:
    dockyard: list[tuple[float, float]] = []
    kubectl: list[float] = []
    async with KubeCluster(ctx.layout.kubeconfig, timeout=60) as kube:
        for i in range(ctx.rounds):
            for side in ("dockyard", "kubectl") if i % 2 == 0 else ("kubectl", "dockyard"):
                system = f"{'dy' if side == 'dockyard' else 'kc'}{i}"
                if side == "dockyard":
                    dockyard.append(await _dockyard(ctx, kube, system))
                else:
                    kubectl.append(await _kubectl(ctx, kube, system))
                await delete_namespace(kube, ctx.kubectl, ctx.layout.kubeconfig, system)
    return dockyard, kubectl


def run(ctx: Context) -> str:
    dockyard, kubectl = asyncio.run(_rounds(ctx))
    done = [d for d, _ in dockyard]
    ready = [r for _, r in dockyard]

    def row(name: str, values: list[float]) -> str:
        return f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |"

    return "\n".join(
        [
            f"Deploy of {INSTANCES} instances (busybox httpd, readiness every 1 s) → all Ready on the real node, "
            f"{ctx.rounds} rounds each, seconds:",
            "",
            "| side | median | min | max |",
            "|---|---|---|---|",
            row("Dockyard: Deployment Ready", ready),
            row("Dockyard: operation succeeded", done),
            row("kubectl apply: Deployment Ready", kubectl),
        ]
    )
