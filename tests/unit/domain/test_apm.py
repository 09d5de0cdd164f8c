"""APM: the queries (escaped, from checked values), the table from Prometheus' answers, Prometheus'
histogram_quantile in Python, and the analysis verdict as a table of cases plus seeded simulations
(a canary equal to the stable version is never failed; one whose p99 is 2× is)."""

from __future__ import annotations

import math
import random

import pytest

from dockyard.domain import apm
from dockyard.domain.apm import Policy, Row, Sample, judge
from dockyard.domain.errors import InvalidInput
from dockyard.domain.live import PlacedInstance
from dockyard.domain.metrics import Series
from dockyard.domain.model import GroupPath
from tests.unit.records import pod_record

PATH = GroupPath("shop", "web", "prod")


def test_the_queries_join_the_instance_table_and_escape_the_names() -> None:
    evil = GroupPath('sh"op', "web", "pr\\od")
    q = apm.bucket_query(evil, "version", 60)
    assert 'namespace="sh\\"op"' in q
    assert 'group="pr\\\\od"' in q
    assert q.startswith("sum by (version, le) (rate(dockyard_http_server_request_duration_seconds_bucket{")
    assert "histogram_quantile" not in q  # the quantiles are computed from the buckets, once
    assert "[60s]" in q
    assert "group_left (version)" in q
    assert apm.traffic_query(PATH, "method", 300).startswith("sum by (method, route, code) (rate(")


@pytest.mark.parametrize(
    ("by", "window", "field"),
    [("host", 60, "by"), ("version", 5, "since"), ("method", 10 * 86400, "since")],
)
def test_bad_input_names_its_field(by: str, window: float, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        apm.check_window(apm.check_by(by) and window)
    assert e.value.field == field


def s(value: float, **labels: str) -> Series:
    return Series(labels, [(1.0, value)])


def buckets(points: dict[str, list[float]], times: list[float], **labels: str) -> list[Series]:
    """A range answer of the bucket query: one series per ``le`` with a value per time."""
    return [Series({**labels, "le": le}, list(zip(times, values, strict=True))) for le, values in points.items()]


def test_rows_add_codes_and_compute_quantiles_from_the_newest_buckets() -> None:
    traffic = [s(9.0, version="1", code="200"), s(1.0, version="1", code="503"), s(4.0, version="2", code="404")]
    # Version 1: an older point (all fast) and the newest: 50 of 100 under 0.1 s, 98 under 0.25 s.
    found = buckets({"0.1": [100.0, 50.0], "0.25": [100.0, 98.0], "+Inf": [100.0, 100.0]}, [1.0, 2.0], version="1")
    found += buckets({"0.1": [0.0], "+Inf": [0.0]}, [2.0], version="2")  # no requests: no quantile
    found += [Series({"version": "3"}, [(2.0, 5.0)])]  # a sample without ``le`` is ignored
    one, two = apm.rows("version", traffic, found)
    assert one == Row({"version": "1"}, 10.0, 1.0, 0.1, pytest.approx(0.225), 0.25)  # p99 in +Inf: 0.25
    assert one.error_ratio == pytest.approx(0.1)
    assert two.p99 is None
    assert two.error_ratio == 0.0
    assert apm.top([one, two], by="p99", n=1) == [one]
    assert apm.top([two, one], by="rps", n=2) == [one, two]
    only = apm.rows("version", [], found, quantiles=(0.99,))[0]
    assert (only.p50, only.p99) == (None, 0.25)


def test_quantile_series_is_histogram_quantile_at_each_step() -> None:
    found = buckets({"0.1": [50.0, 0.0, 10.0], "0.2": [100.0, 0.0, 10.0], "+Inf": [100.0, 0.0, 10.0]}, [1, 2, 3])
    found += buckets({"0.1": [1.0], "+Inf": [2.0]}, [3.0], method="GET", route="/a")
    (series,) = apm.quantile_series("version", found[:3], 0.5)
    assert series.labels == {"version": ""}
    assert series.points == [(1, 0.1), (3, 0.05)]  # step 2 has no requests: no point
    by_method = apm.quantile_series("method", found, 0.5)
    assert [x.labels for x in by_method] == [{"method": "", "route": ""}, {"method": "GET", "route": "/a"}]
    assert by_method[1].points == [(3.0, 0.1)]


@pytest.mark.parametrize(
    ("q", "buckets", "want"),
    [
        (0.5, [(0.1, 50.0), (0.2, 100.0), (math.inf, 100.0)], 0.1),
        (0.99, [(0.1, 98.0), (0.25, 100.0), (math.inf, 100.0)], 0.175),
        (0.5, [(0.1, 100.0), (math.inf, 100.0)], 0.05),  # the first bucket from 0
        (0.99, [(0.1, 10.0), (math.inf, 100.0)], 0.1),  # in +Inf: the largest finite bound
        (0.5, [(0.1, 0.0), (math.inf, 0.0)], math.nan),
        (0.5, [(0.1, 1.0)], math.nan),  # no +Inf bucket
        (0.5, [(math.inf, 4.0)], math.nan),  # fewer than two buckets
        (0.5, [(math.inf, 100.0), (0.2, 100.0), (0.1, 50.0)], 0.1),  # in any order
        (0.5, [(0.1, 25.0), (0.1, 25.0), (0.2, 100.0), (math.inf, 100.0)], 0.1),  # one bound twice: added
        (0.5, [(0.1, 60.0), (0.2, 59.999), (math.inf, 100.0)], pytest.approx(0.1 * 50 / 60)),  # made monotonic
        (0.75, [(0.1, 50.0), (0.2, 49.0), (0.3, 100.0), (math.inf, 100.0)], 0.25),  # 49 read as 50
        (0.5, [(-1.0, 10.0), (0.1, 20.0), (math.inf, 20.0)], -1.0),  # a first bound <= 0 is the answer
        (-0.1, [(0.1, 1.0), (math.inf, 1.0)], -math.inf),
        (1.5, [(0.1, 1.0), (math.inf, 1.0)], math.inf),
        (0.0, [(0.1, 0.0), (0.2, 5.0), (math.inf, 5.0)], math.nan),  # 0/0 in the first bucket, as Go
    ],
)
def test_quantile_is_prometheus_histogram_quantile(q: float, buckets: list[tuple[float, float]], want: float) -> None:
    got = apm.quantile(q, buckets)
    assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want)


