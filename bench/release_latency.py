"""A gray release's step: time from `promote` to the step's instances Ready, vs `kubectl scale`, same run.

    .venv/bin/python -m bench.release_latency --rounds 10 --instances 20

A fresh sandbox and a fresh Dockyard server (SQLite, its own state directory) in a temporary directory
on free ports; the sandbox is registered as cluster ``local``. Each side has a group of
``--instances`` instances (flavor tiny) in a namespace of its own, and goes ``--rounds`` times through
the steps ``gray 2, pause, 25%, pause, 50%, pause, 75%, pause, 100%``; the rounds alternate which side
goes first (Dockyard, kubectl; kubectl, Dockyard; ...). Timed are the four transitions out of a pause:

- **Dockyard**: a release of a new image (``POST .../releases``; its first step, ``gray 2``, is not
  timed), then at each pause ``POST .../releases/{id}/promote``. Timed from sending the promote.
- **kubectl**: the same objects Dockyard renders (the group's Deployment of version 1 and the canary
  Deployment of version 2, in another namespace), and at each step ``kubectl scale`` of the canary up
  to the step's count, then ``kubectl scale`` of the stable Deployment down, back to back. Timed from
  starting the first ``kubectl``.

For both, one poller lists the group's pods every ``--poll`` seconds through the kube API and keeps
(a) **Ready**: when every canary instance of the step's count is Ready (``dockyard.io/track=canary``,
condition Ready, not being deleted), and (c) **split**: when, also, only the step's count of stable
pods is left. For Dockyard also (b) **reported**: when ``GET .../releases/{id}`` says ``paused`` at
the next pause (``succeeded`` after ``100%``: that includes moving the group's own Deployment to the
new version), and, from the release's ledger, when the runner took the promote and when it recorded
the step done. Before each transition both sides wait until the previous split is in place, then a
random 0-1 s, so that the command does not arrive in step with the release runner's polling loop.

Prints Markdown tables for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.deploy_throughput import APP, DockyardServer, kubectl_manifests, load, spec, stop_on_sigterm
from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.release import parse_steps, split
from dockyard.domain.render import TRACK, GroupRef, canary, canary_name
from dockyard.domain.versions import parse_spec
from dockyard.sandbox import cluster
from dockyard.sandbox.binaries import ensure_binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology

SYSTEM = "rel"  # Dockyard's system, hence its namespace
BASELINE = "relkc"  # the kubectl side's namespace
GROUP = "g"
STEPS = ["gray 2", "pause", "25%", "pause", "50%", "pause", "75%", "pause", "100%"]
PAUSES = [i for i, s in enumerate(parse_steps(STEPS)) if s.kind == "pause"]
TIMEOUT = 300.0
JITTER = 1.0
VERSION = "dockyard.io/version"


@dataclass(frozen=True)
class Transition:
    """One timed step; seconds from the command."""

    side: str
    step: str  # the step the pause leads to, e.g. "25%"
    ready: float  # (a) the step's canary instances all Ready
    split: float  # (c) ... and the stable instances down to the step's count
    reported: float | None = None  # (b) Dockyard: the release says paused at the next pause (or succeeded)
    taken: float | None = None  # Dockyard: the runner took the promote (ledger)
    stepped: float | None = None  # Dockyard: the runner recorded the step done (ledger)


@dataclass(frozen=True)
class Pods:
    """The group's pods that are not being deleted: the canary's, and the stable ones (the others, not
    of the canary's version: after ``100%`` the group's own Deployment moves to the new version)."""

    canary: int
    canary_ready: int
    stable: int
    stable_ready: int


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


async def observe(kube: KubeCluster, namespace: str) -> Pods:
    pods = await kube.list("v1", "Pod", namespace=namespace, labels={"dockyard.io/group": GROUP})
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    canaries = [p for p in live if p["metadata"]["labels"].get(TRACK) == "canary"]
    new = {p["metadata"]["labels"].get(VERSION) for p in canaries}
    others = [p for p in live if p["metadata"]["labels"].get(TRACK) != "canary"]
    stables = [p for p in others if p["metadata"]["labels"].get(VERSION) not in new]
    return Pods(len(canaries), sum(map(_ready, canaries)), len(stables), sum(map(_ready, stables)))


async def watch_split(
    kube: KubeCluster, namespace: str, *, new: int, stable: int, start: float, poll: float
) -> tuple[float, float]:
    """Poll the pods from ``start``: (s until ``new`` canary pods Ready, s until also ``stable`` stable pods left)."""
    ready: float | None = None
    while True:
        pods = await observe(kube, namespace)
        now = time.monotonic() - start
        if ready is None and pods.canary_ready >= new:
            ready = now
        if ready is not None and pods.stable == stable:
            return ready, now
        if now > TIMEOUT:
            raise RuntimeError(f"{namespace}: {pods} after {TIMEOUT:.0f}s, wanted {new} canary / {stable} stable")
        await asyncio.sleep(poll)


async def settled(kube: KubeCluster, namespace: str, *, new: int, stable: int) -> None:
    """Wait until exactly ``new`` canary and ``stable`` stable pods exist, all Ready."""
    start = time.monotonic()
    while True:
        pods = await observe(kube, namespace)
        if pods == Pods(new, new, stable, stable):
            return
        if time.monotonic() - start > TIMEOUT:
            raise RuntimeError(f"{namespace}: {pods} after {TIMEOUT:.0f}s, wanted {new} canary / {stable} stable")
        await asyncio.sleep(0.5)


async def a_random_pause() -> None:
    """Up to ``JITTER`` s, so that commands do not arrive in step with the runner's polling loop."""
    await asyncio.sleep(random.uniform(0, JITTER))


