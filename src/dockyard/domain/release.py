"""Gray releases: the steps a release goes through, and how many instances each version runs at each.

A gray release runs the new version as its own workload (the canary) beside the stable one, both
behind the group's Service. Steps are written as text: ``gray N`` (N instances of the new version),
``P%`` (that share of the group's instances, rounded up), ``weight P%`` (the edge load balancer sends
P% of the group's requests to the new version, whatever the instance counts), ``pause`` (wait for
``promote``) or ``pause 30s`` / ``pause 5m`` / ``pause 2h`` (continue by itself), or ``analyze`` /
``analyze p99,error_ratio`` (judge the canary against the stable version on those checks, interval by
interval, as the release's analysis policy says: :mod:`dockyard.domain.apm`). The last instance
step must be ``100%``; the group's count stays the total throughout (stable = total - new).

Rules of the steps: instance steps may not lower the new version's share of instances; weights may go
down (an operator lowering traffic is legitimate) and ``weight 0%`` holds requests on the stable
version while new instances warm up; a weight step needs new instances before it (an instance step
earlier) and may not come after the last ``100%`` (there the share is 100 already).

:func:`parse_steps` refuses bad input naming ``steps[i]``; :func:`split` says how many instances each
version runs at a step; :func:`edge_share` the new version's share of requests; :func:`takes_total`
whether a release can be scaled, :func:`group_instances` and :func:`rescale` the group's count during
a release across clusters and a new one split over them.
All are pure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dockyard.domain.apm import DEFAULT_CHECKS, Check, parse_checks
from dockyard.domain.errors import InvalidInput

STRATEGIES = ("gray", "rolling", "blue-green")
MAX_STEPS = 20
MAX_PAUSE = 7 * 24 * 3600
_UNITS = {"s": 1, "m": 60, "h": 3600}
_GRAY = re.compile(r"^gray\s+(\d{1,4})$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_PAUSE = re.compile(r"^pause(?:\s+(\d{1,6})([smh]))?$")
_WEIGHT = re.compile(r"^weight\s+(\d{1,3})%$")
_ANALYZE = re.compile(r"^analyze(?:\s+([a-z0-9_, ]{1,80}))?$")
_KINDS = "'gray N', 'P%', 'weight P%', 'pause', 'pause 5m' or 'analyze p99,error_ratio'"

Kind = Literal["instances", "percent", "weight", "pause", "analysis"]
# Steps that set instance counts (``weight`` and ``pause`` set none).
INSTANCE_KINDS = ("instances", "percent")
# Where a release ended (else it is progressing, paused, waiting or aborting).
ENDED = ("succeeded", "aborted", "failed")


@dataclass(frozen=True)
class Step:
    """One step: ``instances`` N, ``percent`` P, ``weight`` P (percent of requests), ``pause`` for
    ``value`` seconds (None: until promoted), or ``analysis`` of ``checks``. ``str`` gives the text
    :func:`parse_steps` reads back."""

    kind: Kind
    value: int | None
    checks: tuple[Check, ...] = ()

    def __str__(self) -> str:
        if self.kind == "analysis":
            return f"analyze {','.join(self.checks)}"
        if self.kind == "instances":
            return f"gray {self.value}"
        if self.kind == "percent":
            return f"{self.value}%"
        if self.kind == "weight":
            return f"weight {self.value}%"
        return "pause" if self.value is None else f"pause {self.value}s"

    @property
    def sets_instances(self) -> bool:
        return self.kind in INSTANCE_KINDS


def parse_steps(raw: object) -> tuple[Step, ...]:
    """The steps of ``raw`` (a list of step texts); :class:`InvalidInput` naming the first bad one."""
    if not isinstance(raw, list | tuple) or not raw:
        raise InvalidInput("steps", "steps must be a non-empty list such as ['gray 1', 'pause', '50%', '100%']")
    if len(raw) > MAX_STEPS:
        raise InvalidInput("steps", f"a release has at most {MAX_STEPS} steps")
    steps = tuple(_step(f"steps[{i}]", item) for i, item in enumerate(raw))
    last_share = 0.0  # the new version's share so far, as a fraction where it is known
    for i, step in enumerate(steps):
        if step.kind == "percent":
            assert step.value is not None
            if step.value / 100 < last_share:
                raise InvalidInput(f"steps[{i}]", "steps may not lower the new version's share")
            last_share = step.value / 100
    counted = [s for s in steps if s.sets_instances]
    if not counted or counted[-1] != Step("percent", 100):
        raise InvalidInput("steps", "the last step that sets instances must be '100%'")
    last = final_step(steps)
    _check_analyses(steps, last)
    for i, step in enumerate(steps):
        if step.kind != "weight":
            continue
        if not any(s.sets_instances for s in steps[:i]):
            raise InvalidInput(
                f"steps[{i}]", "a weight step needs new instances to send requests to: put 'gray N' or 'P%' first"
            )
        if i > last:
            raise InvalidInput(
                f"steps[{i}]", "a weight step after the last '100%' never runs (the share is 100% there)"
            )
    if steps[-1].kind == "pause":
        raise InvalidInput(f"steps[{len(steps) - 1}]", "a release cannot end with a pause")
    return steps


def _check_analyses(steps: tuple[Step, ...], last: int) -> None:
    """An analysis judges a canary against the stable version: it needs an instance step before it and
    comes before the last ``100%`` (so a release never ends with one)."""
    for i, step in enumerate(steps):
        if step.kind != "analysis":
            continue
        if not any(s.sets_instances for s in steps[:i]):
            raise InvalidInput(f"steps[{i}]", "an analysis needs a canary to judge: put 'gray N' or 'P%' first")
        if i > last:
            raise InvalidInput(f"steps[{i}]", "an analysis after the last '100%' has no stable version to compare")


def _step(field: str, item: object) -> Step:
    if not isinstance(item, str):
        raise InvalidInput(field, f"a step is text: {_KINDS}")
    text = " ".join(item.strip().lower().split())
    if match := _GRAY.fullmatch(text):
        count = int(match.group(1))
        if count < 1:
            raise InvalidInput(field, "'gray N' needs at least 1 instance")
        return Step("instances", count)
    if match := _PERCENT.fullmatch(text):
        percent = int(match.group(1))
        if not 1 <= percent <= 100:
            raise InvalidInput(field, "a share is from 1% to 100%")
        return Step("percent", percent)
    if match := _WEIGHT.fullmatch(text):
        weight = int(match.group(1))
        if not 0 <= weight <= 100:
            raise InvalidInput(field, "a weight is from 0% to 100% of the requests")
        return Step("weight", weight)
    if match := _PAUSE.fullmatch(text):
        if match.group(1) is None:
            return Step("pause", None)
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if not 1 <= seconds <= MAX_PAUSE:
            raise InvalidInput(field, "a pause lasts from 1s to 7 days")
        return Step("pause", seconds)
    if match := _ANALYZE.fullmatch(text):
        checks = parse_checks(match.group(1), field) if match.group(1) else DEFAULT_CHECKS
        return Step("analysis", None, checks)
    raise InvalidInput(field, f"unknown step {item[:40]!r}: use {_KINDS}")


def new_instances(step: Step, total: int) -> int:
    """How many instances of the new version ``step`` asks for in a group of ``total``."""
    if step.kind == "instances":
        assert step.value is not None
        return min(step.value, total)
    if step.kind == "percent":
        assert step.value is not None
        return min(total, math.ceil(total * step.value / 100))
    raise ValueError(f"a {step.kind} step sets no instances")


def split(steps: tuple[Step, ...], index: int, total: int) -> tuple[int, int]:
    """``(new, stable)`` instances once step ``index`` is done: a pause or a weight keeps the split of
    the last instance step before it (none before: all stable)."""
    for step in reversed(steps[: index + 1]):
        if step.sets_instances:
            new = new_instances(step, total)
            return new, total - new
    return 0, total


def final_step(steps: tuple[Step, ...]) -> int:
    """The index of the last instance step (``100%``), where ``promote --full`` goes."""
    return max(i for i, s in enumerate(steps) if s.sets_instances)


@dataclass(frozen=True)
class Release:
    """A release as recorded: its versions and steps, where it is, and its ledger (one entry per
    thing that happened: a step done, a check failed, a command taken)."""

    id: str
    system: str
    app: str
    group: str
    strategy: str
    stable_version: int | None
    new_version: int
    total: int
    steps: tuple[str, ...]
    step: int
    status: str
    paused: bool
    command: str
    pause_until: dt.datetime | None
    ledger: tuple[dict[str, Any], ...]
    error: str
    created_by: str
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    # A group on several clusters: ({cluster, instances}, ...) in release order, one after the other;
    # ``cluster_index`` is the one under way, and ``total`` and ``step`` are that cluster's.
    clusters: tuple[dict[str, Any], ...] = ()
    cluster_index: int = 0

    @property
    def parsed_steps(self) -> tuple[Step, ...]:
        return parse_steps(list(self.steps))

    @property
    def active(self) -> bool:
        return self.status not in ENDED


# Where the new version gets no requests at all: an abort under way or done, or a failed release.
NO_SHARE = ("aborting", "aborted", "failed")


def edge_share(
    release: Release | None, *, cluster: str | None = None, current_version: int | None = None
) -> int | None:
    """The percent of the group's requests the edge load balancer sends to ``release.new_version`` (the
    rest to the stable version) where the release is now; None: no weight to apply, route by instance
    counts.

    - None: no release; not a gray release (blue-green switches the Service, rolling is one rollout);
      no weight step reached yet;
    - 0: ``abort`` given (at once, before the runner takes it), under way or done, or the release
      failed; also a succeeded release whose group runs another version since (``current_version``,
      when given: a rollback or a later deploy);
    - 100: the release succeeded, or its last step (``100%``) is done and the hand-back is under way;
    - else the weight of the last weight step done, from the ledger (``promote --full`` skips the
      weights after it; the instance steps after a weight do not change it).

    A group on several clusters: the share in ``cluster`` (default: the one under way); the clusters
    released before it run the new version only (100), those after it have not begun (None). The share
    is a target, not a promise of backends: while one version has no ready instance the edge sends
    everything to the other.
    """
    if release is None or release.strategy != "gray":
        return None
    if release.status == "succeeded":
        return 0 if current_version not in (None, release.new_version) else 100
    here = _position(release, cluster)
    if here is None or here > release.cluster_index:
        return None
    return 100 if here < release.cluster_index else _share_here(release)


def _position(release: Release, cluster: str | None) -> int | None:
    """The index of ``cluster`` in the release's clusters (None: not one of them); the one under way
    when no cluster is named or the group is on one cluster."""
    if not release.clusters or cluster is None:
        return release.cluster_index
    names = [str(c["cluster"]) for c in release.clusters]
    return names.index(cluster) if cluster in names else None


def _share_here(release: Release) -> int | None:
    """:func:`edge_share` in the cluster under way, while the release has not succeeded."""
    if release.status in NO_SHARE or release.command == "abort":
        return 0
    entries = this_cluster(release.ledger)
    last = final_step(release.parsed_steps)
    if any(e.get("event") == "step" and e.get("index") == last for e in entries):
        return 100
    weights = [e for e in entries if e.get("event") == "weight"]
    return int(weights[-1]["weight"]) if weights else None


def this_cluster(ledger: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
    """The ledger's entries since the cluster under way began (all of them on one cluster)."""
    begun = max((i + 1 for i, e in enumerate(ledger) if e.get("event") == "cluster-done"), default=0)
    return ledger[begun:]


