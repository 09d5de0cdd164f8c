"""Silences: matchers as data, scoped to the system, bounded durations."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.silences import Matcher, check_duration, parse_matchers, scoped_to


def test_the_system_scope_comes_first_and_matchers_are_equality_only() -> None:
    matchers = parse_matchers(
        [{"name": "app", "value": "web"}, {"name": "pod", "value": "a.*", "equal": False}], "shop"
    )
    assert matchers == (Matcher("system", "shop"), Matcher("app", "web"), Matcher("pod", "a.*", equal=False))
    assert [m.to_data()["isRegex"] for m in matchers] == [False, False, False]  # ".*" is a literal value


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({}, "matchers"),
        ([], "matchers"),  # nothing but the scope: it would silence the whole system
        ([{"name": "app", "value": "web", "equal": False}], "matchers"),
        ([{"name": "system", "value": "other"}], "matchers[0].name"),
        ([{"name": "bad-name", "value": "x"}], "matchers[0].name"),
        ([{"name": "app", "value": ""}], "matchers[0].value"),
        ([{"name": "app", "value": "x" * 201}], "matchers[0].value"),
        ([{"name": "app", "value": "web", "isRegex": True}], "matchers[0]"),
        ([{"name": "app", "value": "web", "equal": "yes"}], "matchers[0].equal"),
        ([{"name": "a", "value": "b"}] * 21, "matchers"),
    ],
)
def test_bad_matchers_name_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_matchers(raw, "shop")
    assert e.value.field == field


@pytest.mark.parametrize(("seconds", "ok"), [(60, True), (3600, True), (3601, False), (0, False), (-5, False),
                                             (True, False), ("60", False)])  # fmt: skip
def test_durations_are_bounded_not_cut(seconds: Any, ok: bool) -> None:
    if ok:
        assert check_duration(seconds, 3600) == seconds
    else:
        with pytest.raises(InvalidInput) as e:
            check_duration(seconds, 3600)
        assert e.value.field == "duration_seconds"


def test_scope_is_an_exact_equality_on_system() -> None:
    exact = [{"name": "system", "value": "shop", "isRegex": False, "isEqual": True}]
    assert scoped_to(exact, "shop")
    assert not scoped_to(exact, "sho")
    assert not scoped_to([{"name": "system", "value": "shop", "isRegex": True, "isEqual": True}], "shop")
    assert not scoped_to([{"name": "system", "value": "shop", "isRegex": False, "isEqual": False}], "shop")
    assert not scoped_to("nonsense", "shop")