def at_step(index: int, total: int) -> tuple[str, int, int]:
    """Step ``index``: (its text, new instances, stable instances once it is done)."""
    new, stable = split(parse_steps(STEPS), index, total)
    return STEPS[index], new, stable


# Dockyard


class Dockyard:
    """The Dockyard side: one group, a release per round, a promote per transition."""

    def __init__(self, server: DockyardServer, kube: KubeCluster, total: int, poll: float) -> None:
        self.server, self.kube, self.total, self.poll = server, kube, total, poll
        self.group = f"/systems/{SYSTEM}/apps/{APP}/groups/{GROUP}"
        self.rounds = 0

    async def setup(self, api: httpx.AsyncClient) -> None:
        """The group at version 1 with every instance Ready."""
        self.server.make_groups(SYSTEM, [GROUP])
        answer = await api.post(f"{self.group}/deploy", json={"spec": spec(self.total), "deadline_seconds": 600})
        if answer.status_code != 202:
            raise RuntimeError(f"deploy answered {answer.status_code}: {answer.text}")
        while (op := (await api.get(f"/operations/{answer.json()['id']}")).json())["status"] != "succeeded":
            if op["status"] == "failed":
                raise RuntimeError(f"deploy failed: {op['error']}")
            await asyncio.sleep(0.5)

    async def round(self, api: httpx.AsyncClient) -> list[Transition]:
        self.rounds += 1
        image = f"registry.local/bench/web:{self.rounds + 1}"
        answer = await api.post(f"{self.group}/releases", json={"changes": {"image": image}, "steps": STEPS})
        if answer.status_code != 202:
            raise RuntimeError(f"release answered {answer.status_code}: {answer.text}")
        url = f"{self.group}/releases/{answer.json()['id']}"
        await self._reported(api, url, PAUSES[0], time.monotonic())
        _, new, stable = at_step(PAUSES[0], self.total)
        await settled(self.kube, SYSTEM, new=new, stable=stable)
        out = []
        for pause in PAUSES:
            out.append(await self._promote(api, url, pause))
            _, new, stable = at_step(pause + 1, self.total)
            if new < self.total:
                await settled(self.kube, SYSTEM, new=new, stable=stable)
        await settled(self.kube, SYSTEM, new=0, stable=self.total)  # the canary is gone after 100%
        return out

    async def _promote(self, api: httpx.AsyncClient, url: str, pause: int) -> Transition:
        step, new, stable = at_step(pause + 1, self.total)
        next_pause = next((p for p in PAUSES if p > pause), None)
        await a_random_pause()
        wall, start = time.time(), time.monotonic()
        (await api.post(f"{url}/promote", json={})).raise_for_status()
        (ready, split_done), reported = await asyncio.gather(
            watch_split(self.kube, SYSTEM, new=new, stable=stable, start=start, poll=self.poll),
            self._reported(api, url, next_pause, start),
        )
        taken, stepped = _ledger_times((await api.get(url)).json()["ledger"], wall)
        return Transition("dockyard", step, ready, split_done, reported, taken, stepped)

    async def _reported(self, api: httpx.AsyncClient, url: str, pause: int | None, start: float) -> float:
        """Seconds from ``start`` until the release is paused at ``pause`` (None: until it has succeeded)."""
        while True:
            release = (await api.get(url)).json()
            if release["status"] in ("aborted", "failed"):
                raise RuntimeError(f"release {release['status']}: {release['error']}")
            if (pause is None and release["status"] == "succeeded") or (
                pause is not None and release["status"] == "paused" and release["step"] == pause
            ):
                return time.monotonic() - start
            if time.monotonic() - start > TIMEOUT:
                raise RuntimeError(f"release not {'succeeded' if pause is None else 'paused'}: {release}")
            await asyncio.sleep(self.poll)


