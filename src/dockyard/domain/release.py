"""Gray releases: the steps a release goes through, and how many instances each version runs at each.

A gray release runs the new version as its own workload (the canary) beside the stable one, both
behind the group's Service. Steps are written as text: ``gray N`` (N instances of the new version),
``P%`` (that share of the group's instances, rounded up), ``pause`` (wait for ``promote``) or
``pause 30s`` / ``pause 5m`` / ``pause 2h`` (continue by itself). The last instance step must be
``100%``; the group's count stays the total throughout (stable = total - new).

:func:`parse_steps` refuses bad input naming ``steps[i]``; :func:`split` says how many instances each
version runs at a step. Both are pure.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from dockyard.domain.errors import InvalidInput

STRATEGIES = ("gray", "rolling", "blue-green")
MAX_STEPS = 20
MAX_PAUSE = 7 * 24 * 3600
_UNITS = {"s": 1, "m": 60, "h": 3600}
_GRAY = re.compile(r"^gray\s+(\d{1,4})$")
_PERCENT = re.compile(r"^(\d{1,3})%$")
_PAUSE = re.compile(r"^pause(?:\s+(\d{1,6})([smh]))?$")

Kind = Literal["instances", "percent", "pause"]
# Where a release ended (else it is progressing, paused, waiting or aborting).
ENDED = ("succeeded", "aborted", "failed")


@dataclass(frozen=True)
class Step:
    """One step: ``instances`` N, ``percent`` P, or ``pause`` for ``value`` seconds (None: until promoted)."""

    kind: Kind
    value: int | None

    def __str__(self) -> str:
        if self.kind == "instances":
            return f"gray {self.value}"
        if self.kind == "percent":
            return f"{self.value}%"
        return "pause" if self.value is None else f"pause {self.value}s"


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
    counted = [s for s in steps if s.kind != "pause"]
    if not counted or counted[-1] != Step("percent", 100):
        raise InvalidInput("steps", "the last step that sets instances must be '100%'")
    if steps[-1].kind == "pause":
        raise InvalidInput(f"steps[{len(steps) - 1}]", "a release cannot end with a pause")
    return steps


def _step(field: str, item: object) -> Step:
    if not isinstance(item, str):
        raise InvalidInput(field, "a step is text: 'gray N', 'P%', 'pause' or 'pause 5m'")
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
    if match := _PAUSE.fullmatch(text):
        if match.group(1) is None:
            return Step("pause", None)
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if not 1 <= seconds <= MAX_PAUSE:
            raise InvalidInput(field, "a pause lasts from 1s to 7 days")
        return Step("pause", seconds)
    raise InvalidInput(field, f"unknown step {item[:40]!r}: use 'gray N', 'P%', 'pause' or 'pause 5m'")


def new_instances(step: Step, total: int) -> int:
    """How many instances of the new version ``step`` asks for in a group of ``total``."""
    if step.kind == "instances":
        assert step.value is not None
        return min(step.value, total)
    if step.kind == "percent":
        assert step.value is not None
        return min(total, math.ceil(total * step.value / 100))
    raise ValueError("a pause sets no instances")


def split(steps: tuple[Step, ...], index: int, total: int) -> tuple[int, int]:
    """``(new, stable)`` instances once step ``index`` is done: a pause keeps the split of the last
    instance step before it (none before: all stable)."""
    for step in reversed(steps[: index + 1]):
        if step.kind != "pause":
            new = new_instances(step, total)
            return new, total - new
    return 0, total


def final_step(steps: tuple[Step, ...]) -> int:
    """The index of the last instance step (``100%``), where ``promote --full`` goes."""
    return max(i for i, s in enumerate(steps) if s.kind != "pause")


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
