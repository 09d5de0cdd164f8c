"""The APM table and the analysis samples as the service orchestrates them, on a real SQLite database,
with a stand-in for the metrics store (the real Prometheus is in tests/integration/test_apm.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from dockyard.domain.access import Principal
from dockyard.domain.errors import Hidden, InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import MetricsUnavailable
from dockyard.domain.metrics import Series, Target, Window
from dockyard.domain.model import GroupPath
from dockyard.services.apm import table, versions_sample
from dockyard.services.platform import Platform
from tests.unit.platforms import shop_platform

ADMIN = Principal("admin", admin=True)
STRANGER = Principal("sam", roles={"other": "viewer"})
PATH = GroupPath("shop", "web", "prod")


def _buckets(at: float) -> list[Series]:
    """Version 1's p99 is 0.16 s (97.5 of 100 requests by 0.1 s, rank 99 is 60 % into the next bucket), 2's 0.36 s."""
    one = {"0.1": 97.5, "0.2": 100.0, "+Inf": 100.0}
    two = {"0.1": 50.0, "0.3": 97.5, "0.4": 100.0, "+Inf": 100.0}
    return [
        Series({"version": v, "le": le}, [(at, n)]) for v, found in (("1", one), ("2", two)) for le, n in found.items()
    ]


class Store:
    """Answers by the kind of query; records every PromQL sent."""

    def __init__(self, *, down: bool = False) -> None:
        self.down = down
        self.sent: list[str] = []

    async def query(self, promql: str, *, at: float) -> list[Series]:
        self.sent.append(promql)
        if self.down:
            raise MetricsUnavailable("connection refused")
        if promql.startswith("sum by (version, le)"):
            return _buckets(at)
        if promql.startswith("sum by (version, code)"):
            return [
                Series({"version": "1", "code": "200"}, [(at, 40.0)]),
                Series({"version": "2", "code": "200"}, [(at, 9.0)]),
                Series({"version": "2", "code": "500"}, [(at, 1.0)]),
            ]
        if "container_cpu" in promql:
            return [Series({"version": "1"}, [(at, 0.1)]), Series({"version": "2"}, [(at, 0.1)])]
        return []

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        self.sent.append(promql)
        if promql.startswith("sum by (version, le)"):  # the buckets: requests at start, none at end
            return [Series(s.labels, [(start, s.points[0][1]), (end, 0.0)]) for s in _buckets(start)]
        return [Series({"version": "1"}, [(start, 40.0), (end, 40.0)])]

    async def targets(self) -> list[Target]:
        return []

    async def recorded(self) -> set[str]:
        return set()


@pytest.fixture
async def platform(tmp_path: Path) -> AsyncIterator[Platform]:
    async with shop_platform(tmp_path) as started:
        yield started


async def test_a_table_per_version_with_its_series(platform: Platform) -> None:
    store = Store()
    got = await table(
        replace(platform, metrics=store),
        ADMIN,
        PATH,
        by="version",
        window=300,
        top=1,
        span=Window(end=1000.0, range=3600.0, step=30.0),
        now=1000.0,
    )
    assert [(r.key, r.rps, r.error_ratio, r.p99) for r in got.rows] == [
        ({"version": "1"}, 40.0, 0.0, pytest.approx(0.16)),
        ({"version": "2"}, 10.0, 0.1, pytest.approx(0.36)),
    ]
    assert [r.key for r in got.top_p99] == [{"version": "2"}]
    assert [r.key for r in got.top_rps] == [{"version": "1"}]
    assert set(got.queries) == {"traffic", "buckets", "rps_series"}
    assert [s.labels for s in got.p99_series] == [{"version": "1"}, {"version": "2"}]
    assert got.p99_series[0].points == [(-2600.0, pytest.approx(0.16))]  # no requests at the end: no point
    assert len(store.sent) == 4
    assert "histogram_quantile" not in " ".join(store.sent)


async def test_others_get_404_bad_input_422_and_a_store_away_503(platform: Platform) -> None:
    store = Store()
    with pytest.raises(Hidden):
        await table(replace(platform, metrics=store), STRANGER, PATH, by="version", window=300, top=5, span=None, now=1)
    with pytest.raises(InvalidInput):
        await table(replace(platform, metrics=store), ADMIN, PATH, by="host", window=300, top=5, span=None, now=1)
    missing = GroupPath("shop", "web", "nope")
    with pytest.raises(NotFound):
        await table(replace(platform, metrics=store), ADMIN, missing, by="version", window=300, top=5, span=None, now=1)
    assert store.sent == []
    down = replace(platform, metrics=Store(down=True))
    with pytest.raises(Unavailable):
        await table(down, ADMIN, PATH, by="version", window=300, top=5, span=None, now=1)


async def test_the_analysis_sample_of_each_version(platform: Platform) -> None:
    canary, stable = await versions_sample(
        replace(platform, metrics=Store()), PATH, cluster="local", canary=2, stable=1, window=30.0, now=1.0
    )
    assert (canary.requests, canary.errors, canary.p99, canary.cpu, canary.rss) == (
        300.0,
        30.0,
        pytest.approx(0.36),
        0.1,
        None,
    )
    assert (stable.requests, stable.p99) == (1200.0, pytest.approx(0.16))
    with pytest.raises(MetricsUnavailable):
        await versions_sample(
            replace(platform, metrics=Store(down=True)), PATH, cluster="local", canary=2, stable=1, window=30, now=1
        )
