"""Silences of a system's alerts, as Dockyard asks Alertmanager for them: who (owner), why (reason),
until when (never longer than the platform's maximum: Alertmanager then expires it by itself), and
what — equality matchers on alert labels, always scoped to the system by a ``system="<name>"``
matcher Dockyard adds, so a user silences only their own system's alerts.

Matchers are data, never text spliced into a query: label names must be Prometheus label names,
values are any text up to 200 characters and only equality (``=``/``!=``) is offered, so no
regular expression of a user's reaches Alertmanager.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.errors import InvalidInput

_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]{0,99}")
SCOPE_LABEL = "system"
MAX_MATCHERS = 20


@dataclass(frozen=True)
class Matcher:
    name: str
    value: str
    equal: bool = True  # False: "!="

    def to_data(self) -> dict[str, Any]:
        """Alertmanager API v2's matcher."""
        return {"name": self.name, "value": self.value, "isRegex": False, "isEqual": self.equal}


@dataclass(frozen=True)
class Silence:
    """A silence as Alertmanager keeps it; ``state`` is active, pending or expired."""

    id: str
    system: str
    matchers: tuple[Matcher, ...]
    starts_at: dt.datetime
    ends_at: dt.datetime
    owner: str
    reason: str
    state: str


def parse_matchers(raw: Any, system: str) -> tuple[Matcher, ...]:
    """The user's matchers (a list of ``{name, value, equal}``) with the system's scope first;
    InvalidInput naming the field otherwise."""
    if not isinstance(raw, list) or len(raw) > MAX_MATCHERS:
        raise InvalidInput("matchers", f"must be a list of at most {MAX_MATCHERS} matchers")
    out = [Matcher(SCOPE_LABEL, system)]
    for i, item in enumerate(raw):
        field = f"matchers[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"name", "value", "equal"}:
            raise InvalidInput(field, "must be {name, value, equal}")
        name, value, equal = item.get("name"), item.get("value"), item.get("equal", True)
        if not isinstance(name, str) or not _LABEL.fullmatch(name):
            raise InvalidInput(f"{field}.name", "must be a label name ([a-zA-Z_][a-zA-Z0-9_]*)")
        if name == SCOPE_LABEL:
            raise InvalidInput(f"{field}.name", "the system is set by Dockyard: a silence covers only its own system")
        if not isinstance(value, str) or not 0 < len(value) <= 200 or "\x00" in value:
            raise InvalidInput(f"{field}.value", "must be 1 to 200 characters")
        if not isinstance(equal, bool):
            raise InvalidInput(f"{field}.equal", "must be true or false")
        out.append(Matcher(name, value, equal))
    if not any(m.equal for m in out[1:]):
        raise InvalidInput("matchers", "give at least one matcher with equal true (e.g. app, group or alertname)")
    return tuple(out)


def check_duration(seconds: Any, maximum: float) -> float:
    """A silence's length in seconds: positive and at most ``maximum`` (refused, not cut)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise InvalidInput("duration_seconds", "must be a positive number of seconds")
    if seconds > maximum:
        raise InvalidInput("duration_seconds", f"a silence lasts at most {maximum:g} seconds (asked {seconds:g})")
    return float(seconds)


def scoped_to(matchers: Any, system: str) -> bool:
    """Whether Alertmanager's matchers (API v2 data) are scoped to ``system`` exactly."""
    return isinstance(matchers, list) and any(
        isinstance(m, Mapping)
        and m.get("name") == SCOPE_LABEL
        and m.get("value") == system
        and not m.get("isRegex", False)
        and m.get("isEqual", True)
        for m in matchers
    )
