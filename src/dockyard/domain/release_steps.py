"""The release step machine: what a release's runner does next, and whether a step's new instances pass (pure).

:func:`next_action` reads a release as recorded (status, step, command, pause, ledger, strategy),
what the runner itself saw at its last turn (:class:`Observed`: whether the apiserver was away) and
the clock, and answers one :data:`Action`. The runner (services/release_runner.py) acts on it,
records what happened and asks again, so every turn is load → decide → act → record and a runner
resumed after a crash decides from the database alone.

Order of the decision, first match wins:

1. the apiserver was away at the last turn → :class:`WaitForCluster` (capped exponential backoff);
2. the release has ended → :class:`Ended`;
3. ``aborting`` (an abort begun before a crash) or the ``abort`` command → :class:`Abort`;
4. blue-green: step 0 → :class:`Switch`; later, a scale during the release → :class:`Rescale`;
   ``promote`` or ``promote --full`` → :class:`Retire`; the keep time passed (and not paused) →
   :class:`Retire`; else :class:`Nap`;
5. gray: ``promote --full`` → :class:`PromoteFull`; at a pause step: a scale meanwhile →
   :class:`Rescale`, ``promote`` → :class:`Advance`, a timed pause not begun → :class:`StartPause`,
   one that has run out (and not paused) → :class:`Advance`, else :class:`Nap`; paused at an instance,
   weight or analysis step → :class:`Nap`; an analysis step (:func:`_at_analysis`): a failed interval
   recorded → :class:`Abort`, ``promote`` or enough passing intervals → :class:`Advance`, else
   :class:`Analyze` (the next interval); a weight step → :class:`SetWeight` (done at once: the edge load
   balancer reads the share from the release, :func:`dockyard.domain.release.edge_share`); else
   :class:`ScaleStep` (``promote`` is dropped at both: a running step goes on by itself).

An action with ``take`` consumes that command first; when the command is no longer there (taken by
another runner, or replaced) the runner does not act and asks again. Rolling releases and releases
without a stable version are one rollout (:func:`mode`), not stepped.

:func:`clusters_to_scale` says which of a release's other clusters (a group on several: those already
released, and those not begun) run another count than the release gives them now (a scale, e.g. the
autoscaler's, during the release): the runner of the cluster under way brings them to it, each on the
version it runs, before it decides its own next action.

:func:`check_command` says whether a release can take a command at all (at the API's edge).
:func:`canary_check` says whether the new instances of a step pass: ready, failed (too many restarts,
or the step deadline passed, with the instances' reasons) or not yet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from dockyard.domain.apm import Check, Policy, progress
from dockyard.domain.errors import Conflict
from dockyard.domain.model import GroupCluster
from dockyard.domain.release import ENDED, Release, Step, final_step, split, this_cluster

# The defaults of a release's parameters (step deadline, restart limit, keep time) live with them in
# domain/operations.py (ReleaseParams); here the bounds and shapes the steps themselves use.
MAX_KEEP = 24 * 3600
# A blue-green release's steps, as shown: bring the new set up, switch, then keep the old set a while.
BLUE_GREEN_STEPS = ("100%", "pause", "100%")
POLL = 0.5  # how often a waiting release looks again (a command given here wakes it), and the first backoff
MAX_BACKOFF = 5.0

Command = Literal["promote", "full", "abort"]


@dataclass(frozen=True)
class Observed:
    """What the runner saw itself: ``away`` when its last turn found the apiserver away, and ``tries``
    how many turns in a row did (the wait grows with them)."""

    away: bool = False
    tries: int = 0


@dataclass(frozen=True)
class Part:
    """The cluster a release goes through now (a group on several clusters): its name and count,
    whether it is the last, and the ``(index, instances)`` of the one after it."""

    cluster: str
    instances: int
    last: bool
    advance: tuple[int, int] | None


def current_part(release: Release) -> Part:
    """The cluster of ``release.clusters`` under way (``cluster_index``); they go one after the other."""
    index = release.cluster_index
    here = release.clusters[index]
    last = index == len(release.clusters) - 1
    advance = None if last else (index + 1, int(release.clusters[index + 1]["instances"]))
    return Part(str(here["cluster"]), int(here["instances"]), last, advance)


@dataclass(frozen=True)
class ScaleCluster:
    """Another cluster of a release across clusters to bring to ``instances`` of ``version`` (the one it runs)."""

    cluster: str
    instances: int
    version: int


# The ledger's event for a cluster other than the one under way brought to its new count.
CLUSTER_SCALED = "cluster-scaled"


def clusters_to_scale(release: Release, recorded: Iterable[GroupCluster]) -> tuple[ScaleCluster, ...]:
    """The clusters of ``release`` other than the one under way whose count as ``recorded`` (the group's
    clusters) is not the release's for them, each at the version recorded there (the new one where
    the release is done, the stable one where it has not begun). None while the release ends
    (ended, aborting, or an abort given: the abort goes first), for a cluster with nothing recorded,
    and for one whose last try at that same count failed (it is tried again at the next new count)."""
    if not release.clusters or not release.active or release.status == "aborting" or release.command == "abort":
        return ()
    parts = {p.cluster: p for p in recorded}
    found: list[ScaleCluster] = []
    for i, entry in enumerate(release.clusters):
        name, want = str(entry["cluster"]), int(entry["instances"])
        part = parts.get(name)
        if i == release.cluster_index or part is None or part.version is None or part.instances == want:
            continue
        tried = [e for e in release.ledger if e.get("event") == CLUSTER_SCALED and e.get("cluster") == name]
        if tried and tried[-1].get("instances") == want and tried[-1].get("error"):
            continue
        found.append(ScaleCluster(name, want, part.version))
    return tuple(found)


@dataclass(frozen=True)
class WaitForCluster:
    """The apiserver is away: record ``waiting`` (when ``record``), sleep ``seconds``, try again."""

    seconds: float
    record: bool
    take: None = None


@dataclass(frozen=True)
class Ended:
    """The release has already ended: the runner returns ``outcome``."""

    outcome: Literal["succeeded", "aborted"]
    error: str
    take: None = None


@dataclass(frozen=True)
class Abort:
    """Stable back to the full count, the canary removed, the release ``aborted`` with ``reason``."""

    reason: str
    take: Command | None = None


@dataclass(frozen=True)
class PromoteFull:
    """``promote --full``: record the release at ``step`` (its ``100%``) and go on from there."""

    step: int
    take: Command | None = "full"


@dataclass(frozen=True)
class Rescale:
    """The release was scaled since its split was applied: apply ``(new, stable)`` again, checked."""

    new: int
    stable: int
    take: None = None


@dataclass(frozen=True)
class StartPause:
    """A timed pause begins: record ``paused`` until ``until``."""

    until: dt.datetime
    take: None = None


@dataclass(frozen=True)
class Advance:
    """A pause ends (``event``: ``promote`` or ``pause-ended`` after ``seconds``): record ``step``, progressing."""

    step: int
    event: Literal["promote", "pause-ended", "analysis-passed"]
    seconds: int | None = None
    take: Command | None = None


@dataclass(frozen=True)
class Analyze:
    """An analysis step's next interval: in ``wait`` seconds (0: now) judge the canary against the
    stable version on ``checks`` over the last interval and record the verdict with its numbers
    (inconclusive records ``paused``, saying why; pass or fail ``progressing``: enough fails in a row
    abort at the next decision)."""

    step: int
    checks: tuple[Check, ...]
    wait: float
    take: None = None


@dataclass(frozen=True)
class Nap:
    """Nothing to do yet: record ``status`` (with a ledger ``event`` if given) when set, then wait for a command."""

    status: Literal["paused"] | None = None
    event: str | None = None
    take: None = None


@dataclass(frozen=True)
class ScaleStep:
    """A gray instance step: canary to ``new`` and Ready, checked, then stable to ``stable``; record
    ``progressing`` first when ``progressing``; then the next step, or when ``last`` hand the group back."""

    step: int
    new: int
    stable: int
    last: bool
    progressing: bool
    take: Command | None = None


@dataclass(frozen=True)
class SetWeight:
    """A weight step: record it done (the new version's share of requests is ``weight`` percent from
    now on) and the release at step ``step + 1``, progressing."""

    step: int
    weight: int
    take: Command | None = None


@dataclass(frozen=True)
class Switch:
    """Blue-green step 0: the new set at ``instances`` beside the old, then the Service to it; keep the old set."""

    instances: int
    take: None = None


@dataclass(frozen=True)
class Retire:
    """Blue-green: the old set goes and the group is handed back (``event``: ``promote`` or ``kept``)."""

    event: Literal["promote", "kept"]
    take: Command | None = None


Action = (
    WaitForCluster
    | Ended
    | Abort
    | PromoteFull
    | Rescale
    | StartPause
    | Advance
    | Analyze
    | Nap
    | ScaleStep
    | SetWeight
    | Switch
    | Retire
)
Mode = Literal["rolling", "gray", "blue-green"]


def mode(release: Release, *, has_stable: bool) -> Mode:
    """How the release runs: one rollout when it is rolling or there is no stable version to keep."""
    if release.strategy == "rolling" or not has_stable:
        return "rolling"
    return "blue-green" if release.strategy == "blue-green" else "gray"


def backoff(tries: int) -> float:
    """The wait after ``tries`` turns in a row found the apiserver away: doubling from :data:`POLL`, capped."""
    return float(min(POLL * 2 ** max(tries - 1, 0), MAX_BACKOFF))


def next_action(release: Release, observed: Observed, now: dt.datetime, *, policy: Policy | None = None) -> Action:
    """What the runner of a gray or blue-green release does next (see the module docstring); ``policy``:
    how its analysis steps judge (default :class:`~dockyard.domain.apm.Policy`)."""
    if observed.away:
        return WaitForCluster(backoff(observed.tries), record=release.status != "waiting")
    if release.status in ENDED:
        return Ended("succeeded", "") if release.status == "succeeded" else Ended("aborted", release.error)
    if release.status == "aborting" or release.command == "abort":
        why = release.error or f"aborted at step {release.step + 1} ({release.steps[release.step]})"
        return Abort(why, take=None if release.status == "aborting" else "abort")
    if release.strategy == "blue-green":
        return _blue_green(release, now)
    return _gray(release, now, policy or Policy())


def _gray(release: Release, now: dt.datetime, policy: Policy) -> Action:
    steps = release.parsed_steps
    if release.command == "full":
        return PromoteFull(final_step(steps))
    step = steps[release.step]
    if step.kind == "pause":
        return _at_pause(release, step, now)
    if release.paused:
        return Nap("paused", "paused") if release.status != "paused" else Nap()
    if step.kind == "analysis":
        return _at_analysis(release, step, now, policy)
    take: Command | None = "promote" if release.command == "promote" else None
    if step.kind == "weight":
        assert step.value is not None
        return SetWeight(release.step, step.value, take=take)
    new, stable = split(steps, release.step, release.total)
    return ScaleStep(
        release.step,
        new,
        stable,
        last=release.step == final_step(steps),
        progressing=release.status != "progressing",
        take=take,
    )


def _at_pause(release: Release, step: Step, now: dt.datetime) -> Action:
    want = split(release.parsed_steps, release.step, release.total)
    if (rescale := _rescale(release.ledger, want)) is not None:
        return rescale
    if release.command == "promote":
        return Advance(release.step + 1, "promote", take="promote")
    if step.value is not None and release.pause_until is None:
        return StartPause(now + dt.timedelta(seconds=step.value))
    if release.pause_until is not None and now >= release.pause_until and not release.paused:
        return Advance(release.step + 1, "pause-ended", seconds=step.value)
    return Nap("paused") if release.status != "paused" else Nap()


def analysis_entries(release: Release) -> list[dict[str, Any]]:
    """The verdicts recorded at the release's current step (in the cluster under way)."""
    return [e for e in this_cluster(release.ledger) if e.get("event") == "analysis" and e.get("index") == release.step]