def takes_total(release: Release) -> bool:
    """Whether ``release`` can take a new instance count: a gray or blue-green one under way, not ending
    (aborting, or an abort given: the abort goes first)."""
    return (
        release.active and release.status != "aborting" and release.command != "abort" and release.strategy != "rolling"
    )


def group_instances(release: Release) -> int:
    """The group's instances as the release counts them (stable + new, every cluster): on several
    clusters the sum of their counts (the one under way's is ``total``), else ``total``."""
    if not release.clusters:
        return release.total
    return sum(
        release.total if i == release.cluster_index else int(c["instances"]) for i, c in enumerate(release.clusters)
    )


@dataclass(frozen=True)
class Rescaled:
    """A release across clusters at new counts: its ``clusters`` (same order), the ``total`` of the one
    under way, and each cluster's ``{"from", "to"}`` (those whose count changes) for the ledger."""

    clusters: tuple[dict[str, Any], ...]
    total: int
    changes: dict[str, dict[str, int]]


def rescale(release: Release, counts: Mapping[str, int]) -> Rescaled:
    """``release`` (across clusters) with ``counts[cluster]`` instances on each of its clusters, each
    keeping its place in the release (the one under way takes its count as ``total``; its split
    follows the current step). :class:`ValueError` when ``counts`` does not name exactly the release's
    clusters, or a count is negative."""
    names = [str(c["cluster"]) for c in release.clusters]
    if not names or set(counts) != set(names) or len(counts) != len(names):
        raise ValueError(f"the counts name {sorted(counts)}, the release's clusters are {names}")
    if any(n < 0 for n in counts.values()):
        raise ValueError("a count must not be negative")
    was = {str(c["cluster"]): int(c["instances"]) for c in release.clusters}
    was[names[release.cluster_index]] = release.total
    clusters = tuple({**c, "instances": counts[str(c["cluster"])]} for c in release.clusters)
    changes = {n: {"from": was[n], "to": counts[n]} for n in names if was[n] != counts[n]}
    return Rescaled(clusters, counts[names[release.cluster_index]], changes)
