"""Alert rules as data: the built-in rules, their default thresholds, and which threshold holds for a
group once a system owner has overridden some per application or per group.

One Prometheus rule per built-in rule serves every group: the shipped rule file
(``dockyard/monitoring/rules/alerts.yml``) compares a group's series with ``dockyard_alert_threshold{system,app,
group,rule}``, which Dockyard exports with the *resolved* threshold of every group (see
:func:`resolve`). So an override is a row in the database and a changed gauge, never an edited rule
file; a rule disabled for a group exports no threshold there, and a comparison with a missing series
matches nothing, so it cannot fire.

Resolution, field by field (threshold, enabled): a group's override beats its application's, which
beats the rule's default. A field an override leaves unset (None) is inherited from the next level.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from dockyard.domain.errors import InvalidInput

Source = Literal["default", "app", "group"]


@dataclass(frozen=True)
class BuiltinRule:
    """A rule Dockyard ships: ``key`` in the API and the series' ``rule`` label, ``alert`` its
    Prometheus alert name; ``threshold`` the default, between ``minimum`` and ``maximum``."""

    key: str
    alert: str
    summary: str
    unit: str
    threshold: float
    minimum: float
    maximum: float


RULES: dict[str, BuiltinRule] = {
    r.key: r
    for r in (
        BuiltinRule(
            "instance_down", "DockyardInstanceDown", "instances not ready for 1 minute", "instances", 0, 0, 10_000
        ),
        BuiltinRule(
            "restarts", "DockyardInstanceRestarting", "container restarts of an instance in 15 minutes", "restarts",
            3, 0, 10_000,
        ),
        BuiltinRule(
            "cpu", "DockyardInstanceCPUHigh", "an instance's CPU use as a share of its flavor's CPU", "ratio",
            0.9, 0.01, 100,
        ),
        BuiltinRule(
            "rss", "DockyardInstanceRSSHigh", "an instance's resident memory (rss) as a share of its flavor's memory",
            "ratio", 0.9, 0.01, 100,
        ),
        BuiltinRule(
            "packets_dropped", "DockyardInstancePacketsDropped", "packets an instance drops (received and sent)",
            "packets/s", 1, 0, 1e9,
        ),
        BuiltinRule(
            "group_below_wanted", "DockyardGroupBelowWanted", "ready instances missing from what the group wants",
            "instances", 0, 0, 10_000,
        ),
        BuiltinRule(
            "release_aborted", "DockyardReleaseAborted", "releases of the group aborted in the last 30 minutes",
            "releases", 0, 0, 1000,
        ),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Override:
    """A system owner's setting of ``rule`` for an application (``group`` None) or one of its groups.
    ``threshold``/``enabled`` None: inherited. ``revision`` counts the changes of this one setting."""

    system: str
    app: str
    group: str | None
    rule: str
    threshold: float | None
    enabled: bool | None
    revision: int
    by: str
    at: dt.datetime
    reason: str = ""
    cleared: bool = False  # this revision removed the override (history only; never a current one)


@dataclass(frozen=True)
class GroupFacts:
    """What the rules compare with, of one group, from the database: the instances it wants (over
    every cluster), its current version's flavor (None before a first version) and how many of its
    releases were aborted recently. ``size``: the ``(cpu_millis, memory_mib)`` the version recorded
    (None for a version stored before sizes were: its flavor is a built-in one)."""

    system: str
    app: str
    group: str
    wanted: int
    flavor: str | None
    aborted_recently: int
    size: tuple[int, int] | None = None


@dataclass(frozen=True)
class Effective:
    """The rule as it holds for one group, and where its threshold came from."""

    system: str
    app: str
    group: str
    rule: str
    threshold: float
    enabled: bool
    source: Source


def rule(key: str) -> BuiltinRule:
    """The built-in rule ``key``; InvalidInput naming ``rule`` otherwise."""
    found = RULES.get(key)
    if found is None:
        raise InvalidInput("rule", f"no built-in rule {key!r}; one of {', '.join(RULES)}")
    return found


def check_threshold(key: str, value: float | None) -> float | None:
    """``value`` if it is a finite number within the rule's bounds (None passes: inherited)."""
    if value is None:
        return None
    found = rule(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("threshold", "must be a finite number")
    if not found.minimum <= value <= found.maximum:
        raise InvalidInput(
            "threshold", f"{key} takes {found.minimum:g} to {found.maximum:g} ({found.unit}), not {value:g}"
        )
    return float(value)


def resolve(system: str, groups: Iterable[tuple[str, str]], overrides: Iterable[Override]) -> list[Effective]:
    """Every built-in rule for every ``(app, group)`` of ``system``, with the overrides applied field
    by field (group beats application beats default). Overrides of other systems, of groups not
    listed and cleared ones are ignored. Ordered by app, group, then the order of :data:`RULES`."""
    by_app: dict[tuple[str, str], Override] = {}
    by_group: dict[tuple[str, str, str], Override] = {}
    for o in overrides:
        if o.system != system or o.cleared:
            continue
        if o.group is None:
            by_app[(o.app, o.rule)] = o
        else:
            by_group[(o.app, o.group, o.rule)] = o
    out = []
    for app, group in sorted(set(groups)):
        for key, builtin in RULES.items():
            threshold, enabled = builtin.threshold, True
            source: Source = "default"
            levels: tuple[tuple[Source, Override | None], ...] = (
                ("app", by_app.get((app, key))),
                ("group", by_group.get((app, group, key))),
            )
            for level, found in levels:
                if found is None:
                    continue
                if found.threshold is not None:
                    threshold, source = found.threshold, level
                if found.enabled is not None:
                    enabled = found.enabled
            out.append(Effective(system, app, group, key, threshold, enabled, source))
    return out
