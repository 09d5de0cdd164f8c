"""Per-instance metrics and their roll-ups: the catalog, the recording rules, the queries.

The catalog (:data:`METRICS`) names what a chart may show; each entry comes from one cAdvisor series
that real kubelets and KWOK's fake nodes both emit (docs/metrics.md). :func:`rollup_rules` is the one
rule group Dockyard ships (``monitoring/rules/rollup.yml`` is its YAML): it joins each series with
``dockyard_instance_info`` on ``(cluster, namespace, pod)`` for the instance level, then sums each level
from the one below — group (``idc, system, app, group``) → application → system → IDC — in the same
evaluation, so the levels always add up.

:func:`query` builds the PromQL of a chart from checked values only: the metric comes from the
catalog, the level from :data:`LEVELS`, and every label value is escaped by :func:`label_value`, so
nothing a user sends becomes PromQL of its own.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any, Literal

from dockyard.domain.errors import InvalidInput

Level = Literal["instance", "group", "app", "system", "idc"]
LEVELS: tuple[Level, ...] = ("instance", "group", "app", "system", "idc")
# The labels each level's recorded series keep (instance: the join table's).
LEVEL_LABELS: dict[Level, tuple[str, ...]] = {
    "instance": ("cluster", "namespace", "pod", "idc", "system", "app", "group", "version"),
    "group": ("idc", "system", "app", "group"),
    "app": ("idc", "system", "app"),
    "system": ("idc", "system"),
    "idc": ("idc",),
}
INFO_SERIES = "dockyard_instance_info"
# The join table once per evaluation, one series per instance whichever Dockyard replica exported it:
# each instance rule joins this instead of grouping 30,000 info series itself (13 times per evaluation).
JOIN_TABLE = f"instance:{INFO_SERIES}:group"
JOIN_LABELS = ("cluster", "namespace", "pod")
RULE_GROUP = "dockyard.rollup"
RATE_WINDOW = "1m"
# cAdvisor's pod-level network series are on the sandbox container, one per interface; these are not
# the pod's own traffic (loopback, host-side veth ends, CNI and tunnel devices).
_SKIP_INTERFACES = "lo|veth.+|cali.+|tunl.+|flannel.+|cni.+|docker.+|kube.+|dummy.+"
_CONTAINERS = 'container!="",container!="POD"'


@dataclass(frozen=True)
class Metric:
    """One chartable metric: ``source`` is the cAdvisor series, ``counter`` ones are shown as a
    per-second rate; ``network`` ones are per pod (cAdvisor reports them on the sandbox container)."""

    key: str
    source: str
    unit: str
    counter: bool
    network: bool = False

    @property
    def base(self) -> str:
        """The recorded series' middle part: the source without ``_total``."""
        return self.source.removesuffix("_total")

    def recorded(self, level: Level) -> str:
        """The name of this metric's recorded series at ``level`` (``level:metric:operation``)."""
        return f"{level}:{self.base}:{f'rate{RATE_WINDOW}' if self.counter else 'sum'}"

    def selector(self) -> str:
        """The source series as the instance rule reads them."""
        base = 'job="kubelet",metrics_path="/metrics/cadvisor"'
        if self.network:
            return f'{self.source}{{{base},interface!~"{_SKIP_INTERFACES}"}}'
        return f"{self.source}{{{base},{_CONTAINERS}}}"


def _network(direction: str, what: str, unit: str) -> Metric:
    return Metric(
        f"network_{direction}_{what}",
        f"container_network_{direction}_{what}_total",
        unit,
        counter=True,
        network=True,
    )


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric("cpu", "container_cpu_usage_seconds_total", "cores", counter=True),
        Metric("memory_usage", "container_memory_usage_bytes", "bytes", counter=False),
        Metric("memory_rss", "container_memory_rss", "bytes", counter=False),
        Metric("memory_cache", "container_memory_cache", "bytes", counter=False),
        Metric("memory_working_set", "container_memory_working_set_bytes", "bytes", counter=False),
        *(
            _network(direction, what, unit)
            for direction in ("receive", "transmit")
            for what, unit in (
                ("bytes", "bytes/s"),
                ("packets", "packets/s"),
                ("packets_dropped", "packets/s"),
                ("errors", "errors/s"),
            )
        ),
    )
}


