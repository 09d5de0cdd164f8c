"""/api/v1/templates and /api/v1/systems/{system}/templates: component templates, the platform's
(read and rendered by every user, versions added by platform admins) and a system's (read by its
members, versions added by its owners). Groups are made from them through a deploy (``template`` in
the deploy's body); ``adoption`` is a dry run of that for every group a template made."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.templates import AdoptionOut, GroupAdoptionOut, RenderIn, RenderOut, TemplateIn, TemplateOut
from dockyard.domain.access import Principal
from dockyard.services import templates as svc
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1", responses=ERRORS)
_VERSION = Query(default=None, ge=1, description="a version of the template; default: its latest")


async def _list(platform: Platform, caller: Principal, system: str) -> list[TemplateOut]:
    return [TemplateOut.of(t) for t in await svc.list_templates(platform, caller, system=system)]


async def _get(platform: Platform, caller: Principal, system: str, name: str, version: int | None) -> TemplateOut:
    found = await svc.get_versions(platform, caller, name, system=system)
    numbers = [t.version for t in found]
    chosen = await svc.get_template(platform, caller, name, version, system=system) if version else found[-1]
    return TemplateOut.of(chosen, numbers)


async def _add(platform: Platform, caller: Principal, system: str, name: str, body: TemplateIn) -> TemplateOut:
    return TemplateOut.of(await svc.add_version(platform, caller, name, body.raw(), system=system))


async def _render(platform: Platform, caller: Principal, system: str, name: str, body: RenderIn) -> RenderOut:
    spec = await svc.render(platform, caller, name, body.parameters, version=body.version, system=system)
    assert spec.template is not None
    ref = f"{system + ':' if system else ''}{name}@{spec.template.version}"
    return RenderOut(template=ref, spec=spec.masked())


async def _adoption(platform: Platform, caller: Principal, system: str, name: str, version: int | None) -> AdoptionOut:
    template, groups = await svc.adoption(platform, caller, name, version, system=system)
    return AdoptionOut(template=template.ref, groups=[GroupAdoptionOut.of(g) for g in groups])


# the platform's --------------------------------------------------------------------------------
@router.get("/templates", tags=["templates"])
async def list_templates(platform: PlatformDep, caller: Caller) -> list[TemplateOut]:
    """The latest version of each platform template (built in, and those admins added)."""
    return await _list(platform, caller, "")


@router.get("/templates/{template}", tags=["templates"])
async def get_template(
    template: str, platform: PlatformDep, caller: Caller, version: int | None = _VERSION
) -> TemplateOut:
    """A platform template's version (default: latest) and the numbers of all its versions."""
    return await _get(platform, caller, "", template, version)


@router.post("/templates/{template}/versions", tags=["templates"], status_code=status.HTTP_201_CREATED)
async def add_template_version(template: str, body: TemplateIn, platform: PlatformDep, caller: Caller) -> TemplateOut:
    """Add the next version of a platform template (1 for a new name; platform admins). Groups made
    from older versions change only when they deploy it (see ``adoption``)."""
    return await _add(platform, caller, "", template, body)


@router.post("/templates/{template}/render", tags=["templates"])
async def render_template(template: str, body: RenderIn, platform: PlatformDep, caller: Caller) -> RenderOut:
    """The version spec a platform template makes with these parameters; a bad parameter is 422 on
    ``parameters.NAME``. Nothing is stored."""
    return await _render(platform, caller, "", template, body)


@router.get("/templates/{template}/adoption", tags=["templates"])
async def template_adoption(
    template: str, platform: PlatformDep, caller: Caller, version: int | None = _VERSION
) -> AdoptionOut:
    """Dry run: for each group made from the template that the caller may see, what deploying this
    version with the group's recorded parameters would change."""
    return await _adoption(platform, caller, "", template, version)


# a system's ------------------------------------------------------------------------------------
@router.get("/systems/{system}/templates", tags=["templates"])
async def list_system_templates(system: str, platform: PlatformDep, caller: Caller) -> list[TemplateOut]:
    """The latest version of each of the system's own templates (its members)."""
    return await _list(platform, caller, system)


@router.get("/systems/{system}/templates/{template}", tags=["templates"])
async def get_system_template(
    system: str, template: str, platform: PlatformDep, caller: Caller, version: int | None = _VERSION
) -> TemplateOut:
    return await _get(platform, caller, system, template, version)


@router.post("/systems/{system}/templates/{template}/versions", tags=["templates"], status_code=status.HTTP_201_CREATED)
async def add_system_template_version(
    system: str, template: str, body: TemplateIn, platform: PlatformDep, caller: Caller
) -> TemplateOut:
    """Add the next version of one of the system's templates (its owners)."""
    return await _add(platform, caller, system, template, body)


@router.post("/systems/{system}/templates/{template}/render", tags=["templates"])
async def render_system_template(
    system: str, template: str, body: RenderIn, platform: PlatformDep, caller: Caller
) -> RenderOut:
    return await _render(platform, caller, system, template, body)


@router.get("/systems/{system}/templates/{template}/adoption", tags=["templates"])
async def system_template_adoption(
    system: str, template: str, platform: PlatformDep, caller: Caller, version: int | None = _VERSION
) -> AdoptionOut:
    return await _adoption(platform, caller, system, template, version)
