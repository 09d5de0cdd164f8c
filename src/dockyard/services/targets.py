"""What to deploy, resolved: the one place a :data:`~dockyard.domain.targets.Target` becomes a spec.

Deploy, release, the placement preview and a new version all call :func:`resolve` inside their unit
of work, then :func:`save` when they keep what it made. Contract: an existing version that is not
there is :class:`NotFound`; a build that is not the application's, or has no image, is
:class:`InvalidInput` on ``build``; anything wrong in the spec or changes is :class:`InvalidInput`
naming the field (:func:`dockyard.domain.targets.make_spec`); a template is rendered with its
parameters (:func:`dockyard.services.templates.spec_for_group`), a bad one refused on its path. New
specs take their flavor's size from the catalog as it is now. Nothing is written by :func:`resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.model import Group
from dockyard.domain.targets import Changes, ExistingVersion, FromTemplate, Target, make_spec
from dockyard.domain.versions import Sealer, VersionSpec
from dockyard.services import flavors, templates
from dockyard.services.ports import UnitOfWork


@dataclass(frozen=True)
class Resolved:
    """The spec to deploy and its version number: an existing version's, or the number a new version
    would get (``new``: not saved yet, see :func:`save`)."""

    spec: VersionSpec
    number: int
    new: bool


async def resolve(uow: UnitOfWork, group: Group, target: Target, *, seal: Sealer) -> Resolved:
    """``target`` for ``group`` as a checked spec (see the module docstring)."""
    path = group.path
    if isinstance(target, ExistingVersion):
        existing = await uow.versions.get(path, target.number)
        if existing is None:
            raise NotFound(f"version {target.number} does not exist in group {group.name!r}")
        return Resolved(existing.spec, existing.number, new=False)
    if isinstance(target, FromTemplate):
        latest = None
        if group.latest_version:
            found = await uow.versions.get(path, group.latest_version)
            latest = found.spec if found else None
        spec = await templates.spec_for_group(
            uow,
            group_system=path.system,
            system=target.system,
            name=target.name,
            version=target.version,
            parameters=target.parameters,
            latest=latest,
        )
        return Resolved(spec, (group.latest_version or 0) + 1, new=True)
    image = None
    if target.build is not None:
        build = await uow.builds.get(target.build)
        if build is None or (build.system, build.app) != (path.system, path.app):
            raise InvalidInput("build", f"build {target.build!r} does not exist in {path.app_path}")
        if build.status != "succeeded" or not build.image:
            raise InvalidInput("build", f"build {target.build} has no image (it is {build.status})")
        image = build.image
    latest = None
    if isinstance(target, Changes) and group.latest_version:
        found = await uow.versions.get(path, group.latest_version)
        if found is None:
            raise NotFound("the latest version is gone")
        latest = found.spec
    spec = make_spec(target, latest=latest, image=image, seal=seal, catalog=await flavors.catalog(uow))
    return Resolved(spec, (group.latest_version or 0) + 1, new=True)


async def save(uow: UnitOfWork, group: Group, resolved: Resolved, *, by: str, reason: str = "") -> int:
    """The version number of ``resolved``: a new one is stored first (numbered latest + 1)."""
    if not resolved.new:
        return resolved.number
    return (await uow.versions.add(group.path, resolved.spec, by=by, reason=reason)).number
