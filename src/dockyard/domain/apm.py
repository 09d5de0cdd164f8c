"""Application performance: requests/s, error ratio and latency quantiles of a group, per version or per
method, from one request-duration histogram; and the verdict of a release's analysis (pure).

**The histogram** (docs/apm.md): every instance exports :data:`HISTOGRAM`
(``dockyard_http_server_request_duration_seconds``, a Prometheus histogram in seconds) with the labels
``method`` (``GET``), ``route`` (the route's template, never the raw path) and ``code`` (``200``). Real
instances export it themselves and Prometheus scrapes them through Dockyard's service discovery; KWOK's
fake instances emulate it (``sandbox/monitoring.py``). Prometheus adds ``cluster``, ``namespace`` and
``pod``, by which the queries join ``dockyard_instance_info`` for the instance's version.

**Queries** (:func:`traffic_query`, :func:`bucket_query`) are built from checked values only: the
grouping from :data:`BY`, the window from :func:`dockyard.domain.metrics.duration`, and the group's
names escaped by :func:`dockyard.domain.metrics.selector`.

**Analysis** (:func:`judge`): a canary's sample against the stable version's, over one interval, for
the checks a release's ``analyze`` step names. The verdict is three-valued: ``fail`` (a check is over
its limit), ``inconclusive`` (too little or no data: never a reason to abort) or ``pass``.
**Quantiles** are computed here from the summed buckets by :func:`quantile`, Prometheus'
``histogram_quantile`` in Python: one query answers p50, p90 and p99 of every key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dockyard.domain.errors import InvalidInput
from dockyard.domain.live import PlacedInstance
from dockyard.domain.metrics import INFO_SERIES, Series, selector
from dockyard.domain.model import GroupPath

HISTOGRAM = "dockyard_http_server_request_duration_seconds"
HISTOGRAM_LABELS = ("method", "route", "code")
# The buckets Dockyard's sample service and KWOK's emulation use (Prometheus' client defaults).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUANTILES = (0.5, 0.9, 0.99)
JOIN = ("cluster", "namespace", "pod")
ERROR_CODES = "5.."  # a request that failed on the server's side; 4xx are the caller's
By = Literal["version", "method"]
BY: dict[str, tuple[str, ...]] = {"version": ("version",), "method": ("method", "route")}
DEFAULT_WINDOW = 300.0
MIN_WINDOW = 15.0  # three scrapes at the sandbox's 5 s
MAX_WINDOW = 86400.0
DEFAULT_TOP = 10
MAX_TOP = 100


def scrape_targets(instances: Iterable[PlacedInstance]) -> list[dict[str, Any]]:
    """Prometheus' HTTP service discovery (``http_sd``) of the instances to scrape for :data:`HISTOGRAM`:
    one target group per instance that runs a real container (the runtime gave it an id: KWOK's fake
    instances emulate the histogram through their node instead), is ``Running`` with a pod IP and
    declares a metrics port — ``{"targets": ["<pod IP>:<port>"], "labels": {cluster, namespace, pod}}``,
    in the order of those labels."""
    out = []
    for placed in instances:
        pod = placed.pod
        if pod.phase != "Running" or not pod.pod_ip or not pod.metrics_port or not pod.container_id:
            continue
        host = f"[{pod.pod_ip}]" if ":" in pod.pod_ip else pod.pod_ip
        labels = {"cluster": placed.cluster, "namespace": pod.namespace, "pod": pod.name}
        out.append({"targets": [f"{host}:{pod.metrics_port}"], "labels": labels})
    return sorted(out, key=lambda t: (t["labels"]["cluster"], t["labels"]["namespace"], t["labels"]["pod"]))


def check_by(by: str) -> By:
    """``version`` or ``method``; :class:`InvalidInput` (``by``) otherwise."""
    if by == "version":
        return "version"
    if by == "method":
        return "method"
    raise InvalidInput("by", f"unknown grouping {by!r}; known: {', '.join(BY)}")


def check_window(seconds: float) -> float:
    if not MIN_WINDOW <= seconds <= MAX_WINDOW:
        raise InvalidInput("since", f"since must be from {MIN_WINDOW:g}s to {MAX_WINDOW / 86400:g}d")
    return seconds


def _instances(path: GroupPath) -> str:
    """The group's instances with their version, one row each even if several Dockyards export them."""
    info = selector(INFO_SERIES, {"system": path.system, "app": path.app, "group": path.group})
    return f"group by ({', '.join(JOIN)}, version) ({info})"


