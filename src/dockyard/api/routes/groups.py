"""/api/v1/systems/{s}/apps/{a}/groups/{g}: groups, their versions, instances, history and actions.

Actions (deploy, scale, rollback, reconcile, delete) answer 202 with the operation at once; follow it
at ``/api/v1/operations/{id}``. A second change while one runs gets 409.
"""

from __future__ import annotations

import time
from dataclasses import asdict

from fastapi import APIRouter, Query, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.actions import DeployIn, PreviewIn, ReconcileIn, RollbackIn, ScaleIn
from dockyard.api.schemas.groups import (
    ClusterStateOut,
    DnsAnswerOut,
    DriftOut,
    GroupDnsOut,
    GroupIn,
    GroupOut,
    GroupStatusOut,
    InstanceOut,
    InstancesOut,
)
from dockyard.api.schemas.operations import OperationOut
from dockyard.api.schemas.placement import PreviewOut
from dockyard.api.schemas.versions import DiffOut, VersionIn, VersionOut
from dockyard.domain.access import Principal
from dockyard.domain.model import AppPath, GroupPath
from dockyard.domain.targets import ExistingVersion
from dockyard.services import applications as svc
from dockyard.services import deploys, discovery, placement
from dockyard.services import status as live
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1/systems/{system}/apps/{app}/groups", responses=ERRORS)
ACCEPTED = status.HTTP_202_ACCEPTED


async def group_out(platform: Platform, caller: Principal, group: GroupPath) -> GroupOut:
    found, st = await live.group_status(platform, caller, group)
    drift = [DriftOut(field=k, expected=a, live=b) for k, (a, b) in st.drift.items()]
    return GroupOut.of(
        found,
        GroupStatusOut(
            state=st.state,
            ready=st.ready,
            instances=st.instances,
            wanted=st.wanted,
            stale=st.stale,
            drift=drift,
            operation=st.operation,
            clusters=[ClusterStateOut(**asdict(c)) for c in st.clusters],
        ),
    )


@router.post("", tags=["groups"], status_code=status.HTTP_201_CREATED)
async def create_group(system: str, app: str, body: GroupIn, platform: PlatformDep, caller: Caller) -> GroupOut:
    made = await svc.create_group(
        platform,
        caller,
        app=AppPath(system, app),
        name=body.name,
        environment=body.environment,
        cluster=body.cluster,
    )
    return GroupOut.of(made)


@router.get("", tags=["groups"])
async def list_groups(system: str, app: str, platform: PlatformDep, caller: Caller) -> list[GroupOut]:
    return [GroupOut.of(g) for g in await svc.list_groups(platform, caller, AppPath(system, app))]


