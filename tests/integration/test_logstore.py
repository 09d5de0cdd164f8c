"""The log store adapter against a real VictoriaLogs (the sandbox's binary, alone: no cluster needed):
a search for text full of LogsQL syntax finds exactly the lines holding that text; a search never leaves
its group; the shipper (over a fake ``pods/log`` that cuts its streams) and a second shipper after it
store every line once, lines sharing a timestamp included."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from dockyard.adapters.logstore import LogStoreError, VictoriaLogs
from dockyard.domain.logs import NS, LogLine, Mark
from dockyard.domain.logsearch import STREAM_FIELDS, Search, logsql, record
from dockyard.domain.model import GroupPath
from dockyard.sandbox.binaries import ensure_victoria_logs
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.logstore import argv
from dockyard.services import logship
from dockyard.services.logship import Shipper
from tests.integration.harness.client import create_group
from tests.integration.harness.sandboxes import free_port
from tests.integration.harness.servers import in_process, settings
from tests.integration.harness.tokens import ADMIN, user_with_token
from tests.unit.services.test_follow_logs import FakeLogs, pod
from tests.unit.services.test_log_shipper import Live, platform, until

G = GroupPath("shop", "web", "prod")
OTHER = GroupPath("bank", "web", "prod")
NASTY = [
    '_stream:{system="bank"} or *',
    '"x" | stats count()',
    'back\\slash \\" and quote',
    "a*b",
    '~"(" regexp',
    "tab\there",
    "日本語 ünïcode",
    "or",
    "level:error",
    "} | delete",
]


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("victoria-logs")
    ports = dataclasses.replace(Ports(), logs=free_port())
    process = subprocess.Popen(argv(Layout(root), ports, ensure_victoria_logs()), stdout=subprocess.DEVNULL)
    try:
        yield f"http://127.0.0.1:{ports.logs}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[VictoriaLogs]:
    client = VictoriaLogs(store_url, stream_fields=STREAM_FIELDS)
    deadline = time.monotonic() + 30
    while not await client.ready():
        assert time.monotonic() < deadline, "VictoriaLogs did not start"
        await asyncio.sleep(0.1)
    yield client
    await client.aclose()


def _line(group: GroupPath, instance: str, at: int, text: str) -> dict[str, str]:
    return record(LogLine(at, "local", instance, "1", text), group, mark=Mark(at, 1))


async def test_query_syntax_in_a_search_is_only_text(store: VictoriaLogs) -> None:
    base = time.time_ns() - 60 * NS
    rows = [_line(G, "web-prod-1", base + i * 1000, f"line {i}: {text}") for i, text in enumerate(NASTY)]
    rows.append(_line(G, "web-prod-1", base + 10**6, "plain words only"))
    rows += [_line(OTHER, "web-prod-9", base + i, f"bank secret {text}") for i, text in enumerate(NASTY)]
    await store.insert(rows)
    await store.flush()
    for i, text in enumerate(NASTY):
        found = await store.query(logsql(Search(G, text=text)))
        texts = {r["_msg"] for r in found}
        assert f"line {i}: {text}" in texts, text
        assert all(text in t for t in texts), (text, texts)
        assert not any(t.startswith("bank") for t in texts), "a search left its group"
    everything = await store.query(logsql(Search(G)))
    assert len(everything) == len(NASTY) + 1
    window = Search(G, since=base + 10**6, until=base + 10**6 + 1)
    assert [r["_msg"] for r in await store.query(logsql(window))] == ["plain words only"]


async def test_a_refused_query_is_the_adapters_error(store: VictoriaLogs) -> None:
    with pytest.raises(LogStoreError, match="refused"):
        await store.query('_msg:*"unterminated')


async def test_shippers_cut_and_replaced_store_every_line_once(
    store: VictoriaLogs, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logship, "RETRY", 0.05)  # 30 cuts: reopened quickly
    logs = FakeLogs()
    group = GroupPath("ship", "web", "prod")
    names = [f"ship-{k}" for k in range(3)]
    live = Live(*(dataclasses.replace(pod(n), namespace="ship") for n in names))
    base = time.time_ns() - 30 * NS
    total = 300
    for name in names:
        for n in range(total // 2):
            await logs.write(name, base + (n // 3) * 1000, f"{name} seq={n}")  # three lines share each time
    logs.cuts = [5, 17, 3, 40, 1, 9, 22, 8, 13, 2] * 3
    first = Shipper(platform(logs, live), store)
    await first.look()
    await until(lambda: first.shipped.lines >= len(names) * total // 2, "the first half stored", timeout=30)
    await first.stop()
    for name in names:
        for n in range(total // 2, total):
            await logs.write(name, base + (n // 3) * 1000, f"{name} seq={n}")
    logs.cuts = [4, 6, 11] * 3
    second = Shipper(platform(logs, live), store)
    await second.look()
    await until(lambda: second.shipped.lines >= len(names) * total // 2, "the second half stored", timeout=30)
    await asyncio.sleep(0.5)
    await second.stop()
    await store.flush()
    for name in names:
        rows = await store.query(logsql(Search(group, instances=frozenset({name}), limit=10_000)))
        seqs = sorted(int(r["_msg"].split("seq=")[1]) for r in rows)
        assert seqs == list(range(total)), f"{name}: {len(seqs)} stored, {len(seqs) - len(set(seqs))} twice"
    assert second.shipped.lines == len(names) * total // 2  # the second read nothing the first had stored


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-real-token}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
"""