def _joined(part: str, path: GroupPath, window: float, *, errors: bool = False) -> str:
    """``rate(<histogram>_<part>[window])`` of the group's instances, each series given its version."""
    matchers = {"namespace": path.system}
    source = selector(f"{HISTOGRAM}_{part}", matchers)
    if errors:
        source = source[:-1] + f',code=~"{ERROR_CODES}"}}'
    on = ", ".join(JOIN)
    return f"rate({source}[{int(window)}s]) * on ({on}) group_left (version) {_instances(path)}"


def traffic_query(path: GroupPath, by: By, window: float) -> str:
    """Requests per second by ``by`` and status ``code`` over the last ``window`` seconds."""
    keys = ", ".join(BY[by])
    return f"sum by ({keys}, code) ({_joined('count', path, window)})"


def bucket_query(path: GroupPath, by: By, window: float) -> str:
    """The histogram's buckets summed by ``by`` and ``le``: requests/s per bucket over the last ``window``
    seconds. Every quantile of every key comes from this one answer (:func:`rows`,
    :func:`quantile_series`) — three ``histogram_quantile`` calls would make Prometheus evaluate the same
    sum three times (docs/benchmarks.md, APM)."""
    keys = ", ".join(BY[by])
    return f"sum by ({keys}, le) ({_joined('bucket', path, window)})"


def usage_query(path: GroupPath, recorded: str) -> str:
    """The average per instance of a recorded instance series (``instance:…``) by version."""
    return f"avg by (version) ({selector(recorded, {'system': path.system, 'app': path.app, 'group': path.group})})"


CPU_SERIES = "instance:container_cpu_usage_seconds:rate1m"
RSS_SERIES = "instance:container_memory_rss:sum"