def test_bucketize_is_cumulative() -> None:
    assert apm.bucketize([0.001, 0.07, 0.07, 20.0], (0.01, 0.1)) == [(0.01, 1.0), (0.1, 3.0), (math.inf, 4.0)]


# --- the verdict ------------------------------------------------------------------------------------

P = Policy(min_requests=100)
DEFAULT = Policy()
OK = Sample(requests=1000, errors=5, p99=0.2, restarts=0, cpu=0.1, rss=100e6)


@pytest.mark.parametrize(
    ("checks", "canary", "stable", "verdict", "says"),
    [
        (("p99", "error_ratio"), OK, OK, "pass", ""),
        (("p99",), Sample(requests=1000, errors=0, p99=0.4), OK, "fail", "p99 400.0ms over the limit 301.0ms"),
        (("p99",), Sample(requests=1000, errors=0, p99=0.29), OK, "pass", ""),
        (("error_ratio",), Sample(requests=1000, errors=20), OK, "fail", "error_ratio 2.00% over the limit 1.50%"),
        (("error_ratio",), Sample(requests=1000, errors=14), OK, "pass", ""),
        # too few requests on either side: inconclusive, never fail, even at a p99 far over
        (("p99",), Sample(requests=50, errors=0, p99=5.0), OK, "inconclusive", "canary served 50 requests"),
        (("p99",), OK, Sample(requests=0, errors=0), "inconclusive", "stable served 0 requests"),
        (("p99",), Sample(), OK, "inconclusive", "canary served 0"),
        (("p99",), Sample(requests=1000, errors=0, p99=None), OK, "inconclusive", "p99: no data for the canary"),
        (("restarts",), Sample(restarts=2), OK, "fail", "restarts 2 over the limit 1"),
        (("restarts",), Sample(restarts=1), OK, "pass", ""),
        (("cpu",), Sample(cpu=0.2), OK, "fail", "cpu 200m over the limit 150m"),
        (("rss",), Sample(rss=140e6), OK, "pass", ""),
        (("rss",), Sample(rss=None), OK, "inconclusive", "rss: no data for the canary"),
        # a fail wins over an inconclusive check
        (("p99", "restarts"), Sample(requests=5, restarts=9), OK, "fail", "restarts 9"),
    ],
)
def test_judge(checks: tuple[apm.Check, ...], canary: Sample, stable: Sample, verdict: str, says: str) -> None:
    got = judge(checks, P, canary=canary, stable=stable)
    assert got.verdict == verdict
    assert says in got.reason
    assert set(got.numbers) == set(checks)


def test_an_unreachable_store_is_inconclusive() -> None:
    assert apm.unreachable("connection refused").verdict == "inconclusive"


