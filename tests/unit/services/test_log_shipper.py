"""The log shipper over fakes (``pods/log`` with cuts, a store that answers LogsQL marks): every line
stored once across cuts of its streams and a restart of the shipper (a new lease holder), lines sharing
a timestamp included; an instance gone keeps its stored lines; a store away delays, never duplicates."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, cast

import pytest

from dockyard.domain.failures import LogStoreUnavailable
from dockyard.domain.live import PodRecord
from dockyard.domain.logs import parse_time
from dockyard.services import logship
from dockyard.services.logship import Shipper
from dockyard.services.platform import LogShipConfig, Platform
from tests.unit.services.test_follow_logs import CLUSTER, T0, FakeLogs, pod


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logship, "RETRY", 0.01)
    monkeypatch.setattr(logship, "PATIENCE", 0.02)
    monkeypatch.setattr(logship, "GONE_GRACE", 0.05)


@dataclass
class FakeStore:
    """Stored records; answers the shipper's one query (an instance's newest line) like VictoriaLogs."""

    records: list[dict[str, str]] = field(default_factory=list)
    away: bool = False
    flushed: int = 0

    async def insert(self, records: Sequence[Mapping[str, str]]) -> None:
        if self.away:
            raise LogStoreUnavailable("away")
        self.records += [dict(r) for r in records]

    async def query(self, logsql: str, *, params: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        if self.away:
            raise LogStoreUnavailable("away")
        found = re.match(r'_stream:\{cluster="([^"]*)",instance="([^"]*)"\} \| sort by \(_time desc, n desc\)', logsql)
        assert found, logsql
        mine = [r for r in self.records if (r["cluster"], r["instance"]) == found.groups()]
        mine.sort(key=lambda r: (parse_time(r["_time"]), int(r["n"])))
        return [{"_time": mine[-1]["_time"], "n": mine[-1]["n"]}] if mine else []

    async def flush(self) -> None:
        self.flushed += 1

    def texts(self, instance: str) -> list[str]:
        return [r["_msg"] for r in self.records if r["instance"] == instance]


class Live:
    def __init__(self, *pods: PodRecord) -> None:
        self.pods = list(pods)

    def instances(self, cluster: str) -> list[PodRecord]:
        return list(self.pods)


class Db:
    def unit_of_work(self) -> Any:
        @asynccontextmanager
        async def uow() -> Any:
            async def all_clusters() -> list[Any]:
                return [CLUSTER]

            yield SimpleNamespace(clusters=SimpleNamespace(all=all_clusters))

        return uow()


def platform(logs: FakeLogs, live: Live) -> Platform:
    config = SimpleNamespace(logship=LogShipConfig(every=0.01, batch=7))
    return cast(Platform, SimpleNamespace(db=Db(), live=live, logs=logs, config=config))


async def until(check: Any, what: str, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - the fakes signal nothing: poll
            await asyncio.sleep(0.01)


async def test_every_line_once_across_cuts_and_a_new_holder() -> None:
    logs, store = FakeLogs(), FakeStore()
    live = Live(pod("a"), pod("b"))
    for name in ("a", "b"):
        for n in range(30):  # three lines share each time
            await logs.write(name, T0 + (n // 3) * 1000, f"{name} seq={n}")
    logs.cuts = [4, 5, 2, 7, 3, 1, 6]
    shipper = Shipper(platform(logs, live), store)
    await shipper.look()
    await until(lambda: len(store.records) == 60, "60 lines stored")
    await shipper.stop()
    # More lines while nobody ships; a new holder resumes from the store's marks.
    for n in range(30, 45):
        await logs.write("a", T0 + (n // 3) * 1000, f"a seq={n}")
    logs.cuts = [2, 2, 2]
    again = Shipper(platform(logs, live), store)
    await again.look()
    await until(lambda: len(store.texts("a")) >= 45, "the new lines stored")
    await asyncio.sleep(0.1)
    await again.stop()
    assert store.texts("a") == [f"a seq={n}" for n in range(45)]
    assert store.texts("b") == [f"b seq={n}" for n in range(30)]
    assert store.flushed == 2  # each holder makes the last one's writes searchable before reading marks
    first = store.records[0]
    assert {k: first[k] for k in ("system", "app", "group", "version", "cluster", "n")} == {
        "system": "shop",
        "app": "web",
        "group": "prod",
        "version": "1",
        "cluster": "local",
        "n": "1",
    }
    assert [r["n"] for r in store.records if r["instance"] == "a"][:6] == ["1", "2", "3", "1", "2", "3"]


async def test_a_store_away_delays_and_never_duplicates() -> None:
    logs, store = FakeLogs(), FakeStore(away=True)
    live = Live(pod("a"))
    for n in range(10):
        await logs.write("a", T0 + n, f"a seq={n}")
    shipper = Shipper(platform(logs, live), store)
    await shipper.look()
    await asyncio.sleep(0.1)
    assert store.records == []
    assert shipper.shipped.errors  # said why
    store.away = False
    await until(lambda: len(store.records) == 10, "stored once the store is back")
    await logs.write("a", T0 + 10, "a seq=10")
    await until(lambda: len(store.records) == 11, "the next line")
    await shipper.stop()
    assert store.texts("a") == [f"a seq={n}" for n in range(11)]


async def test_an_instance_gone_keeps_its_lines_and_its_reader_stops() -> None:
    logs, store = FakeLogs(), FakeStore()
    live = Live(pod("a"), pod("b"))
    await logs.write("a", T0, "a last words")
    await logs.write("b", T0, "b stays")
    shipper = Shipper(platform(logs, live), store)
    await shipper.look()
    await until(lambda: len(store.records) == 2, "both stored")
    live.pods = [pod("b")]
    await shipper.look()
    await asyncio.sleep(0.1)
    await shipper.look()
    assert shipper.shipped.readers == 1
    await shipper.stop()
    assert store.texts("a") == ["a last words"]