@dataclass(frozen=True)
class Row:
    """One line of an APM table: the key's labels (``version``, or ``method`` and ``route``), requests
    per second, the ratio of 5xx among them (None without requests), and latency quantiles in seconds
    (None where the histogram has no point)."""

    key: dict[str, str]
    rps: float
    errors: float
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None

    @property
    def error_ratio(self) -> float | None:
        return self.errors / self.rps if self.rps > 0 else None


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _key(series: Series, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(series.labels.get(n, "") for n in names)


def _bound(series: Series) -> float | None:
    try:
        return float(series.labels["le"])
    except (KeyError, ValueError):
        return None  # histogram_quantile ignores a sample without a bucket bound too


def _histograms(by: By, buckets: Iterable[Series]) -> dict[tuple[str, ...], dict[float, list[tuple[float, float]]]]:
    """The answer of :func:`bucket_query` as ``{key: {time: [(le, count), ...]}}``."""
    out: dict[tuple[str, ...], dict[float, list[tuple[float, float]]]] = {}
    for s in buckets:
        le = _bound(s)
        if le is None:
            continue
        per_time = out.setdefault(_key(s, BY[by]), {})
        for at, value in s.points:
            per_time.setdefault(at, []).append((le, value))
    return out


def rows(
    by: By, traffic: Iterable[Series], buckets: Iterable[Series], quantiles: Sequence[float] = QUANTILES
) -> list[Row]:
    """The table from the two answers (:func:`traffic_query`, :func:`bucket_query`), one row per key, in
    the order of the keys' text; each quantile of ``quantiles`` (of :data:`QUANTILES`) from the newest
    point of the key's buckets by :func:`quantile`, the others None."""
    names = BY[by]
    rps: dict[tuple[str, ...], list[float]] = {}
    for s in traffic:
        key = _key(s, names)
        value = s.points[-1][1] if s.points else 0.0
        value = value if math.isfinite(value) else 0.0
        bucket = rps.setdefault(key, [0.0, 0.0])
        bucket[0] += value
        if s.labels.get("code", "").startswith("5"):
            bucket[1] += value
    found: dict[tuple[str, ...], dict[float, float | None]] = {}
    for key, per_time in _histograms(by, buckets).items():
        newest = per_time[max(per_time)]
        found[key] = {q: _finite(quantile(q, newest)) for q in quantiles}
    out = []
    for key in sorted(set(rps) | set(found)):
        q = found.get(key, {})
        total, errors = rps.get(key, [0.0, 0.0])
        out.append(Row(dict(zip(names, key, strict=True)), total, errors, q.get(0.5), q.get(0.9), q.get(0.99)))
    return out


def quantile_series(by: By, buckets: Iterable[Series], q: float) -> list[Series]:
    """The ``q`` quantile over time of each key, from a range answer of :func:`bucket_query`: at each
    step, from the buckets present at that step (as ``histogram_quantile`` over a range); steps without
    a finite quantile left out. Labelled by the key, in the order of the keys' text."""
    out = []
    for key, per_time in sorted(_histograms(by, buckets).items()):
        points = [(at, quantile(q, per_time[at])) for at in sorted(per_time)]
        out.append(Series(dict(zip(BY[by], key, strict=True)), [(at, v) for at, v in points if math.isfinite(v)]))
    return out


def top(table: Sequence[Row], *, by: Literal["p99", "rps"], n: int) -> list[Row]:
    """The ``n`` rows with the highest p99 (rows without one last) or the most requests."""
    if by == "p99":
        return sorted(table, key=lambda r: (r.p99 is None, -(r.p99 or 0.0), sorted(r.key.items())))[:n]
    return sorted(table, key=lambda r: (-r.rps, sorted(r.key.items())))[:n]


def _cumulative(buckets: Sequence[tuple[float, float]]) -> list[tuple[float, float]] | None:
    """The buckets by bound, one bound's counts added up, made monotonic; None without ``+Inf`` or
    with fewer than two bounds."""
    merged: dict[float, float] = {}
    for le, count in buckets:
        merged[le] = merged.get(le, 0.0) + count
    ordered = sorted(merged.items())
    if len(ordered) < 2 or ordered[-1][0] != math.inf:
        return None
    highest = -math.inf
    for i, (le, count) in enumerate(ordered):
        highest = max(highest, count)
        ordered[i] = (le, highest)
    return ordered


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile(q, …)`` (promql/quantile.go ``bucketQuantile`` of the 2.x the
    sandbox runs) over cumulative ``(le, count)`` buckets in any order: buckets of one bound added up,
    counts made monotonic (a rate's float error), linear interpolation within the bucket that holds the
    rank, from 0 for the first bucket; the largest finite bound when the rank falls in ``+Inf``; NaN
    without a ``+Inf`` bucket, with fewer than two buckets, or without observations."""
    if math.isnan(q) or not 0 <= q <= 1:
        return math.nan if math.isnan(q) else math.copysign(math.inf, q)
    ordered = _cumulative(buckets)
    observations = ordered[-1][1] if ordered else 0.0
    if not ordered or observations == 0:
        return math.nan
    rank = q * observations
    b = next((i for i, (_, count) in enumerate(ordered[:-1]) if count >= rank), len(ordered) - 1)
    if b == len(ordered) - 1:
        return ordered[-2][0]
    if b == 0 and ordered[0][0] <= 0:
        return ordered[0][0]
    start, (end, count) = 0.0, ordered[b]
    if b > 0:
        start = ordered[b - 1][0]
        count -= ordered[b - 1][1]
        rank -= ordered[b - 1][1]
    return start + (end - start) * (rank / count) if count else math.nan


def bucketize(latencies: Iterable[float], bounds: Sequence[float] = BUCKETS) -> list[tuple[float, float]]:
    """Observed latencies as a cumulative histogram with ``bounds`` and ``+Inf``."""
    counts = [0] * (len(bounds) + 1)
    for x in latencies:
        for i, le in enumerate(bounds):
            if x <= le:
                counts[i] += 1
                break
        else:
            counts[-1] += 1
    out, running = [], 0
    for le, c in zip((*bounds, math.inf), counts, strict=True):
        running += c
        out.append((le, float(running)))
    return out


# --- Release analysis -------------------------------------------------------------------------------

Check = Literal["error_ratio", "p99", "restarts", "cpu", "rss"]
CHECKS: tuple[Check, ...] = ("error_ratio", "p99", "restarts", "cpu", "rss")
DEFAULT_CHECKS: tuple[Check, ...] = ("error_ratio", "p99")
REQUEST_CHECKS = ("error_ratio", "p99")
Outcome = Literal["pass", "fail", "inconclusive"]


def parse_checks(text: str, field_name: str) -> tuple[Check, ...]:
    """``p99,error_ratio`` as checks; :class:`InvalidInput` naming ``field_name`` for an unknown one."""
    out: list[Check] = []
    for name in (part.strip() for part in text.split(",")):
        match = next((c for c in CHECKS if c == name), None)
        if match is None:
            raise InvalidInput(field_name, f"unknown analysis check {name[:40]!r}: use {', '.join(CHECKS)}")
        if match not in out:
            out.append(match)
    return tuple(out)


@dataclass(frozen=True)
class Policy:
    """How a release's ``analyze`` steps judge: one interval every ``interval_seconds`` (its window),
    ``passes`` passing intervals to go on, ``failures`` failing ones in a row (inconclusive ones between
    them do not count) to abort, at least ``min_requests`` requests on each side for the
    request checks; the canary may have ``p99_ratio`` × the stable p99, ``error_increase`` more error
    ratio, ``restarts_increase`` more restarts of an instance, ``usage_ratio`` × the CPU or rss per
    instance."""

    interval_seconds: int = 30
    passes: int = 3
    failures: int = 2
    min_requests: int = 2000
    p99_ratio: float = 1.5
    error_increase: float = 0.01
    restarts_increase: int = 1
    usage_ratio: float = 1.5

    def to_data(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


_BOUNDS: dict[str, tuple[float, float]] = {
    "interval_seconds": (MIN_WINDOW, 3600),
    "passes": (1, 20),
    "failures": (1, 20),
    "min_requests": (1, 10**9),
    "p99_ratio": (1.0, 100.0),
    "error_increase": (0.0, 1.0),
    "restarts_increase": (0, 1000),
    "usage_ratio": (1.0, 100.0),
}


def parse_policy(raw: Mapping[str, Any] | None) -> Policy:
    """A :class:`Policy` from a release's ``analysis`` object (absent fields: the defaults);
    :class:`InvalidInput` naming ``analysis.<field>``."""
    if raw is None:
        return Policy()
    if not isinstance(raw, Mapping):
        raise InvalidInput("analysis", "analysis must be an object such as {'interval_seconds': 30, 'passes': 3}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _BOUNDS:
            raise InvalidInput(f"analysis.{key}", f"unknown analysis field; known: {', '.join(_BOUNDS)}")
        low, high = _BOUNDS[key]
        integer = isinstance(Policy.__dataclass_fields__[key].default, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or (integer and not isinstance(value, int)):
            raise InvalidInput(f"analysis.{key}", f"{key} must be {'an integer' if integer else 'a number'}")
        if not low <= value <= high:
            raise InvalidInput(f"analysis.{key}", f"{key} must be from {low:g} to {high:g}")
        values[key] = value
    return Policy(**values)


@dataclass(frozen=True)
class Sample:
    """One version's numbers over an interval: requests and 5xx among them, p99 (seconds), the most
    restarts of one of its instances, CPU (cores) and rss (bytes) per instance. None: no data."""

    requests: float | None = None
    errors: float | None = None
    p99: float | None = None
    restarts: int | None = None
    cpu: float | None = None
    rss: float | None = None

    @property
    def error_ratio(self) -> float | None:
        if self.requests is None or self.errors is None or self.requests <= 0:
            return None
        return self.errors / self.requests


@dataclass(frozen=True)
class Judgement:
    """An interval's verdict, why (empty on pass), and the numbers of each check
    (``{check: {canary, stable, limit, ok}}``) as the ledger records them."""

    verdict: Outcome
    reason: str = ""
    numbers: dict[str, dict[str, Any]] = field(default_factory=dict)


Progress = Literal["abort", "advance", "continue"]


def progress(verdicts: Sequence[str], policy: Policy) -> Progress:
    """Where an analysis step stands after ``verdicts`` (oldest first): ``policy.failures`` fails in a
    row (inconclusive ones skipped) abort; ``policy.passes`` passes go on; else another interval."""
    decided = [v for v in verdicts if v != "inconclusive"]
    if len(decided) >= policy.failures and all(v == "fail" for v in decided[-policy.failures :]):
        return "abort"
    if decided.count("pass") >= policy.passes:
        return "advance"
    return "continue"


def unreachable(why: str) -> Judgement:
    """The verdict when the metrics store cannot answer: inconclusive, never fail."""
    return Judgement("inconclusive", f"the metrics store cannot answer: {why}")


def _limit(check: Check, stable: float, policy: Policy) -> float:
    if check == "p99":
        return stable * policy.p99_ratio + 0.001  # a millisecond of slack for a p99 of ~0
    if check == "error_ratio":
        return stable + policy.error_increase
    if check == "restarts":
        return stable + policy.restarts_increase
    return stable * policy.usage_ratio


def _value(sample: Sample, check: Check) -> float | None:
    if check == "error_ratio":
        return sample.error_ratio
    value = getattr(sample, check)
    return None if value is None or not math.isfinite(float(value)) else float(value)


def judge(checks: Sequence[Check], policy: Policy, *, canary: Sample, stable: Sample) -> Judgement:
    """The canary against the stable version on ``checks`` over one interval.

    - the request checks (``error_ratio``, ``p99``) need ``min_requests`` on each side, else that check is
      inconclusive (the numbers say how many there were);
    - a check whose value is missing on either side is inconclusive;
    - a check over its limit fails: ``p99`` above ``p99_ratio`` × stable's, ``error_ratio`` more than
      ``error_increase`` above, ``restarts`` more than ``restarts_increase`` above, ``cpu`` / ``rss`` above
      ``usage_ratio`` × stable's per instance.

    Any failed check fails the interval; else any inconclusive one makes it inconclusive; else pass.
    """
    numbers: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    missing: list[str] = []
    for check in checks:
        if check in REQUEST_CHECKS:
            few = [
                f"{name} served {0 if s.requests is None else round(s.requests)}"
                for name, s in (("canary", canary), ("stable", stable))
                if s.requests is None or s.requests < policy.min_requests
            ]
            if few:
                numbers[check] = {
                    "canary_requests": canary.requests,
                    "stable_requests": stable.requests,
                    "min_requests": policy.min_requests,
                    "ok": None,
                }
                missing.append(f"{check}: {' and '.join(few)} requests (at least {policy.min_requests} each needed)")
                continue
        mine, theirs = _value(canary, check), _value(stable, check)
        if mine is None or theirs is None:
            numbers[check] = {"canary": mine, "stable": theirs, "ok": None}
            side = "canary" if mine is None else "stable"
            missing.append(f"{check}: no data for the {side}")
            continue
        limit = _limit(check, theirs, policy)
        ok = mine <= limit
        numbers[check] = {"canary": mine, "stable": theirs, "limit": limit, "ok": ok}
        if not ok:
            shown = (_show(check, mine), _show(check, limit), _show(check, theirs))
            failed.append(f"{check} {shown[0]} over the limit {shown[1]} (stable {shown[2]})")
    if failed:
        return Judgement("fail", "; ".join(failed), numbers)
    if missing:
        return Judgement("inconclusive", "; ".join(missing), numbers)
    return Judgement("pass", "", numbers)


def _show(check: Check, value: float) -> str:
    if check == "p99":
        return f"{value * 1000:.1f}ms"
    if check == "error_ratio":
        return f"{value * 100:.2f}%"
    if check == "rss":
        return f"{value / 2**20:.1f}Mi"
    if check == "cpu":
        return f"{value * 1000:.0f}m"
    return f"{value:g}"


def sample(
    row: Row | None, *, window: float, restarts: int | None, cpu: float | None = None, rss: float | None = None
) -> Sample:
    """A version's :class:`Sample` from its APM row over ``window`` seconds and the rest."""
    if row is None:
        return Sample(requests=0.0, errors=0.0, restarts=restarts, cpu=cpu, rss=rss)
    return Sample(
        requests=row.rps * window, errors=row.errors * window, p99=row.p99, restarts=restarts, cpu=cpu, rss=rss
    )
