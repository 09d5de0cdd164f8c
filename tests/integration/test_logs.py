"""Live logs through the Kubernetes API, on KWOK instances (CRI files served by KWOK's ``Logs``) and on
a real container: a followed stream cut by a proxy every few seconds resumes with no line lost and none
repeated (sequence numbers in the lines), instances that start later are attached, instances that go
end, filters are plain text; and how long a written line takes to reach the stream."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.logs import format_time, parse_time
from dockyard.sandbox import kwoklogs
from tests.integration.harness.client import Api, create_group, register_cluster
from tests.integration.harness.logstreams import Received, cutting_proxy, follow, served
from tests.integration.harness.realnodes import RealNodes, http_get, real_spec
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import InProcess, in_process, settings
from tests.integration.harness.specs import TINY
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually

LITERAL = '{app="x"} | .* or _msg:~"(" \\'  # LogsQL and regex syntax: must match only as plain text


@pytest.fixture
async def server(
    sandbox: Sandbox, database_url: str, kube: KubeCluster, tmp_path: Path
) -> AsyncIterator[tuple[Api, InProcess]]:
    system = f"logs-{uuid.uuid4().hex[:8]}"
    async with in_process(settings(database_url, tmp_path), headers=ADMIN) as made:
        await register_cluster(made.http, sandbox, labels={"idc": "local"})
        await create_group(made.http, system, business_id="b-1")
        yield Api(made.http, made.platform, system), made
    await kube.delete("v1", "Namespace", system)


async def _pods(api: Api) -> list[str]:
    items = (await api.http.get(f"{api.group}/instances")).json()["items"]
    return sorted(i["name"] for i in items if i["phase"] == "Running")


class Writers:
    """One writer per KWOK instance: ``seq=<n> pod=<name>`` lines, three at a time with one timestamp
    (equal timestamps are the hard case for resuming)."""

    def __init__(self, kube: KubeCluster, root: Path, namespace: str) -> None:
        self.kube, self.root, self.namespace = kube, root, namespace
        self.written: dict[str, int] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.stop = asyncio.Event()

    async def start(self, pod: str, *, lines: int, every: float = 0.05) -> None:
        path = await kwoklogs.attach(self.kube, self.root, self.namespace, pod)
        self.tasks.append(asyncio.create_task(self._write(path, pod, lines, every)))

    async def _write(self, path: Path, pod: str, lines: int, every: float) -> None:
        n = 0
        while n < lines and not self.stop.is_set():
            batch = [f"seq={n + i} pod={pod}" for i in range(min(3, lines - n))]
            kwoklogs.append(path, batch, at=time.time_ns())
            n += len(batch)
            self.written[pod] = n
            await asyncio.sleep(every)

    async def done(self) -> None:
        await asyncio.gather(*self.tasks)


def _seqs(received: Received, pod: str) -> list[int]:
    return [int(line["text"].split()[0].removeprefix("seq=")) for line in received.lines() if line["instance"] == pod]


def _latencies(received: Received) -> list[float]:
    return [at - parse_time(data["time"]) / 1e9 for kind, data, at in received.events if kind == "line"]


async def test_a_followed_group_survives_cuts_attaches_new_instances_and_ends_gone_ones(
    server: tuple[Api, InProcess], kube: KubeCluster, sandbox: Sandbox
) -> None:
    api, made = server
    await api.act("deploy", {"spec": {**TINY, "instances": 2}})
    first = await eventually(lambda: _two(api), "two running instances")
    writers = Writers(kube, sandbox.layout.root, api.system)
    started = format_time(time.time_ns() - 5_000_000_000)
    for pod in first:
        await writers.start(pod, lines=300)
    received, stop = Received(), asyncio.Event()
    async with served(made.app) as base, cutting_proxy(base, seconds=1.0) as (proxied, cuts):
        reader = asyncio.create_task(
            follow(proxied, f"{api.group}/logs", headers=ADMIN, params={"since": started}, received=received, stop=stop)
        )
        await writers.done()

        async def all_read() -> bool | Not:
            got = {pod: len(_seqs(received, pod)) for pod in first}
            return True if all(got[p] >= writers.written[p] for p in first) else Not(got)

        await eventually(all_read, "every line written to be read", timeout=60)
        assert cuts[0] >= 2, "the proxy cut the stream at least twice"

        # A release's new instance: attached when the caches see it, read from its first line.
        await api.act("scale", {"instances": 3})
        third = next(iter(set(await _pods(api)) - set(first)))
        await writers.start(third, lines=30)
        await writers.done()

        async def third_read() -> bool | Not:
            return True if len(_seqs(received, third)) >= 30 else Not(len(_seqs(received, third)))

        await eventually(third_read, "the new instance's lines", timeout=60)

        # Instances that go: an `end` for each.
        await api.act("scale", {"instances": 1})
        remaining = await _pods(api)

        async def ended() -> set[str] | Not:
            names = {e["instance"] for e in received.kinds("end")}
            gone = set([*first, third]) - set(remaining)
            return names if gone and gone <= names else Not(names)

        ends = await eventually(ended, "an end event for each instance gone", timeout=60)
        stop.set()
        reader.cancel()

    for pod in [*first, third]:
        seqs = _seqs(received, pod)
        wanted = list(range(writers.written[pod]))
        lost, repeated = sorted(set(wanted) - set(seqs))[:10], len(seqs) - len(set(seqs))
        assert seqs == wanted, f"{pod}: {len(seqs)} lines, lost {lost}, repeated {repeated}"
    assert third in {e["instance"] for e in received.kinds("attach")}
    assert remaining[0] not in ends
    # scale makes version 2: the third instance's lines say so
    assert {(line["cluster"], line["version"]) for line in received.lines()} == {("local", "1"), ("local", "2")}
    times = [parse_time(line["time"]) for line in received.lines() if line["instance"] in first]
    out_of_order = sum(1 for a, b in itertools.pairwise(times) if b < a)
    latencies = _latencies(received)
    print(
        f"\nfollow (KWOK): {len(received.lines())} lines over {received.connections} connections "
        f"({cuts[0]} cuts), 0 lost, 0 repeated; out of time order: {out_of_order}; "
        f"latency p50 {statistics.median(latencies):.3f}s p95 {statistics.quantiles(latencies, n=20)[18]:.3f}s"
    )


async def _two(api: Api) -> list[str] | Not:
    pods = await _pods(api)
    return pods if len(pods) == 2 else Not(pods)


async def test_the_last_lines_filters_and_another_tenant(
    server: tuple[Api, InProcess], kube: KubeCluster, sandbox: Sandbox
) -> None:
    api, _ = server
    await api.act("deploy", {"spec": {**TINY, "instances": 2}})
    pods = await eventually(lambda: _two(api), "two running instances")
    base = time.time_ns()
    for i, pod in enumerate(pods):
        path = await kwoklogs.attach(kube, sandbox.layout.root, api.system, pod)
        kwoklogs.append(path, [f"{pod} line {n}" for n in range(5)], at=base + i)
        kwoklogs.append(path, [f"{pod} says {LITERAL}", f"{pod} says app=x"], at=base + 10 + i)

    async def all_there() -> dict[str, Any] | Not:
        got: dict[str, Any] = (await api.http.get(f"{api.group}/logs", params={"tail": 100})).json()
        return got if len(got["lines"]) == 14 else Not(got)

    got = await eventually(all_there, "the lines of both instances", timeout=30)
    # Merged in time order: both instances' first five lines share their times, the first instance's sort first.
    assert [line["instance"] for line in got["lines"][:10]] == [pods[0]] * 5 + [pods[1]] * 5
    assert (await api.http.get(f"{api.group}/logs", params={"tail": 3})).json()["lines"][0][
        "text"
    ] == f"{pods[0]} says app=x"

    literal = (await api.http.get(f"{api.group}/logs", params={"text": LITERAL})).json()["lines"]
    assert [line["text"] for line in literal] == [f"{p} says {LITERAL}" for p in pods]

    one = (await api.http.get(f"{api.group}/logs", params={"instance": pods[1], "tail": 2})).json()["lines"]
    assert [line["instance"] for line in one] == [pods[1], pods[1]]
    assert (await api.http.get(f"{api.group}/instances/nobody/logs")).status_code == 404

    # Resuming from the cursor gives what was written after, once.
    path = kwoklogs.log_file(sandbox.layout.root, api.system, pods[0])
    kwoklogs.append(path, ["after the cursor"], at=base + 20)
    again = (await api.http.get(f"{api.group}/logs", params={"after": got["cursor"]})).json()
    assert [line["text"] for line in again["lines"]] == ["after the cursor"]
    assert (await api.http.get(f"{api.group}/logs", params={"after": again["cursor"]})).json()["lines"] == []

    for params, field in (
        ({"since": "yesterday"}, "since"),
        ({"after": "not a cursor"}, "after"),
        ({"tail": -1}, "tail"),
    ):
        bad = await api.http.get(f"{api.group}/logs", params=params)
        assert (bad.status_code, bad.json()["details"]["field"]) == (422, field), bad.text


async def test_a_real_container_s_lines_reach_a_followed_stream_within_1_5_s(
    server: tuple[Api, InProcess], real_nodes: RealNodes
) -> None:
    """busybox ``httpd -v`` logs one ``<ip>:<port>: response:<code>`` line per request (the URL only
    with ``-vv``: the earlier attempt filtered on the URL and could never see a line). Each request's
    line is matched to it by order; its latency is from the request to the line's arrival in the
    group's followed stream (``?instance=``), through a proxy cutting the stream every second."""
    api, made = server
    await api.act("deploy", {"spec": real_spec(real_nodes, "logs v1", instances=1), "deadline_seconds": 120})
    item = (await api.http.get(f"{api.group}/instances")).json()["items"][0]
    received, stop = Received(), asyncio.Event()
    sent: list[float] = []
    count = 40
    async with served(made.app) as base, cutting_proxy(base, seconds=1.0) as (proxied, cuts):
        params = {"instance": item["name"], "text": "response:404", "tail": 0}
        reader = asyncio.create_task(
            follow(proxied, f"{api.group}/logs", headers=ADMIN, params=params, received=received, stop=stop)
        )
        await eventually(lambda: _attached(received), "the stream attached to the instance", timeout=30)
        await asyncio.sleep(1.5)
        for n in range(count):
            sent.append(time.time())
            status, _ = await asyncio.to_thread(http_get, item["pod_ip"], 8080, f"/seq-{n}")
            assert status == 404
            await asyncio.sleep(0.25)

        async def all_read() -> int | Not:
            got = len(received.lines())
            return got if got >= count else Not(got)

        await eventually(all_read, "every request's line", timeout=60)
        stop.set()
        reader.cancel()
    lines = [(data, at) for kind, data, at in received.events if kind == "line"]
    assert len(lines) == count, "no line lost nor repeated across the cuts"
    assert cuts[0] >= 2
    latencies = sorted(at - sent[n] for n, (_, at) in enumerate(lines))
    written = sorted(at - parse_time(data["time"]) / 1e9 for data, at in lines)
    p95 = statistics.quantiles(latencies, n=20)[18]
    print(
        f"\nfollow (real container): {count} lines, {cuts[0]} cuts, 0 lost, 0 repeated; request→stream "
        f"p50 {statistics.median(latencies):.3f}s p95 {p95:.3f}s; runtime's timestamp→stream "
        f"p50 {statistics.median(written):.3f}s p95 {statistics.quantiles(written, n=20)[18]:.3f}s"
    )
    assert p95 < 1.5


async def _attached(received: Received) -> bool | Not:
    return True if received.kinds("attach") else Not(received.connections)
