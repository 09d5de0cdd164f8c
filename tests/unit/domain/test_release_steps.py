"""The release step machine: tables of release state × command × clock × strategy and the action taken."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

import pytest

from dockyard.domain.errors import Conflict
from dockyard.domain.release import Release
from dockyard.domain.release_steps import (
    BLUE_GREEN_STEPS,
    Abort,
    Action,
    Advance,
    Ended,
    Nap,
    Observed,
    Part,
    PromoteFull,
    Rescale,
    Retire,
    ScaleStep,
    SetWeight,
    StartPause,
    Switch,
    Verdict,
    WaitForCluster,
    applied_split,
    backoff,
    canary_check,
    check_command,
    current_part,
    mode,
    next_action,
)

NOW = dt.datetime(2026, 12, 2, 7, 0, tzinfo=dt.UTC)
GRAY = ("gray 2", "pause", "50%", "pause 5m", "100%")  # 0 gray 2, 1 pause, 2 50%, 3 pause 300s, 4 100%
WEIGHTED = ("gray 1", "pause", "weight 50%", "pause", "100%")  # 0 gray 1, 1 pause, 2 weight 50%, 3 pause, 4 100%


def ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def applied(new: int, stable: int, event: str = "step") -> tuple[dict[str, Any], ...]:
    return (
        {"event": "step", "new": 0, "stable": 99},
        {"event": "promote"},
        {"event": event, "new": new, "stable": stable},
    )


def release(
    step: int = 0,
    *,
    strategy: str = "gray",
    status: str = "progressing",
    command: str = "",
    paused: bool = False,
    pause_until: dt.datetime | None = None,
    total: int = 10,
    ledger: tuple[dict[str, Any], ...] = (),
    error: str = "",
    steps: tuple[str, ...] = GRAY,
) -> Release:
    return Release(
        id="r1",
        system="shop",
        app="web",
        group="prod",
        strategy=strategy,
        stable_version=1,
        new_version=2,
        total=total,
        steps=BLUE_GREEN_STEPS if strategy == "blue-green" else steps,
        step=step,
        status=status,
        paused=paused,
        command=command,
        pause_until=pause_until,
        ledger=ledger,
        error=error,
        created_by="ann",
    )


def bg(step: int = 1, **kw: Any) -> Release:
    kw.setdefault("status", "paused" if step == 1 else "progressing")
    kw.setdefault("total", 4)
    kw.setdefault("ledger", applied(4, 4, "switched") if step else ())
    return release(step, strategy="blue-green", **kw)


AWAY_ONCE = Observed(away=True, tries=1)
SPLIT_1 = applied(2, 8)  # gray 2 of 10 applied, as at step 1 (the untimed pause)
SPLIT_3 = applied(5, 5)  # 50% of 10 applied, as at step 3 (the 5-minute pause)

GRAY_CASES: list[tuple[str, Release, Observed, Action]] = [
    # an instance step runs by itself; promote is dropped, pause holds it at the boundary
    ("step 0 runs", release(0), Observed(), ScaleStep(0, 2, 8, last=False, progressing=False)),
    ("step 2 runs", release(2), Observed(), ScaleStep(2, 5, 5, last=False, progressing=False)),
    ("last step hands back", release(4), Observed(), ScaleStep(4, 10, 0, last=True, progressing=False)),
    ("back from waiting", release(0, status="waiting"), Observed(), ScaleStep(0, 2, 8, last=False, progressing=True)),
    ("resumed: progressing again", release(2, status="paused"), Observed(), ScaleStep(2, 5, 5, False, True)),
    ("promote dropped", release(0, command="promote"), Observed(), ScaleStep(0, 2, 8, False, False, take="promote")),
    ("scaled: the step's split", release(2, total=12), Observed(), ScaleStep(2, 6, 6, last=False, progressing=False)),
    ("pause: recorded", release(0, paused=True), Observed(), Nap("paused", "paused")),
    ("pause: held", release(2, paused=True, status="paused"), Observed(), Nap()),
    ("pause beats promote", release(2, paused=True, status="paused", command="promote"), Observed(), Nap()),
    ("pause then resume", release(2, paused=False, status="paused"), Observed(), ScaleStep(2, 5, 5, False, True)),
    # promote --full jumps to the 100% step, from anywhere, even paused
    ("full at step 0", release(0, command="full"), Observed(), PromoteFull(4)),
    ("full while paused", release(2, command="full", paused=True), Observed(), PromoteFull(4)),
    ("full at a pause", release(1, command="full", ledger=SPLIT_1), Observed(), PromoteFull(4)),
    ("full at the last step", release(4, command="full"), Observed(), PromoteFull(4)),
    # an untimed pause waits for promote; pause/resume do not end it
    ("untimed: paused", release(1, ledger=SPLIT_1), Observed(), Nap("paused")),
    ("untimed: waits", release(1, status="paused", ledger=SPLIT_1), Observed(), Nap()),
    ("untimed: long ago", release(1, status="paused", ledger=SPLIT_1, pause_until=None), Observed(), Nap()),
    (
        "untimed: promote",
        release(1, command="promote", ledger=SPLIT_1),
        Observed(),
        Advance(2, "promote", take="promote"),
    ),
    (
        "untimed: promote while paused",
        release(1, status="paused", paused=True, command="promote", ledger=SPLIT_1),
        Observed(),
        Advance(2, "promote", take="promote"),
    ),
    ("untimed: nothing applied yet", release(1), Observed(), Nap("paused")),
    # a timed pause starts its clock once, ends by itself unless paused, or at promote
    ("timed: starts", release(3, ledger=SPLIT_3), Observed(), StartPause(NOW + dt.timedelta(seconds=300))),
    (
        "timed: starts while paused",
        release(3, paused=True, ledger=SPLIT_3),
        Observed(),
        StartPause(NOW + dt.timedelta(seconds=300)),
    ),
    ("timed: runs", release(3, status="paused", pause_until=ago(-10), ledger=SPLIT_3), Observed(), Nap()),
    (
        "timed: status back",
        release(3, status="waiting", pause_until=ago(-10), ledger=SPLIT_3),
        Observed(),
        Nap("paused"),
    ),
    (
        "timed: over",
        release(3, status="paused", pause_until=ago(1), ledger=SPLIT_3),
        Observed(),
        Advance(4, "pause-ended", seconds=300),
    ),
    (
        "timed: over at the second",
        release(3, status="paused", pause_until=NOW, ledger=SPLIT_3),
        Observed(),
        Advance(4, "pause-ended", seconds=300),
    ),
    (
        "timed: over but paused",
        release(3, status="paused", paused=True, pause_until=ago(60), ledger=SPLIT_3),
        Observed(),
        Nap(),
    ),
    (
        "timed: promote before it starts",
        release(3, command="promote", ledger=SPLIT_3),
        Observed(),
        Advance(4, "promote", take="promote"),
    ),
    (
        "timed: promote while it runs",
        release(3, status="paused", command="promote", pause_until=ago(-100), ledger=SPLIT_3),
        Observed(),
        Advance(4, "promote", take="promote"),
    ),
    # a scale during a pause: the current split again at the new total, before anything else
    ("scaled at a pause", release(1, total=12, ledger=SPLIT_1), Observed(), Rescale(2, 10)),
    ("scaled, promote waits", release(1, total=12, command="promote", ledger=SPLIT_1), Observed(), Rescale(2, 10)),
    (
        "scaled at a timed pause",
        release(3, total=14, status="paused", pause_until=ago(5), ledger=SPLIT_3),
        Observed(),
        Rescale(7, 7),
    ),
    ("scale already applied", release(1, total=12, ledger=applied(2, 10, "scaled")), Observed(), Nap("paused")),
    # abort: from any step, paused or not; an abort begun before a crash goes on
    ("abort at step 0", release(0, command="abort"), Observed(), Abort("aborted at step 1 (gray 2)", take="abort")),
    (
        "abort at a pause",
        release(1, command="abort", status="paused"),
        Observed(),
        Abort("aborted at step 2 (pause)", take="abort"),
    ),
    (
        "abort while paused",
        release(2, command="abort", paused=True),
        Observed(),
        Abort("aborted at step 3 (50%)", take="abort"),
    ),
    ("aborting resumed", release(2, status="aborting", error="2 restarts"), Observed(), Abort("2 restarts")),
    ("aborting, no reason", release(4, status="aborting"), Observed(), Abort("aborted at step 5 (100%)")),
    ("aborting beats full", release(2, status="aborting", command="full", error="x"), Observed(), Abort("x")),
    # ended: nothing more to do
    ("succeeded", release(4, status="succeeded"), Observed(), Ended("succeeded", "")),
    ("aborted", release(2, status="aborted", error="why"), Observed(), Ended("aborted", "why")),
    ("failed", release(0, status="failed", error="gone"), Observed(), Ended("aborted", "gone")),
    (
        "ended beats commands",
        release(2, status="aborted", command="abort", error="why"),
        Observed(),
        Ended("aborted", "why"),
    ),
    # the apiserver away: wait (recorded once), doubling up to the cap, before anything else
    ("away once", release(2), AWAY_ONCE, WaitForCluster(0.5, record=True)),
    ("away again", release(2, status="waiting"), Observed(away=True, tries=3), WaitForCluster(2.0, record=False)),
    ("away long", release(2, status="waiting"), Observed(away=True, tries=12), WaitForCluster(5.0, record=False)),
    ("away beats abort", release(2, command="abort"), AWAY_ONCE, WaitForCluster(0.5, record=True)),
    ("away at a pause", release(1, status="paused", ledger=SPLIT_1), AWAY_ONCE, WaitForCluster(0.5, record=True)),
    ("waited: try again", release(2, status="waiting"), Observed(tries=3), ScaleStep(2, 5, 5, False, True)),
]


def weighted(step: int, **kw: Any) -> Release:
    kw.setdefault("ledger", applied(1, 9) if step else ())  # gray 1 of 10 applied once step 0 is done
    return release(step, steps=WEIGHTED, **kw)


WEIGHT_CASES: list[tuple[str, Release, Observed, Action]] = [
    # a weight step is done at once; the pause after it waits as usual
    ("gray 1 first", weighted(0), Observed(), ScaleStep(0, 1, 9, last=False, progressing=False)),
    ("pause before the weight", weighted(1), Observed(), Nap("paused")),
    ("promote onto the weight", weighted(1, command="promote"), Observed(), Advance(2, "promote", take="promote")),
    ("weight set", weighted(2), Observed(), SetWeight(2, 50)),
    ("weight set after a wait", weighted(2, status="waiting"), Observed(), SetWeight(2, 50)),
    ("weight set after resume", weighted(2, status="paused"), Observed(), SetWeight(2, 50)),
    ("weight: promote dropped", weighted(2, command="promote"), Observed(), SetWeight(2, 50, take="promote")),
    ("weight: pause recorded", weighted(2, paused=True), Observed(), Nap("paused", "paused")),
    ("weight: pause held", weighted(2, paused=True, status="paused"), Observed(), Nap()),
    ("weight: full skips it", weighted(2, command="full"), Observed(), PromoteFull(4)),
    ("weight: scaled, split kept", weighted(2, total=12), Observed(), SetWeight(2, 50)),
    (
        "weight: abort",
        weighted(2, command="abort"),
        Observed(),
        Abort("aborted at step 3 (weight 50%)", take="abort"),
    ),
    ("weight: aborting", weighted(2, status="aborting", error="x"), Observed(), Abort("x")),
    ("weight: away", weighted(2), AWAY_ONCE, WaitForCluster(0.5, record=True)),
    ("pause after the weight", weighted(3), Observed(), Nap("paused")),
    ("pause after it waits", weighted(3, status="paused"), Observed(), Nap()),
    ("pause after it: promote", weighted(3, command="promote"), Observed(), Advance(4, "promote", take="promote")),
    ("pause after it: scaled", weighted(3, total=12), Observed(), Rescale(1, 11)),
    ("pause after it: full", weighted(3, command="full"), Observed(), PromoteFull(4)),
    ("100% after the weight", weighted(4), Observed(), ScaleStep(4, 10, 0, last=True, progressing=False)),
    ("weight 0%", release(1, steps=("10%", "weight 0%", "pause 1m", "100%")), Observed(), SetWeight(1, 0)),
    (
        "weights back to back",
        release(2, steps=("10%", "weight 5%", "weight 1%", "100%")),
        Observed(),
        SetWeight(2, 1),
    ),
    (
        "timed pause after a weight",
        release(2, steps=("10%", "weight 5%", "pause 1m", "100%"), ledger=applied(1, 9)),
        Observed(),
        StartPause(NOW + dt.timedelta(seconds=60)),
    ),
    # a group on several clusters: the weight step in the cluster under way
    (
        "weight in the second cluster",
        replace(
            weighted(2, total=3),
            clusters=({"cluster": "a", "instances": 7}, {"cluster": "b", "instances": 3}),
            cluster_index=1,
        ),
        Observed(),
        SetWeight(2, 50),
    ),
    (
        "pause after it, second cluster",
        replace(
            weighted(3, total=3, ledger=applied(1, 2)),
            clusters=({"cluster": "a", "instances": 7}, {"cluster": "b", "instances": 3}),
            cluster_index=1,
        ),
        Observed(),
        Nap("paused"),
    ),
]

BLUE_GREEN_CASES: list[tuple[str, Release, Observed, Action]] = [
    # step 0: the new set comes up and the Service switches; only abort is heard meanwhile
    ("switch", bg(0), Observed(), Switch(4)),
    ("switch, promote waits", bg(0, command="promote"), Observed(), Switch(4)),
    ("switch, full waits", bg(0, command="full"), Observed(), Switch(4)),
    ("switch while paused", bg(0, paused=True), Observed(), Switch(4)),
    ("switch, scaled", bg(0, total=6), Observed(), Switch(6)),
    ("abort at the switch", bg(0, command="abort"), Observed(), Abort("aborted at step 1 (100%)", take="abort")),
    # step 1: the old set is kept until promote or the keep time
    ("kept", bg(1, pause_until=ago(-60)), Observed(), Nap()),
    ("kept, waiting status", bg(1, status="waiting", pause_until=ago(-60)), Observed(), Nap()),
    ("promote", bg(1, command="promote", pause_until=ago(-60)), Observed(), Retire("promote", take="promote")),
    ("promote --full", bg(1, command="full", pause_until=ago(-60)), Observed(), Retire("promote", take="full")),
    (
        "promote while paused",
        bg(1, command="promote", paused=True, pause_until=ago(-60)),
        Observed(),
        Retire("promote", take="promote"),
    ),
    ("keep time over", bg(1, pause_until=ago(1)), Observed(), Retire("kept")),
    ("keep time over at the second", bg(1, pause_until=NOW), Observed(), Retire("kept")),
    ("keep time over but paused", bg(1, paused=True, pause_until=ago(1)), Observed(), Nap()),
    (
        "abort switches back",
        bg(1, command="abort", pause_until=ago(-60)),
        Observed(),
        Abort("aborted at step 2 (pause)", take="abort"),
    ),
    (
        "abort after the keep time",
        bg(1, command="abort", pause_until=ago(60)),
        Observed(),
        Abort("aborted at step 2 (pause)", take="abort"),
    ),
    ("scaled while kept", bg(1, total=6, pause_until=ago(-60)), Observed(), Rescale(6, 6)),
    ("scaled, promote waits", bg(1, total=6, command="promote", pause_until=ago(-60)), Observed(), Rescale(6, 6)),
    ("scale applied", bg(1, total=6, ledger=applied(6, 6, "scaled"), pause_until=ago(-60)), Observed(), Nap()),
    # step 2 (resumed after a crash while retiring): retired again once the keep time is over
    ("resumed retiring", bg(2, pause_until=ago(30)), Observed(), Retire("kept")),
    ("aborting resumed", bg(1, status="aborting", error="x"), Observed(), Abort("x")),
    ("succeeded", bg(2, status="succeeded"), Observed(), Ended("succeeded", "")),
    ("away", bg(1, pause_until=ago(-60)), AWAY_ONCE, WaitForCluster(0.5, record=True)),
    ("away at the switch", bg(0, status="waiting"), Observed(away=True, tries=2), WaitForCluster(1.0, record=False)),
]


@pytest.mark.parametrize(("release", "observed", "action"), [c[1:] for c in GRAY_CASES], ids=[c[0] for c in GRAY_CASES])
def test_gray(release: Release, observed: Observed, action: Action) -> None:
    assert next_action(release, observed, NOW) == action


@pytest.mark.parametrize(
    ("release", "observed", "action"), [c[1:] for c in WEIGHT_CASES], ids=[c[0] for c in WEIGHT_CASES]
)
def test_gray_with_weights(release: Release, observed: Observed, action: Action) -> None:
    assert next_action(release, observed, NOW) == action


@pytest.mark.parametrize(
    ("release", "observed", "action"), [c[1:] for c in BLUE_GREEN_CASES], ids=[c[0] for c in BLUE_GREEN_CASES]
)
def test_blue_green(release: Release, observed: Observed, action: Action) -> None:
    assert next_action(release, observed, NOW) == action


@pytest.mark.parametrize(
    ("strategy", "has_stable", "expected"),
    [
        ("rolling", True, "rolling"),
        ("rolling", False, "rolling"),
        ("gray", True, "gray"),
        ("gray", False, "rolling"),  # nothing to keep beside the new version: one rollout
        ("blue-green", True, "blue-green"),
        ("blue-green", False, "rolling"),
    ],
)
def test_mode(strategy: str, has_stable: bool, expected: str) -> None:
    assert mode(release(strategy=strategy), has_stable=has_stable) == expected


CLUSTERS = (
    {"cluster": "east", "instances": 3},
    {"cluster": "west", "instances": "2"},
    {"cluster": "north", "instances": 1},
)


@pytest.mark.parametrize(
    ("index", "part"),
    [
        (0, Part("east", 3, last=False, advance=(1, 2))),
        (1, Part("west", 2, last=False, advance=(2, 1))),
        (2, Part("north", 1, last=True, advance=None)),
    ],
)
def test_current_part(index: int, part: Part) -> None:
    assert current_part(replace(release(), clusters=CLUSTERS, cluster_index=index)) == part


@pytest.mark.parametrize(("tries", "seconds"), [(0, 0.5), (1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 5.0), (40, 5.0)])
def test_backoff_doubles_up_to_the_cap(tries: int, seconds: float) -> None:
    assert backoff(tries) == seconds


@pytest.mark.parametrize(
    ("ledger", "split"),
    [
        ((), None),
        (({"event": "promote"}, {"event": "paused"}), None),
        (applied(2, 8), (2, 8)),
        (applied(3, 3, "switched"), (3, 3)),
        ((*applied(2, 8), {"event": "scaled", "new": 2, "stable": 10}, {"event": "promote"}), (2, 10)),
    ],
)
def test_applied_split(ledger: tuple[dict[str, Any], ...], split: tuple[int, int] | None) -> None:
    assert applied_split(ledger) == split


@dataclass(frozen=True)
class Pod:
    version: str = "7"
    restarts: int = 0
    deleting: bool = False
    reason: str = ""


def check(ready: int, pods: list[Pod], *, now: float = 100.0, wanted: int = 2) -> Verdict:
    return canary_check(
        ready=ready, wanted=wanted, pods=pods, version=7, max_restarts=3, now=now, deadline=300.0, deadline_seconds=300
    )


READY_CHECKS = (
    {"check": "ready", "ok": True, "ready": 2, "wanted": 2},
    {"check": "restarts", "ok": True, "max": 3, "limit": 3},
)


@pytest.mark.parametrize(
    ("verdict", "expected"),
    [
        (check(2, [Pod(restarts=3), Pod()]), Verdict("ready", checks=READY_CHECKS)),
        (
            check(3, [Pod(restarts=3)], wanted=2),
            Verdict("ready", checks=({**READY_CHECKS[0], "ready": 3}, READY_CHECKS[1])),
        ),
        (check(1, [Pod(), Pod(reason="ContainerCreating")]), Verdict("waiting")),
        (check(0, []), Verdict("waiting")),
        # restarts over the limit fail at once, ready or not, before the deadline
        (check(2, [Pod(restarts=4), Pod()]), Verdict("failed", "4 restarts of an instance of version 7 (limit 3)")),
        (check(0, [Pod(restarts=9)]), Verdict("failed", "9 restarts of an instance of version 7 (limit 3)")),
        # restarts of instances going away, or of another version, do not count
        (check(1, [Pod(restarts=9, deleting=True), Pod(version="6", restarts=9)]), Verdict("waiting")),
        # past the deadline: the new instances' reasons, once each, sorted
        (
            check(1, [Pod(reason="ErrImagePull"), Pod(reason="Unschedulable"), Pod(reason="ErrImagePull")], now=301),
            Verdict("failed", "1/2 instances of version 7 ready after 300s: ErrImagePull; Unschedulable"),
        ),
        (
            check(0, [Pod(version="6", reason="Evicted")], now=301),
            Verdict("failed", "0/2 instances of version 7 ready after 300s"),
        ),
        (check(1, [], now=300), Verdict("waiting")),  # at the deadline itself: not yet past
        (
            check(2, [Pod(), Pod()], now=900),
            Verdict("ready", checks=({**READY_CHECKS[0]}, {**READY_CHECKS[1], "max": 0})),
        ),
    ],
)
def test_canary_check(verdict: Verdict, expected: Verdict) -> None:
    assert verdict == expected


def test_a_long_reason_is_cut() -> None:
    verdict = check(0, [Pod(reason="x" * 400), Pod(reason="y" * 400)], now=400)
    assert verdict.state == "failed"
    assert len(verdict.reason.split(": ", 1)[1]) == 500


@pytest.mark.parametrize(
    ("release", "command", "refused"),
    [
        (release(1, command=""), "promote", ""),  # waits at a pause
        (release(3, status="paused", pause_until=NOW), "promote", ""),  # a timed pause too
        (release(0), "promote", "does not wait at a pause (it is progressing)"),
        (release(1, status="succeeded"), "promote", "does not wait at a pause (it is succeeded)"),
        (release(2, status="aborting"), "promote", "does not wait at a pause"),
        (release(0), "full", ""),
        (release(0), "pause", ""),
        (release(2, paused=True), "resume", ""),
        (release(4), "abort", ""),
        (release(2, status="aborted"), "abort", ""),  # the conditional write says it has ended
        (weighted(2), "promote", "does not wait at a pause (it is progressing)"),  # done at once by itself
        (weighted(3, status="paused"), "promote", ""),
        (weighted(2), "full", ""),
        (weighted(2), "abort", ""),
        (bg(1), "promote", ""),
        (bg(0), "promote", "does not wait at a pause"),
        (bg(0), "abort", ""),
        (release(0, strategy="rolling"), "abort", "a rolling release has no steps to steer"),
        (release(0, strategy="rolling"), "promote", "a rolling release has no steps to steer"),
    ],
)
def test_check_command(release: Release, command: str, refused: str) -> None:
    if not refused:
        check_command(release, command)
        return
    with pytest.raises(Conflict, match=re.escape(refused)):
        check_command(release, command)