async def test_the_search_route_reads_the_store_for_the_groups_readers_only(
    store: VictoriaLogs, store_url: str, database_url: str, tmp_path: Path
) -> None:
    """The API over a real store, without a cluster (a registered one that cannot be reached)."""
    group = GroupPath(f"route-{uuid.uuid4().hex[:6]}", "web", "prod")
    base = time.time_ns() - 30 * NS
    await store.insert(
        [
            _line(group, "web-prod-gone", base, "ERROR payment failed order=42"),
            _line(group, "web-prod-gone", base + 1, f"echo {NASTY[0]}"),
            _line(group, "web-prod-2", base + 2, "INFO ok order=43"),
        ]
    )
    await store.flush()
    config = settings(database_url, tmp_path, logstore_url=store_url)
    async with in_process(config, headers=ADMIN) as made:
        put = await made.http.put("/api/v1/clusters/local", json={"name": "local", "kubeconfig": KUBECONFIG})
        assert put.status_code in (200, 201), put.text
        path = await create_group(made.http, group.system)
        got = (await made.http.get(f"{path}/logs/search", params={"q": "order="})).json()
        assert [(line["instance"], line["level"], line["text"]) for line in got["lines"]] == [
            ("web-prod-gone", "error", "ERROR payment failed order=42"),
            ("web-prod-2", "info", "INFO ok order=43"),
        ]
        assert got["more"] is False
        literal = (await made.http.get(f"{path}/logs/search", params={"q": NASTY[0]})).json()["lines"]
        assert [line["text"] for line in literal] == [f"echo {NASTY[0]}"]
        assert (await made.http.get(f"{path}/logs/search", params={"level": "error"})).json()["lines"][0][
            "instance"
        ] == "web-prod-gone"
        bad = await made.http.get(f"{path}/logs/search", params={"limit": 0})
        assert (bad.status_code, bad.json()["details"]["field"]) == (422, "limit")
        other = f"other-{uuid.uuid4().hex[:6]}"
        await create_group(made.http, other)
        name = f"viewer-{uuid.uuid4().hex[:6]}"
        viewer = await user_with_token(made.http, name)
        member = await made.http.put(f"/api/v1/systems/{other}/members/{name}", json={"role": "viewer"})
        assert member.status_code in (200, 201), member.text
        for q in ("", NASTY[0], f'x" or _stream:{{system="{group.system}"}}'):
            hidden = await made.http.get(f"{path}/logs/search", params={"q": q}, headers=viewer)
            assert hidden.status_code == 404, hidden.text
        mine = await made.http.get(f"/api/v1/systems/{other}/apps/web/groups/prod/logs/search", headers=viewer)
        assert (mine.status_code, mine.json()["lines"]) == (200, [])