def _ledger_times(ledger: list[dict[str, Any]], since: float) -> tuple[float, float]:
    """Seconds from ``since`` (epoch) to the runner's ``promote`` entry and to the ``step`` entry after it."""
    at = [(e["event"], dt.datetime.fromisoformat(e["at"]).timestamp() - since) for e in ledger if "at" in e]
    later = [(event, t) for event, t in at if t >= -0.01]
    taken = next(t for event, t in later if event == "promote")
    stepped = next(t for event, t in later if event == "step" and t >= taken)
    return taken, stepped


# kubectl


class Kubectl:
    """The kubectl side: the same two Deployments, scaled by ``kubectl scale``."""

    def __init__(self, kube: KubeCluster, kubectl: Path, kubeconfig: Path, total: int, poll: float) -> None:
        self.kube, self.total, self.poll = kube, total, poll
        self.argv = [str(kubectl), f"--kubeconfig={kubeconfig}", "-n", BASELINE]
        ref = GroupRef(BASELINE, APP, GROUP)
        self.stable_name, self.canary_name = ref.workload, canary_name(ref)

    async def setup(self, workdir: Path) -> None:
        """Apply what Dockyard renders for version 1, and the canary of version 2 at 0 instances."""
        manifests = kubectl_manifests(BASELINE, [GROUP], self.total)
        v2 = parse_spec({**spec(self.total), "image": "registry.local/bench/web:2"})
        manifests["items"].append(canary(GroupRef(BASELINE, APP, GROUP), 2, v2, 0))
        path = workdir / "baseline.json"
        path.write_text(json.dumps(manifests))
        subprocess.run([*self.argv, "apply", "-f", str(path)], check=True, capture_output=True)
        await settled(self.kube, BASELINE, new=0, stable=self.total)

    async def _scale(self, name: str, replicas: int) -> None:
        proc = await asyncio.create_subprocess_exec(
            *self.argv, "scale", f"deployment/{name}", f"--replicas={replicas}", stdout=subprocess.DEVNULL
        )
        if await proc.wait() != 0:
            raise RuntimeError(f"kubectl scale {name} failed")

    async def _to(self, new: int, stable: int) -> None:
        await self._scale(self.canary_name, new)
        await self._scale(self.stable_name, stable)

    async def round(self) -> list[Transition]:
        await self._to(0, self.total)
        await settled(self.kube, BASELINE, new=0, stable=self.total)
        _, new, stable = at_step(PAUSES[0], self.total)
        await self._to(new, stable)
        await settled(self.kube, BASELINE, new=new, stable=stable)
        out = []
        for pause in PAUSES:
            step, new, stable = at_step(pause + 1, self.total)
            await a_random_pause()
            start = time.monotonic()
            watcher = asyncio.create_task(
                watch_split(self.kube, BASELINE, new=new, stable=stable, start=start, poll=self.poll)
            )
            await self._to(new, stable)
            ready, split_done = await watcher
            out.append(Transition("kubectl", step, ready, split_done))
            await settled(self.kube, BASELINE, new=new, stable=stable)
        return out


# Report


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def _cell(samples: list[float]) -> str:
    if not samples:
        return "—"
    p50, p95 = p50_p95(samples)
    return f"{p50:.2f} / {p95:.2f}"


def _added(dockyard: list[float], kubectl: list[float]) -> tuple[float, float]:
    """What Dockyard adds to kubectl: the difference of the p50s and of the p95s."""
    (d50, d95), (k50, k95) = p50_p95(dockyard), p50_p95(kubectl)
    return d50 - k50, d95 - k95