def _at_analysis(release: Release, step: Step, now: dt.datetime, policy: Policy) -> Action:
    """``policy.failures`` failed intervals in a row → abort (:func:`~dockyard.domain.apm.progress`);
    ``promote`` skips the analysis; ``policy.passes`` passing intervals → the next step; else the next interval, due
    ``interval_seconds`` after the last thing the ledger recorded (the step before, or a verdict)."""
    verdicts = analysis_entries(release)
    where = progress([str(e.get("verdict")) for e in verdicts], policy)
    if where == "abort":
        return Abort(f"analysis failed at step {release.step + 1}: {verdicts[-1].get('reason', '')}")
    if release.command == "promote":
        return Advance(release.step + 1, "promote", take="promote")
    if where == "advance":
        return Advance(release.step + 1, "analysis-passed")
    last = _last_at(release.ledger)
    wait = 0.0 if last is None else (last + dt.timedelta(seconds=policy.interval_seconds) - now).total_seconds()
    return Analyze(release.step, step.checks, max(0.0, wait))


def _last_at(ledger: Sequence[dict[str, Any]]) -> dt.datetime | None:
    for entry in reversed(ledger):
        at = entry.get("at")
        if isinstance(at, str):
            try:
                return dt.datetime.fromisoformat(at)
            except ValueError:
                continue
    return None


