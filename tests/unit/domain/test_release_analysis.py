"""Analysis steps of a gray release: their text, and what the step machine does at one (a table)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dockyard.domain.apm import Policy
from dockyard.domain.errors import Conflict, InvalidInput
from dockyard.domain.release import Release, parse_steps
from dockyard.domain.release_steps import Abort, Action, Advance, Analyze, Nap, Observed, check_command, next_action

NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)
STEPS = ("gray 1", "analyze p99,error_ratio", "100%")


def at(seconds_ago: float) -> str:
    return (NOW - dt.timedelta(seconds=seconds_ago)).isoformat()


def verdict(v: str, ago: float = 40, index: int = 1) -> dict[str, Any]:
    return {"at": at(ago), "event": "analysis", "index": index, "verdict": v, "reason": f"it said {v}"}


def release(ledger: tuple[dict[str, Any], ...], *, command: str = "", paused: bool = False) -> Release:
    return Release(
        id="r1",
        system="shop",
        app="web",
        group="prod",
        strategy="gray",
        stable_version=1,
        new_version=2,
        total=4,
        steps=STEPS,
        step=1,
        status="progressing",
        paused=paused,
        command=command,
        pause_until=None,
        ledger=({"at": at(100), "event": "step", "index": 0, "new": 1, "stable": 3}, *ledger),
        error="",
        created_by="ann",
    )


CHECKS = ("p99", "error_ratio")
CASES: list[tuple[str, Release, Action]] = [
    ("the first interval is due 30 s after the step", release(()), Analyze(1, CHECKS, 0.0)),
    (
        "due later",
        release(({"at": at(10), "event": "analysis", "index": 1, "verdict": "pass"},)),
        Analyze(1, CHECKS, 20.0),
    ),
    ("one fail: judge again", release((verdict("fail"),)), Analyze(1, CHECKS, 0.0)),
    (
        "two fails in a row abort",
        release((verdict("fail"), verdict("fail"))),
        Abort("analysis failed at step 2: it said fail"),
    ),
    (
        "inconclusive between fails",
        release((verdict("fail"), verdict("inconclusive"), verdict("fail"))),
        Abort("analysis failed at step 2: it said fail"),
    ),
    (
        "three passes go on",
        release((verdict("pass"), verdict("inconclusive"), verdict("pass"), verdict("pass"))),
        Advance(2, "analysis-passed"),
    ),
    ("inconclusive never aborts", release(tuple(verdict("inconclusive") for _ in range(20))), Analyze(1, CHECKS, 0.0)),
    (
        "a verdict of another step does not count",
        release((verdict("fail", index=0), verdict("fail", index=0))),
        Analyze(1, CHECKS, 0.0),
    ),
    (
        "promote skips the analysis",
        release((verdict("inconclusive"),), command="promote"),
        Advance(2, "promote", take="promote"),
    ),
    ("paused holds it", release((), paused=True), Nap("paused", "paused")),
]


@pytest.mark.parametrize(("name", "rel", "want"), CASES, ids=[c[0] for c in CASES])
def test_next_action_at_an_analysis_step(name: str, rel: Release, want: Action) -> None:
    assert next_action(rel, Observed(), NOW, policy=Policy()) == want


def test_promote_is_taken_at_an_analysis_step_only() -> None:
    check_command(release(()), "promote")
    with pytest.raises(Conflict):
        check_command(Release(**{**release(()).__dict__, "step": 0}), "promote")


@pytest.mark.parametrize(
    ("steps", "field", "says"),
    [
        (["analyze", "100%"], "steps[0]", "needs a canary"),
        (["gray 1", "analyze latency", "100%"], "steps[1]", "unknown analysis check 'latency'"),
        (["gray 1", "100%", "analyze"], "steps[2]", "after the last '100%'"),
    ],
)
def test_bad_analysis_steps(steps: list[str], field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_steps(steps)
    assert e.value.field == field
    assert says in str(e.value)


def test_analysis_steps_read_back() -> None:
    parsed = parse_steps(["gray 1", "analyze", "50%", "Analyze  P99, restarts", "100%"])
    assert [str(s) for s in parsed] == ["gray 1", "analyze error_ratio,p99", "50%", "analyze p99,restarts", "100%"]
    assert parse_steps([str(s) for s in parsed]) == parsed