@pytest.mark.parametrize(
    ("raw", "field"),
    [({"passes": 0}, "analysis.passes"), ({"colour": 1}, "analysis.colour"), ({"passes": 1.5}, "analysis.passes")],
)
def test_bad_policies_name_the_field(raw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        apm.parse_policy(raw)
    assert e.value.field == field


def test_policy_round_trips() -> None:
    policy = apm.parse_policy({"interval_seconds": 20, "p99_ratio": 1.8})
    assert apm.parse_policy(policy.to_data()) == policy == Policy(interval_seconds=20, p99_ratio=1.8)


# --- seeded simulations of the decision over real histograms --------------------------------------


def latencies(rng: random.Random, n: int, *, slow: float, slow_fraction: float = 0.02) -> list[float]:
    """``n`` requests: most around 20 ms, ``slow_fraction`` of them around ``slow`` seconds."""
    return [
        rng.lognormvariate(math.log(slow), 0.3)
        if rng.random() < slow_fraction
        else rng.lognormvariate(math.log(0.02), 0.4)
        for _ in range(n)
    ]


def interval(
    rng: random.Random, *, canary_slow: float, requests: int = 3000, policy: Policy = DEFAULT
) -> apm.Judgement:
    """One interval as the histogram shows it: each side's p99 by Prometheus' interpolation."""
    mine = apm.bucketize(latencies(rng, requests, slow=canary_slow))
    theirs = apm.bucketize(latencies(rng, requests, slow=0.2))
    canary = Sample(requests=requests, errors=0, p99=apm.quantile(0.99, mine))
    stable = Sample(requests=requests, errors=0, p99=apm.quantile(0.99, theirs))
    return judge(("p99", "error_ratio"), policy, canary=canary, stable=stable)


def analysis(seed: int, *, canary_slow: float) -> tuple[apm.Progress, int]:
    """A release's analysis step with the default policy: where it ends and after how many intervals."""
    rng = random.Random(seed)
    verdicts: list[str] = []
    while (where := apm.progress(verdicts, Policy())) == "continue":
        verdicts.append(interval(rng, canary_slow=canary_slow).verdict)
    return where, len(verdicts)


def test_a_canary_equal_to_stable_is_promoted_with_no_false_abort_over_100_seeded_releases() -> None:
    ends = [analysis(seed, canary_slow=0.2) for seed in range(100)]
    assert [where for where, _ in ends].count("abort") == 0


def test_a_canary_with_twice_the_p99_is_aborted_within_3_intervals_in_100_seeded_releases() -> None:
    for seed in range(100):
        assert analysis(seed, canary_slow=0.4) in (("abort", 2), ("abort", 3)), seed


def test_at_600_requests_an_interval_p99_is_noise() -> None:
    """Why min_requests defaults to 2,000: a p99 of 600 requests rests on six slow ones, and a canary
    equal to the stable version fails one interval in ten or more."""
    few = Policy(min_requests=100)
    fails = [interval(random.Random(i), canary_slow=0.2, requests=600, policy=few).verdict for i in range(100)]
    assert fails.count("fail") >= 5


@pytest.mark.parametrize(
    ("verdicts", "where"),
    [
        ([], "continue"),
        (["fail"], "continue"),
        (["fail", "fail"], "abort"),
        (["fail", "inconclusive", "fail"], "abort"),
        (["fail", "pass", "fail"], "continue"),
        (["pass", "inconclusive", "pass", "pass"], "advance"),
        (["inconclusive"] * 9, "continue"),
    ],
)
def test_progress(verdicts: list[str], where: str) -> None:
    assert apm.progress(verdicts, Policy()) == where


def test_scrape_targets_are_the_running_real_instances_with_a_metrics_port() -> None:
    real = {"container_id": "containerd://4f2a", "metrics_port": 9090}
    instances = [
        PlacedInstance("local", "idc-a", pod_record(name="web-prod-b", pod_ip="10.64.0.7", **real)),
        PlacedInstance("local", "idc-a", pod_record(name="web-prod-a", pod_ip="10.64.0.6", **real)),
        PlacedInstance("east", "", pod_record(name="v6", pod_ip="fd00::5", **real)),
        PlacedInstance("local", "", pod_record(name="fake", metrics_port=9090)),  # KWOK's: no container
        PlacedInstance("local", "", pod_record(name="no-port", container_id="containerd://1")),
        PlacedInstance("local", "", pod_record(name="pending", phase="Pending", pod_ip="", **real)),
        PlacedInstance("local", "", pod_record(name="no-ip", pod_ip="", **real)),
        PlacedInstance("local", "", pod_record(name="done", phase="Succeeded", **real)),
    ]
    assert apm.scrape_targets(instances) == [
        {"targets": ["[fd00::5]:9090"], "labels": {"cluster": "east", "namespace": "shop", "pod": "v6"}},
        {"targets": ["10.64.0.6:9090"], "labels": {"cluster": "local", "namespace": "shop", "pod": "web-prod-a"}},
        {"targets": ["10.64.0.7:9090"], "labels": {"cluster": "local", "namespace": "shop", "pod": "web-prod-b"}},
    ]
    assert apm.scrape_targets([]) == []
