"""`dockyard audit`'s own logic: times given as ages, and how an entry's changes are shown."""

from __future__ import annotations

import datetime as dt

import pytest
import typer

from dockyard.cli.audit import _changes, moment

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("30m", "2026-11-23T11:30:00+00:00"),
        ("2h", "2026-11-23T10:00:00+00:00"),
        ("7d", "2026-11-16T12:00:00+00:00"),
        ("45s", "2026-11-23T11:59:15+00:00"),
        ("2026-11-20T08:00:00Z", "2026-11-20T08:00:00Z"),
        ("2026-11-20", "2026-11-20"),
    ],
)
def test_since_and_until_take_iso_times_or_ages(given: str, expected: str) -> None:
    assert moment(given, now=NOW) == expected


@pytest.mark.parametrize("given", ["yesterday", "2h ago", "-5m", "5w"])
def test_other_times_are_refused(given: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        moment(given, now=NOW)
    assert capsys.readouterr().err.startswith(f"error: {given!r} is neither an ISO time")


def test_changes_show_fields_with_their_recorded_values() -> None:
    entry = {
        "changes": {"fields": ["name", "spec.env.TOKEN", "spec.image"], "values": {"name": "a", "spec.image": "r:1"}}
    }
    assert _changes(entry) == "name=a, spec.env.TOKEN, spec.image=r:1"
    assert _changes({"changes": {}}) == ""
