"""Component templates: the platform's (built in, version 1 of each, and versions admins add) and
systems' own.

Contract: every signed-in user reads the platform's templates and renders them; a system's templates
are read by its members (others get 404, as for the system) and added by its owners; platform
templates are added by platform admins (403 otherwise). A template's versions are numbered from 1 per
owner and name (a built-in one is version 1), immutable; adding one checks it
(:func:`dockyard.domain.templates.parse_template`). An unknown template or version is
:class:`NotFound`. :func:`adoption` is a dry run: per group whose current version a template made and
the caller may see, what deploying the given version with the group's recorded parameters would change.
Nothing here deploys; a group adopts a template version only through a deploy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from dockyard.domain.access import Principal, authorize, can_see, require_admin
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.failures import DatabaseConflict
from dockyard.domain.model import GroupPath
from dockyard.domain.template_catalog import BUILTIN_TEMPLATES
from dockyard.domain.templates import Adoption, Template, make_spec, parse_template
from dockyard.domain.templates import adoption as adoption_of
from dockyard.domain.versions import VersionSpec
from dockyard.services import flavors
from dockyard.services.platform import Platform
from dockyard.services.ports import UnitOfWork

_BUILTIN = {t.name: t for t in BUILTIN_TEMPLATES}


def _check_owner(by: Principal, system: str, action: str) -> None:
    if system:
        authorize(by, "manage" if action == "write" else "read", system)
    elif action == "write":
        require_admin(by, "adding a platform template")


async def versions_of(uow: UnitOfWork, system: str, name: str) -> list[Template]:
    """Every version of a template, oldest first: the built-in version 1 of a platform one, then the
    stored ones."""
    builtin = [_BUILTIN[name]] if not system and name in _BUILTIN else []
    return builtin + await uow.templates.versions(system, name)


async def find(uow: UnitOfWork, system: str, name: str, version: int | None = None) -> Template:
    """A template's version (None: its latest); :class:`NotFound` naming what is missing."""
    found = await versions_of(uow, system, name)
    where = f" in system {system!r}" if system else ""
    if not found:
        raise NotFound(f"template {name!r} does not exist{where}")
    if version is None:
        return found[-1]
    for t in found:
        if t.version == version:
            return t
    raise NotFound(f"template {name!r}{where} has no version {version} (latest: {found[-1].version})")


async def list_templates(platform: Platform, by: Principal, *, system: str = "") -> list[Template]:
    """The latest version of each template of the platform (``system`` "") or of ``system``."""
    _check_owner(by, system, "read")
    async with platform.db.unit_of_work() as uow:
        stored = {t.name: t for t in await uow.templates.latest(system)}
    if not system:
        stored = {**_BUILTIN, **stored}
    return [stored[name] for name in sorted(stored)]


async def get_versions(platform: Platform, by: Principal, name: str, *, system: str = "") -> list[Template]:
    _check_owner(by, system, "read")
    async with platform.db.unit_of_work() as uow:
        found = await versions_of(uow, system, name)
    if not found:
        raise NotFound(f"template {name!r} does not exist" + (f" in system {system!r}" if system else ""))
    return found


async def get_template(
    platform: Platform, by: Principal, name: str, version: int | None = None, *, system: str = ""
) -> Template:
    _check_owner(by, system, "read")
    async with platform.db.unit_of_work() as uow:
        return await find(uow, system, name, version)


async def add_version(platform: Platform, by: Principal, name: str, raw: Any, *, system: str = "") -> Template:
    """Store the template's next version (1 for a new name) from ``{description, parameters, body}``."""
    _check_owner(by, system, "write")
    try:
        async with platform.db.unit_of_work() as uow:
            if system and await uow.systems.get(system) is None:
                raise NotFound(f"system {system!r} does not exist")
            known = await versions_of(uow, system, name)
            number = known[-1].version + 1 if known else 1
            made = parse_template(raw, name=name, version=number, owner=system, catalog=await flavors.catalog(uow))
            made = replace(made, created_by=by.name, created_at=dt.datetime.now(dt.UTC))
            await uow.templates.add(made, by=by.name)
    except DatabaseConflict as e:
        raise Conflict(f"template {name!r} got a new version meanwhile; try again") from e
    return made


async def render(
    platform: Platform, by: Principal, name: str, parameters: Any, *, version: int | None = None, system: str = ""
) -> VersionSpec:
    """The spec the template's version (None: latest) makes with ``parameters``; nothing is stored."""
    _check_owner(by, system, "read")
    async with platform.db.unit_of_work() as uow:
        template = await find(uow, system, name, version)
        return make_spec(template, parameters, catalog=await flavors.catalog(uow))


@dataclass(frozen=True)
class GroupAdoption:
    """One group's dry run: its current version, the template version it was made from, and what the
    asked version would change (:class:`~dockyard.domain.templates.Adoption`)."""

    group: GroupPath
    current_version: int
    from_version: int
    adoption: Adoption


async def adoption(
    platform: Platform, by: Principal, name: str, version: int | None = None, *, system: str = ""
) -> tuple[Template, list[GroupAdoption]]:
    """Per group made from the template that the caller may see (and not already at that version's
    parameters' result), what deploying ``version`` (None: latest) would change."""
    _check_owner(by, system, "read")
    async with platform.db.unit_of_work() as uow:
        template = await find(uow, system, name, version)
        catalog = await flavors.catalog(uow)
        users = await uow.templates.users(system, name)
    out = []
    for v in users:
        if not can_see(by, v.system, v.app):
            continue
        assert v.spec.template is not None
        out.append(
            GroupAdoption(
                GroupPath(v.system, v.app, v.group),
                v.number,
                v.spec.template.version,
                adoption_of(v.spec, template, catalog=catalog),
            )
        )
    return template, out


async def spec_for_group(
    uow: UnitOfWork,
    *,
    group_system: str,
    system: str,
    name: str,
    version: int | None,
    parameters: Any,
    latest: VersionSpec | None,
) -> VersionSpec:
    """What a deploy from a template makes for a group of ``group_system``: a system's template only
    for its own groups (others: :class:`NotFound`). The latest version's secret env values are kept
    (templates hold none)."""
    if system and system != group_system:
        raise NotFound(f"template {name!r} does not exist in system {group_system!r}")
    template = await find(uow, system, name, version)
    spec = make_spec(template, parameters, catalog=await flavors.catalog(uow))
    if latest is not None and latest.secret_env:
        both = sorted({k for k, _ in spec.env} & {k for k, _ in latest.secret_env})
        if both:
            raise InvalidInput(
                f"secret_env.{both[0]}", f"{both[0]} is a secret env var of the group and in the template's env"
            )
        spec = replace(spec, secret_env=latest.secret_env)
    return spec