def _blue_green(release: Release, now: dt.datetime) -> Action:
    if release.step == 0:
        return Switch(release.total)
    if (rescale := _rescale(release.ledger, (release.total, release.total))) is not None:
        return rescale
    if release.command in ("promote", "full"):
        return Retire("promote", take="full" if release.command == "full" else "promote")
    if release.pause_until is not None and now >= release.pause_until and not release.paused:
        return Retire("kept")
    return Nap()


def check_command(release: Release, command: str) -> None:
    """:class:`Conflict` when ``release`` cannot take ``command`` now: a rolling release has no steps
    to steer, and ``promote`` needs a release waiting at a pause. Whether it has ended is the
    conditional write's to say (it may end meanwhile)."""
    if release.strategy == "rolling":
        raise Conflict("a rolling release has no steps to steer")
    if command == "promote":
        step = release.parsed_steps[release.step]
        if not release.active or step.kind not in ("pause", "analysis"):
            raise Conflict(
                f"release {release.id} does not wait at a pause (it is {release.status}) or an analysis; "
                "nothing to promote"
            )


def applied_split(ledger: Iterable[dict[str, Any]]) -> tuple[int, int] | None:
    """The ``(new, stable)`` split last applied, from the ledger (None before any)."""
    entries = [e for e in ledger if e.get("event") in ("step", "scaled", "switched")]
    return (int(entries[-1]["new"]), int(entries[-1]["stable"])) if entries else None


