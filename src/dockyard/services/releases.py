"""Releases of a group: start one (gray or rolling), read them, and steer a running one.

Contracts: :func:`start_release` authorizes (``deploy``), checks the steps, and records in one unit of
work the new version if one is made, a pending ``release`` operation (the group's one unfinished
operation: a second release, or a deploy, gets 409) and the release's state; the executor drives it
(services/release_runner.py). A blue-green release brings the whole new set up beside the old one,
switches the Service to it, and keeps the old set ``keep_seconds`` (or until ``promote``) so that
``abort`` switches back at once. Commands write to the release's state and are taken by its runner at
its next turn: ``promote`` ends a pause (409 when the release does not wait at one), ``promote
--full`` jumps to 100%, ``pause`` holds the release at the next step boundary, ``resume`` lets it go
on, ``abort`` brings the stable version back at full count. Every command on an ended release is 409.

A group on several clusters releases cluster by cluster, in the order its placement's
``release_order`` gives (then by name): each cluster goes through all the steps, and the next one
starts once it has succeeded; an abort (or a failed check) in one cluster stops the release there
(that cluster back on the stable version, the later ones untouched; the earlier ones keep the new
version). The autoscaler may give such a release a new total split over its clusters, each keeping
its place in the release (services/autoscale.py); a manual scale of it is refused (409).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.apm import parse_policy
from dockyard.domain.autoscale import effective_instances
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.location import distribute
from dockyard.domain.model import AppPath, Group, GroupPath
from dockyard.domain.operations import DEFAULT_KEEP, DEFAULT_MAX_RESTARTS, DEFAULT_STEP_DEADLINE, ReleaseParams
from dockyard.domain.release import STRATEGIES, Release, parse_steps
from dockyard.domain.release_steps import BLUE_GREEN_STEPS, MAX_KEEP, check_command
from dockyard.domain.targets import Target
from dockyard.domain.versions import VersionSpec
from dockyard.services import deploys, targets
from dockyard.services import where as locating
from dockyard.services.applications import found_group
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

COMMANDS = ("promote", "full", "pause", "resume", "abort")


async def _clusters(uow: UnitOfWork, group: Group, spec: VersionSpec, strategy: str) -> tuple[dict[str, Any], ...]:
    """For a group on several clusters: the clusters in release order with their instance counts
    (the group's current split, scaled to the new count); () for a group on one cluster. A gray or
    blue-green release keeps the group's clusters: a new location is deployed, not released."""
    application = await uow.applications.get(AppPath(group.system, group.app))
    if application is None:
        raise NotFound(f"application {group.app!r} does not exist in {group.system!r}")
    where = await locating.clusters_of(uow, group, application, spec)
    parts = {p.cluster: p.instances for p in group.clusters}
    if len(where.clusters) <= 1 and len(parts) <= 1:
        return ()
    if strategy != "rolling" and set(where.clusters) != set(parts):
        raise Conflict(
            f"a {strategy} release keeps the group's clusters ({', '.join(sorted(parts))}); the new version "
            f"runs on {', '.join(where.clusters)}: deploy it instead"
        )
    weights = where.fixed or {c: parts.get(c, 0) for c in where.clusters}
    counts = distribute(spec.instances, weights, fixed=True)
    return tuple({"cluster": c, "instances": counts[c]} for c in where.clusters)


async def start_release(
    platform: Platform,
    by: Principal,
    *,
    group: GroupPath,
    target: Target,
    strategy: str = "gray",
    steps: list[str] | None = None,
    step_deadline_seconds: int = DEFAULT_STEP_DEADLINE,
    max_restarts: int = DEFAULT_MAX_RESTARTS,
    keep_seconds: int = DEFAULT_KEEP,
    analysis: dict[str, Any] | None = None,
    reason: str = "",
) -> Release:
    authorize(by, "deploy", group.system, group.app)
    if strategy not in STRATEGIES:
        raise InvalidInput("strategy", f"strategy must be one of {', '.join(STRATEGIES)}")
    parsed = parse_steps(steps if steps is not None else ["100%"])
    policy = parse_policy(analysis) if analysis is not None else None
    if strategy != "gray" and steps is not None:
        raise InvalidInput("steps", f"a {strategy} release has no steps; only gray releases do")
    if isinstance(keep_seconds, bool) or not isinstance(keep_seconds, int) or not 0 <= keep_seconds <= MAX_KEEP:
        raise InvalidInput("keep_seconds", f"keep_seconds must be an integer from 0 to {MAX_KEEP}")
    deploys.check_deadline(step_deadline_seconds, "step_deadline_seconds")
    if isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or not 0 <= max_restarts <= 100:
        raise InvalidInput("max_restarts", "max_restarts must be an integer from 0 to 100")
    async with deploys.recording(platform, group) as uow:
        found = await found_group(uow, group)
        if strategy != "rolling" and found.current_version is None:
            raise Conflict(f"group {group.group!r} runs no version yet: deploy one first, then release beside it")
        new = await targets.resolve(uow, found, target, seal=platform.seal_value)
        if new.number == found.current_version:
            raise Conflict(f"group {group.group!r} already runs version {new.number}")
        if strategy == "blue-green" and not new.spec.ports:
            raise InvalidInput("strategy", "a blue-green release switches the group's Service: the version needs ports")
        await targets.save(uow, found, new, by=by.name, reason=reason)
        recorded = sum(p.instances for p in found.clusters)
        sized = effective_instances(new.spec.instances, new.spec.autoscale, recorded or None)
        new_spec = new.spec if sized == new.spec.instances else dataclasses.replace(new.spec, instances=sized)
        clusters = await _clusters(uow, found, new_spec, strategy)
        operation = deploys.pending(
            "release",
            by,
            group,
            ReleaseParams(
                version=new.number,
                strategy=strategy,
                deadline_seconds=step_deadline_seconds,
                step_deadline_seconds=step_deadline_seconds,
                max_restarts=max_restarts,
                keep_seconds=keep_seconds,
                analysis=policy.to_data() if policy is not None else None,
            ),
        )
        await uow.operations.add(operation)
        release = Release(
            id=operation.id,
            system=group.system,
            app=group.app,
            group=group.group,
            strategy=strategy,
            stable_version=found.current_version,
            new_version=new.number,
            total=clusters[0]["instances"] if clusters else new_spec.instances,
            clusters=clusters,
            steps=tuple(str(s) for s in parsed) if strategy != "blue-green" else BLUE_GREEN_STEPS,
            step=0,
            status="progressing",
            paused=False,
            command="",
            pause_until=None,
            ledger=(
                {
                    "at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    "event": "started",
                    "by": by.name,
                    "version": new.number,
                    "stable": found.current_version,
                },
            ),
            error="",
            created_by=by.name,
        )
        await uow.releases.add(release)
    return await get_release(platform, by, group, release.id)


async def list_releases(platform: Platform, by: Principal, group: GroupPath) -> list[Release]:
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        await found_group(uow, group)
        return await uow.releases.of_group(group)


async def get_release(platform: Platform, by: Principal, group: GroupPath, release_id: str) -> Release:
    authorize(by, "read", group.system, group.app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.releases.get(release_id)
    if found is None or GroupPath(found.system, found.app, found.group) != group:
        raise NotFound(f"release {release_id!r} does not exist in {group}")
    return found


async def command(platform: Platform, by: Principal, group: GroupPath, release_id: str, what: str) -> Release:
    """Give a running release a command (see the module docstring)."""
    authorize(by, "deploy", group.system, group.app)
    if what not in COMMANDS:
        raise InvalidInput("command", f"command must be one of {', '.join(COMMANDS)}")
    release = await get_release(platform, by, group, release_id)
    check_command(release, what)
    async with platform.db.unit_of_work() as uow:
        if what in ("pause", "resume"):
            ok = await uow.releases.command(release_id, paused=what == "pause")
        else:
            ok = await uow.releases.command(release_id, command=what)
    if not ok:
        raise Conflict(f"release {release_id} has ended ({release.status})")
    platform.releases_steered.set()
    return await get_release(platform, by, group, release_id)
