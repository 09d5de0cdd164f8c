"""Which threshold holds for a group: group beats application beats default, field by field."""

from __future__ import annotations

import datetime as dt

import pytest

from dockyard.domain.alert_rules import RULES, Effective, Override, check_threshold, resolve
from dockyard.domain.errors import InvalidInput

AT = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)


def o(app: str, group: str | None, rule: str, threshold: float | None = None, enabled: bool | None = None,
      *, system: str = "shop", cleared: bool = False) -> Override:  # fmt: skip
    return Override(system, app, group, rule, threshold, enabled, 1, "olga", AT, cleared=cleared)


def rss(effective: list[Effective], app: str = "web", group: str = "prod") -> tuple[float, bool, str]:
    (found,) = [e for e in effective if (e.app, e.group, e.rule) == (app, group, "rss")]
    return found.threshold, found.enabled, found.source


GROUPS = [("web", "prod"), ("web", "canary"), ("api", "prod")]
CASES = [
    # (overrides, group asked, expected (threshold, enabled, source))
    ([], ("web", "prod"), (0.9, True, "default")),
    ([o("web", None, "rss", 0.8)], ("web", "prod"), (0.8, True, "app")),
    ([o("web", None, "rss", 0.8)], ("api", "prod"), (0.9, True, "default")),  # another application
    ([o("web", None, "rss", 0.8), o("web", "prod", "rss", 0.5)], ("web", "prod"), (0.5, True, "group")),
    ([o("web", "prod", "rss", 0.5), o("web", None, "rss", 0.8)], ("web", "prod"), (0.5, True, "group")),  # order
    ([o("web", None, "rss", 0.8), o("web", "prod", "rss", 0.5)], ("web", "canary"), (0.8, True, "app")),
    ([o("web", None, "rss", enabled=False)], ("web", "prod"), (0.9, False, "default")),
    # field by field: the group sets only the threshold, the application's "disabled" still holds
    ([o("web", None, "rss", 0.8, False), o("web", "prod", "rss", 0.6)], ("web", "prod"), (0.6, False, "group")),
    ([o("web", None, "rss", enabled=False), o("web", "prod", "rss", enabled=True)], ("web", "prod"),
     (0.9, True, "default")),
    ([o("web", None, "rss", 0.8, cleared=True)], ("web", "prod"), (0.9, True, "default")),  # removed
    ([o("web", None, "rss", 0.8, system="other")], ("web", "prod"), (0.9, True, "default")),  # another system
    ([o("web", None, "cpu", 0.2)], ("web", "prod"), (0.9, True, "default")),  # another rule
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "group", "expected"), CASES)
def test_resolution(overrides: list[Override], group: tuple[str, str], expected: tuple[float, bool, str]) -> None:
    assert rss(resolve("shop", GROUPS, overrides), *group) == expected


def test_every_rule_for_every_group_in_a_stable_order() -> None:
    effective = resolve("shop", [*GROUPS, ("web", "prod")], [])
    assert len(effective) == 3 * len(RULES)
    assert [(e.app, e.group) for e in effective[:: len(RULES)]] == [("api", "prod"), ("web", "canary"), ("web", "prod")]
    assert [e.rule for e in effective[: len(RULES)]] == list(RULES)


@pytest.mark.parametrize(
    ("rule", "value", "error"),
    [
        ("rss", 0.0, "0.01 to 100"),
        ("rss", 101, "0.01 to 100"),
        ("rss", float("nan"), "finite"),
        ("rss", float("inf"), "finite"),
        ("rss", True, "finite"),
        ("instance_down", -1, "0 to 10000"),
        ("nope", 1, "no built-in rule"),
    ],
)
def test_thresholds_out_of_bounds_are_refused(rule: str, value: float, error: str) -> None:
    with pytest.raises(InvalidInput, match=error):
        check_threshold(rule, value)


def test_a_threshold_within_bounds_passes() -> None:
    assert check_threshold("rss", 1) == 1.0
    assert check_threshold("rss", None) is None