def rollup_rules() -> dict[str, Any]:
    """The rule group that rolls every metric up, as Prometheus' rule file holds it: the join table
    first (:data:`JOIN_TABLE`), then each metric from instance up to IDC."""
    extra = ", ".join(label for label in LEVEL_LABELS["instance"] if label not in JOIN_LABELS)
    on = ", ".join(JOIN_LABELS)
    info = JOIN_TABLE
    rules: list[dict[str, str]] = [
        {"record": JOIN_TABLE, "expr": f"group by ({', '.join(LEVEL_LABELS['instance'])}) ({INFO_SERIES})"}
    ]
    for metric in METRICS.values():
        source = f"rate({metric.selector()}[{RATE_WINDOW}])" if metric.counter else metric.selector()
        rules.append(
            {
                "record": metric.recorded("instance"),
                "expr": f"sum by ({on}) ({source}) * on ({on}) group_left ({extra}) {info}",
            }
        )
        for below, level in itertools.pairwise(LEVELS):
            rules.append(
                {
                    "record": metric.recorded(level),
                    "expr": f"sum by ({', '.join(LEVEL_LABELS[level])}) ({metric.recorded(below)})",
                }
            )
    return {"groups": [{"name": RULE_GROUP, "rules": rules}]}


def recorded_names() -> list[str]:
    """Every series the rule group records, in its order."""
    return [JOIN_TABLE, *(m.recorded(level) for m in METRICS.values() for level in LEVELS)]


# --- Queries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a chart is about: a system, an application of it, or a group of that; ``idc`` narrows it
    to one IDC."""

    system: str
    app: str | None = None
    group: str | None = None
    idc: str | None = None

    @property
    def level(self) -> Level:
        """The level of the scope itself."""
        return "group" if self.group else "app" if self.app else "system"

    def matchers(self) -> dict[str, str]:
        out = {"system": self.system}
        for key, value in (("app", self.app), ("group", self.group), ("idc", self.idc)):
            if value is not None:
                out[key] = value
        return out


# What each level's chart shows, one series per: (recorded level it reads, labels it keeps).
_BREAKDOWN: dict[Level, tuple[Level, tuple[str, ...]]] = {
    "instance": ("instance", ("cluster", "pod")),
    "group": ("group", ("system", "app", "group")),
    "app": ("app", ("system", "app")),
    "system": ("system", ("system",)),
    "idc": ("system", ("idc",)),
}
_ORDER = {level: i for i, level in enumerate(LEVELS)}


def check_metric(key: str) -> Metric:
    """The catalog's metric ``key``; :class:`InvalidInput` (``metric``) naming the known ones."""
    try:
        return METRICS[key]
    except KeyError:
        raise InvalidInput("metric", f"unknown metric {key!r}; known: {', '.join(METRICS)}") from None


def check_level(level: str, scope: Scope) -> Level:
    """``level`` if it is one of :data:`LEVELS` at or below the scope's own (``idc``: the scope by
    IDC); :class:`InvalidInput` (``level``) otherwise."""
    if level not in LEVELS:
        raise InvalidInput("level", f"unknown level {level!r}; known: {', '.join(LEVELS)}")
    checked: Level = level
    if checked != "idc" and _ORDER[checked] > _ORDER[scope.level]:
        raise InvalidInput(
            "level", f"level {checked!r} is above this {scope.level}: ask for {scope.level}, a level below, or idc"
        )
    return checked