def _rescale(ledger: Iterable[dict[str, Any]], want: tuple[int, int]) -> Rescale | None:
    """After a scale during the release: the current split again, at the new total."""
    applied = applied_split(ledger)
    if applied is None or applied == want:
        return None
    return Rescale(*want)


class CanaryPod(Protocol):
    """What :func:`canary_check` reads of an instance (the watch cache's pod record has it)."""

    @property
    def version(self) -> str: ...
    @property
    def restarts(self) -> int: ...
    @property
    def deleting(self) -> bool: ...
    @property
    def reason(self) -> str: ...


@dataclass(frozen=True)
class Verdict:
    """``ready`` (with the ``checks`` to record), ``failed`` (with the ``reason``) or ``waiting``."""

    state: Literal["ready", "failed", "waiting"]
    reason: str = ""
    checks: tuple[dict[str, Any], ...] = ()


def canary_check(
    *,
    ready: int,
    wanted: int,
    pods: Sequence[CanaryPod],
    version: int,
    max_restarts: int,
    now: float,
    deadline: float,
    deadline_seconds: int,
) -> Verdict:
    """Whether ``wanted`` new instances of ``version`` pass a step: too many restarts fail at once
    (even when ready), enough ready pass, past the ``deadline`` (epoch seconds) it fails naming the
    instances' reasons; else not yet."""
    mine = [p for p in pods if p.version == str(version)]
    restarts = max((p.restarts for p in mine if not p.deleting), default=0)
    if restarts > max_restarts:
        return Verdict("failed", f"{restarts} restarts of an instance of version {version} (limit {max_restarts})")
    if ready >= wanted:
        checks = (
            {"check": "ready", "ok": True, "ready": ready, "wanted": wanted},
            {"check": "restarts", "ok": True, "max": restarts, "limit": max_restarts},
        )
        return Verdict("ready", checks=checks)
    if now > deadline:
        why = "; ".join(sorted({p.reason for p in mine if p.reason}))[:500]
        reason = f"{ready}/{wanted} instances of version {version} ready after {deadline_seconds}s"
        return Verdict("failed", reason + (f": {why}" if why else ""))
    return Verdict("waiting")
