"""Autoscaling: a version's policy, the PromQL of its signals, and the decision (pure).

``autoscale`` in a version spec (versioned, diffed and rolled back with the rest of it)::

    autoscale:
      min: 2
      max: 20
      signals:                       # one or more; the most demanding one decides
        - {signal: requests, baseline: 50}          # requests/s one instance carries
        - {signal: cpu, baseline: 0.5}              # cores one instance uses
        - {signal: memory, baseline: 536870912}     # bytes (working set) one instance holds
        - {signal: custom, series: queue_depth, baseline: 100}   # a series of the app's own
      target: 1.0                    # utilisation of the baseline aimed at (0 < target ≤ 1)
      tolerance: 0.1                 # no change while load is within ±10 % of count × baseline × target
      scale_up: {step: 0, window_seconds: 60}      # step 0: no limit per decision
      scale_down: {step: 0, window_seconds: 300}

:func:`parse_policy` refuses bad input naming ``autoscale.<field>``. :func:`load_query` is the PromQL
of a signal for one group, built from checked names and escaped label values only.

:func:`decide` is the recommender: for each signal, at each sample ``t`` of its window,
``wanted(t) = ceil(load(t) / (baseline × target))``, or the current count while load is within the
tolerance of it. It scales **up** to the smallest ``wanted`` over the scale-up window (the load must
have stayed high for the whole window), **down** to the largest over the scale-down window (it must have
stayed low), at most ``step`` instances per decision, within ``[min, max]``; a signal whose points do
not reach back to the start of a window asks for no change in that direction. The points of a rate
signal from before the rates settled on a change of the group's instances (:func:`settled_at`) are not
looked at: a group whose instances just started or were removed is held until the rates measure it.
The most demanding signal wins. A signal with no sample, or whose newest sample is older than
``stale_seconds``, **freezes** the count: no data never scales to zero or to max. A count outside
``[min, max]`` (the policy changed) is brought inside it even when frozen.

:func:`effective_instances` is how many instances a version runs: with a policy, the group's
recorded count clamped to the policy's bounds (the autoscaler's state, not a version per step);
without, the spec's ``instances``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from dockyard.domain.errors import InvalidInput
from dockyard.domain.location import distribute
from dockyard.domain.metrics import INFO_SERIES, JOIN_LABELS, METRICS, selector

MAX_INSTANCES = 500  # as domain/versions.MAX_INSTANCES (it imports this module)
MAX_WINDOW = 3600
MAX_SIGNALS = 4
ACTOR = "autoscaler"
SIGNAL_KINDS = ("requests", "cpu", "memory", "custom")
UNITS = {"requests": "requests/s", "cpu": "cores", "memory": "bytes", "custom": "units"}
_SERIES = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
RATE_SECONDS = 60.0  # the window of the rates a signal sums (domain/metrics.RATE_WINDOW, load_query's [1m])
_EPSILON = 1e-9  # 0.65 / 0.05 is 13.000000000000002 in floating point: not 14 instances

Action = Literal["up", "down", "hold", "freeze"]


@dataclass(frozen=True)
class Signal:
    """What one instance carries of ``signal`` (``baseline``, in :data:`UNITS`); ``series`` names the
    Prometheus series of a ``custom`` signal (per instance; a ``counter`` is read as a rate)."""

    signal: str
    baseline: float
    series: str = ""
    counter: bool = False

    @property
    def key(self) -> str:
        return f"custom:{self.series}" if self.signal == "custom" else self.signal

    @property
    def rate(self) -> bool:
        """Whether its load is a sum of per-instance rates over :data:`RATE_SECONDS` (see :func:`settled_at`)."""
        return self.signal in ("cpu", "requests") or self.counter


@dataclass(frozen=True)
class Step:
    """At most ``step`` instances per decision (0: no limit), on load held for ``window_seconds``."""

    step: int
    window_seconds: int


@dataclass(frozen=True)
class Policy:
    min: int
    max: int
    signals: tuple[Signal, ...]
    target: float = 1.0
    tolerance: float = 0.1
    scale_up: Step = Step(0, 60)
    scale_down: Step = Step(0, 300)

    @property
    def window_seconds(self) -> int:
        """How far back a decision looks."""
        return max(self.scale_up.window_seconds, self.scale_down.window_seconds)


def parse_policy(raw: Any) -> Policy | None:
    """A checked policy from user input or its stored form (:func:`dataclasses.asdict`); None for none."""
    if raw is None:
        return None
    where = "autoscale"
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "autoscale must be an object: min, max, signals, target…")
    known = {"min", "max", "signals", "target", "tolerance", "scale_up", "scale_down"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown field {unknown[0]!r}")
    low = _int(raw, "min", 1, MAX_INSTANCES, where, default=None)
    high = _int(raw, "max", 1, MAX_INSTANCES, where, default=None)
    if high < low:
        raise InvalidInput(f"{where}.max", f"max ({high}) must not be below min ({low})")
    signals = raw.get("signals")
    if not isinstance(signals, (list, tuple)) or not 1 <= len(signals) <= MAX_SIGNALS:
        raise InvalidInput(f"{where}.signals", f"signals must be a list of 1 to {MAX_SIGNALS} signals")
    parsed = tuple(_signal(item, f"{where}.signals[{i}]") for i, item in enumerate(signals))
    if len({s.key for s in parsed}) != len(parsed):
        raise InvalidInput(f"{where}.signals", "a signal is listed twice")
    return Policy(
        min=low,
        max=high,
        signals=parsed,
        target=_number(raw, "target", where, default=1.0, low=0.0, high=1.0, open_low=True),
        tolerance=_number(raw, "tolerance", where, default=0.1, low=0.0, high=0.5),
        scale_up=_step(raw.get("scale_up"), f"{where}.scale_up", Step(0, 60)),
        scale_down=_step(raw.get("scale_down"), f"{where}.scale_down", Step(0, 300)),
    )


def _int(raw: Mapping[str, Any], key: str, low: int, high: int, where: str, *, default: int | None) -> int:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{where}.{key}", f"{key} must be an integer from {low} to {high} (got {value!r})")
    return value


def _number(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    *,
    default: float | None,
    low: float,
    high: float,
    open_low: bool = False,
) -> float:
    value = raw.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (low < value if open_low else low <= value) or value > high:
        bound = f"above {low:g}" if open_low else f"from {low:g}"
        raise InvalidInput(f"{where}.{key}", f"{key} must be a number {bound} to {high:g} (got {value!r})")
    return float(value)


def _signal(raw: Any, where: str) -> Signal:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "a signal must be an object: signal, baseline (and series for custom)")
    unknown = sorted(set(raw) - {"signal", "baseline", "series", "counter"})
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown field {unknown[0]!r}")
    kind = raw.get("signal")
    if kind not in SIGNAL_KINDS:
        raise InvalidInput(f"{where}.signal", f"signal must be one of {', '.join(SIGNAL_KINDS)} (got {kind!r})")
    baseline = _number(raw, "baseline", where, default=None, low=0.0, high=1e15, open_low=True)
    series = raw.get("series", "")
    counter = raw.get("counter", False)
    if not isinstance(counter, bool):
        raise InvalidInput(f"{where}.counter", "counter must be true or false")
    if kind == "custom":
        if not isinstance(series, str) or not _SERIES.fullmatch(series):
            raise InvalidInput(f"{where}.series", "a custom signal names its Prometheus series (letters, digits, _ :)")
    elif series or counter:
        raise InvalidInput(f"{where}.series", "only a custom signal names a series")
    return Signal(signal=kind, baseline=float(baseline), series=series, counter=counter)


def _step(raw: Any, where: str, default: Step) -> Step:
    if raw is None:
        return default
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "must be an object: step, window_seconds")
    unknown = sorted(set(raw) - {"step", "window_seconds"})
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown field {unknown[0]!r}")
    return Step(
        step=_int(raw, "step", 0, MAX_INSTANCES, where, default=default.step),
        window_seconds=_int(raw, "window_seconds", 0, MAX_WINDOW, where, default=default.window_seconds),
    )


def effective_instances(spec_instances: int, policy: Policy | None, recorded: int | None) -> int:
    """How many instances a version runs: ``spec_instances`` without a policy; with one, the group's
    ``recorded`` count (None or 0: none yet, the spec's) clamped to ``[min, max]``."""
    if policy is None:
        return spec_instances
    start = recorded if recorded else spec_instances
    return clamp(start, policy)


def manual(policy: Policy, instances: int) -> dict[str, Any] | None:
    """The policy (stored form) of a version made by a manual scale to ``instances``: the count asked
    for becomes ``min`` (``max`` raised to it if needed), a floor the autoscaler may go above; a scale
    to 0 stops the group and turns the policy off (None)."""
    if instances == 0:
        return None
    return {**asdict(policy), "min": instances, "max": max(policy.max, instances)}


def clamp(count: int, policy: Policy) -> int:
    return max(policy.min, min(policy.max, count))


# --- Queries ----------------------------------------------------------------------------------------

_RECORDED = {"cpu": METRICS["cpu"], "memory": METRICS["memory_working_set"]}
REQUESTS_SERIES = "dockyard_requests_total"  # the default series of the requests signal (a counter)


@dataclass(frozen=True)
class GroupKey:
    system: str
    app: str
    group: str

    def matchers(self) -> dict[str, str]:
        return {"system": self.system, "app": self.app, "group": self.group}


def load_query(signal: Signal, group: GroupKey, *, requests_series: str = REQUESTS_SERIES) -> str:
    """The PromQL of ``signal``'s total over ``group``'s instances (every version, every cluster): CPU
    and memory from Dockyard's roll-up series; requests and custom series per instance, joined with
    ``dockyard_instance_info`` to the group. Names are checked, label values escaped."""
    if signal.signal in _RECORDED:
        return f"sum({selector(_RECORDED[signal.signal].recorded('group'), group.matchers())})"
    series, counter = (requests_series, True) if signal.signal == "requests" else (signal.series, signal.counter)
    if not _SERIES.fullmatch(series):
        raise ValueError(f"{series!r} is not a series name")
    on = ", ".join(JOIN_LABELS)
    value = f"rate({series}[1m])" if counter else series  # RATE_SECONDS
    info = f"group by ({on}) ({selector(INFO_SERIES, group.matchers())})"
    return f"sum(sum by ({on}) ({value}) * on ({on}) group_left () {info})"


# --- The decision -----------------------------------------------------------------------------------

Points = Sequence[tuple[float, float]]


@dataclass(frozen=True)
class SignalView:
    """One signal at the decision: its newest load, what one instance should carry (``per_instance``
    = baseline × target), the utilisation of the current count and what it asks for."""

    key: str
    unit: str
    load: float | None
    per_instance: float
    utilisation: float | None
    wanted: int | None
    problem: str = ""


@dataclass(frozen=True)
class Decision:
    current: int
    desired: int
    action: Action
    reason: str
    signals: tuple[SignalView, ...] = ()

    @property
    def changes(self) -> bool:
        return self.desired != self.current


def settled_at(changed: float, scrape_seconds: float) -> float:
    """From when a group's rate signals measure its load again, its instances having last changed at
    ``changed`` (one started, or was removed), with a point every ``scrape_seconds``: until one rate
    window after the first point of the newest instance, its rate counts the part of the window before
    it existed as no load (a group deployed 30 s ago reads half its load), and a removed instance's
    load of the window leaves the sum while the others' rates have not taken it up yet."""
    return changed + RATE_SECONDS + scrape_seconds


def wanted(load: float, per_instance: float, current: int, tolerance: float) -> int:
    """Instances for ``load`` at ``per_instance`` each; ``current`` while within ``tolerance`` of it."""
    if current > 0 and abs(load / (current * per_instance) - 1.0) <= tolerance + _EPSILON:
        return current
    return max(0, math.ceil(load / per_instance - _EPSILON))


def decide(
    policy: Policy,
    *,
    current: int,
    readings: Mapping[str, Points],
    now: float,
    stale_seconds: float,
    settled: float = -math.inf,
) -> Decision:
    """The count for ``policy`` given ``current`` and each signal's ``readings`` (by :attr:`Signal.key`:
    the group's total load over the window, oldest first); see the module docstring. ``settled``: from
    when the rate signals' points measure the group's load (:func:`settled_at`); earlier ones are not
    looked at."""
    views: list[SignalView] = []
    problems: list[str] = []
    ups: list[int] = []
    downs: list[int] = []
    for signal in policy.signals:
        per = signal.baseline * policy.target
        points = sorted(p for p in readings.get(signal.key, ()) if math.isfinite(p[1]) and p[0] <= now)
        unit = UNITS[signal.signal]
        if not points:
            problem = "no data"
        elif points[-1][0] < now - stale_seconds:
            problem = f"stale: newest point {now - points[-1][0]:.0f}s old"
        else:
            problem = ""
        if problem:
            problems.append(f"{signal.key}: {problem}")
            views.append(SignalView(signal.key, unit, points[-1][1] if points else None, per, None, None, problem))
            continue
        load = points[-1][1]
        views.append(
            SignalView(
                signal.key,
                unit,
                load,
                per,
                load / (current * per) if current else None,
                wanted(load, per, current, policy.tolerance),
            )
        )
        usable = [p for p in points if p[0] >= settled] if signal.rate else points
        ups.append(_over(usable, now - policy.scale_up.window_seconds, per, current, policy.tolerance, min))
        downs.append(_over(usable, now - policy.scale_down.window_seconds, per, current, policy.tolerance, max))
    inside = clamp(current, policy)
    if problems:
        why = "frozen: " + "; ".join(problems)
        if inside != current:
            return Decision(current, inside, "up" if inside > current else "down", f"{why}; {_bounds(policy)}")
        return Decision(current, current, "freeze", why, tuple(views))
    up, down = max(ups), max(downs)
    if up > current:
        step = policy.scale_up.step
        desired = clamp(min(up, current + step) if step else up, policy)
    elif down < current:
        step = policy.scale_down.step
        desired = clamp(max(down, current - step) if step else down, policy)
    else:
        desired = inside
    numbers = ", ".join(_describe(v) for v in views)
    if desired > current:
        return Decision(
            current, desired, "up", f"{numbers} → {desired} (was {current}, {_bounds(policy)})", tuple(views)
        )
    if desired < current:
        return Decision(
            current, desired, "down", f"{numbers} → {desired} (was {current}, {_bounds(policy)})", tuple(views)
        )
    return Decision(current, current, "hold", f"{numbers}: {_held(policy, current, settled, now)}", tuple(views))


def _over(points: Points, since: float, per: float, current: int, tolerance: float, pick: Any) -> int:
    """``pick`` (min or max) of what each point since ``since`` asks for; the newest point alone when
    the window holds none (a window of 0); ``current`` when the points do not reach back to ``since``
    (a load seen for a part of the window has not been held for it)."""
    if not points or points[0][0] > since:
        return current
    window = [v for t, v in points if t >= since] or [points[-1][1]]
    result: int = pick(wanted(v, per, current, tolerance) for v in window)
    return result


def _held(policy: Policy, current: int, settled: float, now: float) -> str:
    if settled > now - policy.window_seconds and any(s.rate for s in policy.signals):
        measured = max(0.0, now - settled)
        return f"{current} held: the rates have measured the instances there now for {measured:.0f}s of the window"
    return f"{current} is right"


def _bounds(policy: Policy) -> str:
    return f"bounds {policy.min}..{policy.max}"


def _describe(view: SignalView) -> str:
    return f"{view.key} {view.load:g} {view.unit} vs {view.per_instance:g} per instance (wants {view.wanted})"


def split_counts(total: int, room: Mapping[str, int]) -> dict[str, int]:
    """``total`` over clusters in proportion to each one's ``room`` for the group's flavor (largest
    remainder): the split a scale operation makes (services/split.py), for showing it beforehand."""
    return distribute(total, dict(room))