def label_value(value: str) -> str:
    """``value`` as a PromQL string literal (double-quoted, backslash, quote and newlines escaped)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{escaped}"'


def selector(name: str, matchers: dict[str, str]) -> str:
    """``name{k="v",...}`` with every value escaped (keys are ours, checked)."""
    for key in matchers:
        if not re.fullmatch(r"[a-z_]+", key):
            raise ValueError(f"label name {key!r} is not one of Dockyard's")
    inside = ",".join(f"{k}={label_value(v)}" for k, v in sorted(matchers.items()))
    return f"{name}{{{inside}}}"


def query(metric: Metric, level: Level, scope: Scope) -> str:
    """The PromQL of a chart: ``metric`` within ``scope``, one series per ``level`` unit (per instance,
    group, application, the system, or per IDC of the scope)."""
    keep = _BREAKDOWN[level][1]
    return f"sum by ({', '.join(keep)}) ({selector(metric.recorded(read_level(level, scope)), scope.matchers())})"


# --- Charts -----------------------------------------------------------------------------------------

MAX_RANGE = 7 * 86400  # seconds
MIN_STEP = 5.0  # the sandbox's scrape and evaluation interval; finer steps repeat points
MAX_POINTS = 1000
_DURATION = re.compile(r"^([1-9][0-9]{0,6})([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Series:
    """One series of an answer: its labels and its ``(unix time, value)`` points."""

    labels: dict[str, str]
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Target:
    """A scrape target as Prometheus reports it."""

    job: str
    pool: str
    up: bool
    error: str
    url: str


@dataclass(frozen=True)
class Window:
    """A chart's time range (``range`` seconds up to ``end``, a point every ``step``); ``range`` 0 is
    an instant query at ``end``."""

    end: float
    range: float = 0.0
    step: float = 0.0

    @property
    def instant(self) -> bool:
        return self.range == 0


@dataclass(frozen=True)
class EmptyReason:
    """Why a chart has no series: ``code`` one of ``rule_not_loaded``, ``no_target``, ``target_down``,
    ``series_absent``, ``no_data``; ``message`` says what to do."""

    code: str
    message: str


def duration(text: str, field: str) -> float:
    """``30s``, ``15m``, ``1h``, ``7d`` in seconds; :class:`InvalidInput` naming ``field`` otherwise."""
    found = _DURATION.fullmatch(text)
    if found is None:
        raise InvalidInput(field, f"{field} must be a number and a unit s, m, h or d, like 15m or 1h (got {text!r})")
    return float(int(found.group(1)) * _SECONDS[found.group(2)])


def window(range_: str | None, step: str | None, *, now: float) -> Window:
    """The checked window of ``range`` and ``step`` ending ``now``: none is an instant query; a step
    left out gives about 120 points (at least :data:`MIN_STEP`)."""
    if range_ is None:
        if step is not None:
            raise InvalidInput("step", "step needs a range")
        return Window(end=now)
    seconds = duration(range_, "range")
    if seconds > MAX_RANGE:
        raise InvalidInput("range", f"range may be at most {MAX_RANGE // 86400}d")
    every = duration(step, "step") if step is not None else max(MIN_STEP, float(int(seconds / 120)))
    if every < MIN_STEP:
        raise InvalidInput("step", f"step must be at least {MIN_STEP:g}s")
    if seconds / every > MAX_POINTS:
        raise InvalidInput("step", f"range / step gives more than {MAX_POINTS} points: choose a longer step")
    return Window(end=now, range=seconds, step=every)


def source_query(metric: Metric, scope: Scope) -> str:
    """Whether the kubelets report ``metric`` for the scope's namespace (= its system) at all."""
    return f"count({selector(metric.source, {'namespace': scope.system})})"


def info_query(scope: Scope) -> str:
    """Whether Dockyard's join table has a row for the scope."""
    return f"count({selector(INFO_SERIES, {k: v for k, v in scope.matchers().items() if k != 'idc'})})"


def read_level(level: Level, scope: Scope) -> Level:
    """The recorded level a chart of ``level`` reads."""
    return scope.level if level == "idc" else _BREAKDOWN[level][0]


def why_empty(
    *,
    rule: str,
    recorded: set[str],
    targets: list[Target],
    source_present: bool,
    info_present: bool,
    scope: Scope,
    metric: Metric,
) -> EmptyReason:
    """Why a chart reading the recorded series ``rule`` came back empty, from what Prometheus says: its
    loaded rules, its targets (job ``kubelet`` and ``dockyard``) and whether the source series and the
    scope's ``dockyard_instance_info`` rows exist. The first missing link is the answer."""
    if rule not in recorded:
        return EmptyReason(
            "rule_not_loaded",
            f"Prometheus has no recording rule {rule}: load Dockyard's rule files (src/dockyard/monitoring/rules)",
        )
    for job, what in (("kubelet", "kubelet or KWOK node (/metrics/cadvisor)"), ("dockyard", "Dockyard /metrics")):
        mine = [t for t in targets if t.job == job]
        if not mine:
            return EmptyReason("no_target", f"Prometheus scrapes no {what}: no target of job {job!r}")
        if not any(t.up for t in mine):
            error = next((t.error for t in mine if t.error), "no error given")
            return EmptyReason("target_down", f"every {what} target of job {job!r} is down: {error}")
    where = f"system {scope.system!r}"
    if not info_present:
        return EmptyReason(
            "series_absent",
            f"dockyard_instance_info has no instance of this {scope.level}: no instance of it runs (or Dockyard's "
            "watch of its cluster is down)",
        )
    if not source_present:
        return EmptyReason(
            "series_absent",
            f"no {metric.source} series for namespace {scope.system!r} ({where}): its instances' nodes report none",
        )
    return EmptyReason(
        "no_data",
        f"the series exist but {rule} has no point here yet: rules run every evaluation interval, and rates need "
        f"two scrapes within {RATE_WINDOW}",
    )