def _machine() -> str:
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    gib = int(memory.split()[1]) / 1024**2
    return f"{os.cpu_count()} cores, {gib:.0f} GiB, {platform.platform()}, Python {platform.python_version()}"


def report(runs: list[Transition], args: argparse.Namespace, loads: tuple[str, str]) -> None:
    def pick(side: str, step: str | None, field: str) -> list[float]:
        values = [getattr(t, field) for t in runs if t.side == side and step in (None, t.step)]
        return [v for v in values if v is not None]

    print()
    print(f"{_machine()}; date {time.strftime('%Y-%m-%d')}; load {loads[0]} → {loads[1]}")
    print(f"{args.rounds} rounds × {len(PAUSES)} transitions per side, group of {args.instances}, poll {args.poll} s")
    print()
    print(
        "| transition | (a) all new Ready: Dockyard | kubectl | added by Dockyard "
        "| (c) split done: Dockyard | kubectl | (b) Dockyard reports it |"
    )
    print("|---|---|---|---|---|---|---|")
    for step in [*(STEPS[p + 1] for p in PAUSES), None]:
        dy, kc = pick("dockyard", step, "ready"), pick("kubectl", step, "ready")
        added = _added(dy, kc)
        print(
            f"| {f'pause → {step}' if step else '**all**'} | {_cell(dy)} | {_cell(kc)} "
            f"| {added[0]:+.2f} / {added[1]:+.2f} | {_cell(pick('dockyard', step, 'split'))} "
            f"| {_cell(pick('kubectl', step, 'split'))} | {_cell(pick('dockyard', step, 'reported'))} |"
        )
    print(
        f"(seconds from the command, p50 / p95; (b) is `paused` at the next pause, after {STEPS[-1]} "
        "`succeeded`, which includes moving the group's own Deployment to the new version)"
    )
    print()
    print("| Dockyard, from sending promote | p50 | p95 |")
    print("|---|---|---|")
    for field, what in (("taken", "runner took the promote (ledger)"), ("stepped", "runner recorded the step done")):
        p50, p95 = p50_p95(pick("dockyard", None, field))
        print(f"| {what} | {p50:.2f} s | {p95:.2f} s |")
    added = _added(pick("dockyard", None, "ready"), pick("kubectl", None, "ready"))
    print()
    print(
        f"(a) Dockyard adds {added[0]:+.2f} s at p50, {added[1]:+.2f} s at p95: goal (< 1 s added) "
        f"{'met' if added[0] < 1 else 'not met'} at p50, {'met' if added[1] < 1 else 'not met'} at p95"
    )


# Main


async def _rounds(server: DockyardServer, layout: Layout, kubectl: Path, args: argparse.Namespace) -> list[Transition]:
    runs: list[Transition] = []
    async with KubeCluster(layout.kubeconfig, timeout=60) as kube, server.async_client() as api:
        dockyard = Dockyard(server, kube, args.instances, args.poll)
        baseline = Kubectl(kube, kubectl, layout.kubeconfig, args.instances, args.poll)
        await dockyard.setup(api)
        await baseline.setup(layout.root)
        for index in range(args.rounds):
            sides = ["dockyard", "kubectl"] if index % 2 == 0 else ["kubectl", "dockyard"]
            for side in sides:
                done = await dockyard.round(api) if side == "dockyard" else await baseline.round()
                runs += done
                each = ", ".join(f"{t.step} {t.ready:.2f}/{t.split:.2f}" for t in done)
                print(f"round {index + 1} {side}: ready/split {each} (load {load()})", flush=True)
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=4)
    parser.add_argument("--instances", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--poll", type=float, default=0.1, help="seconds between the bench's pod/release reads")
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
        print(f"sandbox up: {args.nodes} nodes (load {before})", flush=True)
        server.start()
        server.register(layout.kubeconfig)
        runs = asyncio.run(_rounds(server, layout, kubectl, args))
        after = load()
    except BaseException:
        if server.log.exists():
            print("".join(server.log.read_text().splitlines(keepends=True)[-30:]), file=sys.stderr)
        raise
    finally:
        server.stop()
        cluster.down(layout)
        shutil.rmtree(root, ignore_errors=True)
    report(runs, args, (before, after))


if __name__ == "__main__":
    main()