@router.get("/{group}", tags=["groups"])
async def get_group(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> GroupOut:
    """The group with its live status: state, ready/wanted instances, drift, the operation under way."""
    return await group_out(platform, caller, GroupPath(system, app, group))


@router.delete("/{group}", tags=["groups"], status_code=ACCEPTED)
async def delete_group(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> OperationOut:
    """Remove the group's objects from its cluster, then the group and its versions (an operation)."""
    return OperationOut.of(await deploys.start_delete_group(platform, caller, group=GroupPath(system, app, group)))


@router.get("/{group}/instances", tags=["groups"])
async def list_instances(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> InstancesOut:
    """The group's instances (pods) on each of its clusters, from the watch caches; ``stale`` while one
    of its clusters is unreachable (its instances are then the last known ones)."""
    pods, stale = await live.instances(platform, caller, GroupPath(system, app, group))
    now = time.time()
    return InstancesOut(stale=stale, items=[InstanceOut.of(p, now, cluster=c) for c, p in pods])


@router.get("/{group}/dns", tags=["groups"])
async def group_dns(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> GroupDnsOut:
    """The group's global name and the addresses it answers with now (its ready instances on every
    cluster, from the watch caches)."""
    found = await discovery.group_name(platform, caller, GroupPath(system, app, group))
    return GroupDnsOut(name=found.name, answers=[DnsAnswerOut(**asdict(a)) for a in found.answers])


@router.get("/{group}/versions", tags=["versions"])
async def list_versions(system: str, app: str, group: str, platform: PlatformDep, caller: Caller) -> list[VersionOut]:
    return [VersionOut.of(v) for v in await svc.list_versions(platform, caller, GroupPath(system, app, group))]


@router.post("/{group}/versions", tags=["versions"], status_code=status.HTTP_201_CREATED)
async def create_version(
    system: str, app: str, group: str, body: VersionIn, platform: PlatformDep, caller: Caller
) -> VersionOut:
    """A new version from a whole ``spec`` or from ``changes`` to the latest one; not deployed."""
    made = await svc.create_version(
        platform, caller, group=GroupPath(system, app, group), target=body.new_spec(), reason=body.reason
    )
    return VersionOut.of(made)


@router.get("/{group}/versions/{number}", tags=["versions"])
async def get_version(
    system: str, app: str, group: str, number: int, platform: PlatformDep, caller: Caller
) -> VersionOut:
    return VersionOut.of(await svc.get_version(platform, caller, GroupPath(system, app, group), number))


@router.get("/{group}/diff", tags=["versions"])
async def diff_versions(
    system: str,
    app: str,
    group: str,
    platform: PlatformDep,
    caller: Caller,
    old: int = Query(description="a version number"),
    new: int = Query(description="another version number"),
) -> DiffOut:
    """Fields that differ between two versions (config files and env per key)."""
    changes = await svc.diff_versions(platform, caller, GroupPath(system, app, group), old, new)
    return DiffOut(old=old, new=new, changes=[DriftOut(field=k, expected=a, live=b) for k, (a, b) in changes.items()])


@router.get("/{group}/operations", tags=["operations"])
async def group_history(
    system: str, app: str, group: str, platform: PlatformDep, caller: Caller, limit: int = 100
) -> list[OperationOut]:
    return [OperationOut.of(o) for o in await svc.history(platform, caller, GroupPath(system, app, group), limit=limit)]


@router.post("/{group}/deploy", tags=["actions"], status_code=ACCEPTED)
async def deploy(
    system: str, app: str, group: str, body: DeployIn, platform: PlatformDep, caller: Caller
) -> OperationOut:
    """Deploy an existing ``version``, or a new one made from ``spec`` or ``changes``."""
    op = await deploys.start_deploy(
        platform,
        caller,
        group=GroupPath(system, app, group),
        target=body.target(),
        reason=body.reason,
        deadline_seconds=body.deadline_seconds,
        force=body.force,
    )
    return OperationOut.of(op)


@router.post("/{group}/preview", tags=["actions"])
async def preview(
    system: str, app: str, group: str, body: PreviewIn, platform: PlatformDep, caller: Caller
) -> PreviewOut:
    """Where a deploy of ``version`` (or of a version made from ``spec`` or ``changes``; nothing is
    saved) would land: per cluster, how many instances fit and the scheduler's reasons for the others."""
    found = await placement.preview(
        platform,
        caller,
        group=GroupPath(system, app, group),
        target=body.target(),
    )
    return PreviewOut.model_validate(found.as_dict())


@router.post("/{group}/scale", tags=["actions"], status_code=ACCEPTED)
async def scale(
    system: str, app: str, group: str, body: ScaleIn, platform: PlatformDep, caller: Caller
) -> OperationOut:
    """A new version with another instance count, deployed."""
    op = await deploys.start_scale(
        platform,
        caller,
        group=GroupPath(system, app, group),
        instances=body.instances,
        deadline_seconds=body.deadline_seconds,
        force=body.force,
    )
    return OperationOut.of(op)


@router.post("/{group}/rollback", tags=["actions"], status_code=ACCEPTED)
async def rollback(
    system: str, app: str, group: str, body: RollbackIn, platform: PlatformDep, caller: Caller
) -> OperationOut:
    """Deploy an earlier version exactly as it was (no new version, no rebuild)."""
    op = await deploys.start_deploy(
        platform,
        caller,
        group=GroupPath(system, app, group),
        target=ExistingVersion(body.version),
        deadline_seconds=body.deadline_seconds,
        action="rollback",
    )
    return OperationOut.of(op)


@router.post("/{group}/reconcile", tags=["actions"], status_code=ACCEPTED)
async def reconcile(
    system: str, app: str, group: str, body: ReconcileIn, platform: PlatformDep, caller: Caller
) -> OperationOut:
    """Apply the running version again, taking back what was changed by hand."""
    op = await deploys.start_reconcile(
        platform, caller, group=GroupPath(system, app, group), deadline_seconds=body.deadline_seconds
    )
    return OperationOut.of(op)
