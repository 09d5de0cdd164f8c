"""Charts as the service orchestrates them, on a real SQLite database, with a recording stand-in for
the metrics store port (the real Prometheus is in tests/integration/test_metrics.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.errors import Hidden, InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import MetricsUnavailable
from dockyard.domain.metrics import Scope, Series, Target
from dockyard.services.metrics import chart
from dockyard.services.platform import Platform
from dockyard.services.recent import Recent
from tests.unit.platforms import shop_platform

ADMIN = Principal("admin", admin=True)
STRANGER = Principal("sam", roles={"other": "viewer"})


class Store:
    """Answers what it is told and records every PromQL it was sent."""

    def __init__(self, series: list[Series], *, down: bool = False) -> None:
        self.series, self.down = series, down
        self.sent: list[str] = []

    async def query(self, promql: str, *, at: float) -> list[Series]:
        return await self._answer(promql)

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        assert (end - start, step) == (3600.0, 30.0)
        return await self._answer(promql)

    async def targets(self) -> list[Target]:
        return [Target("kubelet", "kwok-cadvisor", up=True, error="", url=""), Target("dockyard", "d", True, "", "")]

    async def recorded(self) -> set[str]:
        return {"instance:container_cpu_usage_seconds:rate1m"}

    async def _answer(self, promql: str) -> list[Series]:
        self.sent.append(promql)
        if self.down:
            raise MetricsUnavailable("connection refused")
        return self.series if not promql.startswith("count(") else []


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with shop_platform(tmp_path) as started:
        yield started


async def test_a_chart_runs_the_built_query(platform: Platform) -> None:
    store = Store([Series({"pod": "a", "cluster": "local"}, [(1.0, 0.5)])])
    got = await chart(
        replace(platform, metrics=store),
        ADMIN,
        Scope("shop", "web", "prod"),
        level="instance",
        metric="cpu",
        range_="1h",
        step="30s",
        now=5000.0,
    )
    assert got.series[0].points == [(1.0, 0.5)]
    assert got.empty is None
    assert store.sent == [got.query]


async def test_an_empty_chart_asks_why(platform: Platform) -> None:
    store = Store([])
    got = await chart(
        replace(platform, metrics=store),
        ADMIN,
        Scope("shop", "web", "prod"),
        level="instance",
        metric="cpu",
        range_=None,
        step=None,
        now=5000.0,
    )
    assert got.empty is not None
    assert got.empty.code == "series_absent"
    assert len(store.sent) == 3  # the chart, then whether the source series and the join table exist


@pytest.mark.parametrize(
    ("by", "scope", "error"),
    [
        (STRANGER, Scope("shop", "web", "prod"), Hidden),  # another system's viewer: 404, nothing asked
        (ADMIN, Scope("shop", "web", "nope"), NotFound),
        (ADMIN, Scope("shop", "nope"), NotFound),
        (ADMIN, Scope("nope"), NotFound),
    ],
)
async def test_nothing_is_asked_of_the_store_for_what_cannot_be_seen(
    platform: Platform, by: Principal, scope: Scope, error: type[Exception]
) -> None:
    store = Store([])
    with pytest.raises(error):
        await chart(
            replace(platform, metrics=store), by, scope, level="idc", metric="cpu", range_=None, step=None, now=1.0
        )
    assert store.sent == []


async def test_bad_parameters_and_an_unreachable_store(platform: Platform) -> None:
    scope = Scope("shop", "web", "prod")
    with pytest.raises(InvalidInput):
        await chart(platform, ADMIN, scope, level="instance", metric="up", range_=None, step=None, now=1.0)
    with pytest.raises(Unavailable, match="cannot answer: connection refused"):
        await chart(
            replace(platform, metrics=Store([], down=True)),
            ADMIN,
            scope,
            level="instance",
            metric="cpu",
            range_=None,
            step=None,
            now=1.0,
        )
    with pytest.raises(Unavailable, match="DOCKYARD_PROMETHEUS_URL"):
        await chart(
            replace(platform, metrics=None),
            ADMIN,
            scope,
            level="instance",
            metric="cpu",
            range_=None,
            step=None,
            now=1.0,
        )


async def test_a_group_charted_a_moment_ago_is_not_read_again(platform: Platform) -> None:
    """A polled group chart reads the model's generation once per 2 s, not on every request."""
    reads: list[str] = []
    real = platform.db.generation

    async def counting(name: str) -> int:
        reads.append(name)
        return await real(name)

    store = Store([Series({"pod": "a"}, [(1.0, 0.5)])])
    polled = replace(platform, metrics=store)
    polled.db.generation = counting  # type: ignore[method-assign]
    try:
        for _ in range(3):
            await chart(
                polled,
                ADMIN,
                Scope("shop", "web", "prod"),
                level="instance",
                metric="cpu",
                range_="1h",
                step="30s",
                now=5000.0,
            )
        assert reads == ["model"]
        polled.charted_groups = Recent(ttl=0.0)  # the moment has passed
        await chart(
            polled,
            ADMIN,
            Scope("shop", "web", "prod"),
            level="instance",
            metric="cpu",
            range_="1h",
            step="30s",
            now=5000.0,
        )
        assert reads == ["model", "model"]
        # A group never found is not remembered: still 404.
        with pytest.raises(NotFound):
            await chart(
                polled,
                ADMIN,
                Scope("shop", "web", "nope"),
                level="instance",
                metric="cpu",
                range_=None,
                step=None,
                now=5000.0,
            )
    finally:
        del polled.db.generation
