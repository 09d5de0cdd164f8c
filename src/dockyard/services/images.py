"""An application's images in its registry: list them with the versions using them, clean up the
unused ones (never one a version of the last N versions per group uses), and check an image is
still there before a rollback.

The registry is the application's ``repository`` host (``host[:port]/path``), reached through the
platform's :class:`~dockyard.services.ports.Registries` (with the configured credentials).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from dockyard.domain.access import Principal, authorize
from dockyard.domain.builds import GcPlan, Image, plan_gc, uses
from dockyard.domain.errors import Conflict, InvalidInput, NotFound, Unavailable
from dockyard.domain.failures import RegistryFailure, RegistryNotFound, RegistryUnavailable
from dockyard.domain.images import split_reference
from dockyard.domain.model import AppPath
from dockyard.services.platform import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageUse:
    tag: str
    digest: str
    size: int
    versions: tuple[tuple[str, int], ...]  # (group, version number)
    running: tuple[str, ...]  # groups running it now


@dataclass(frozen=True)
class GcResult:
    deleted: tuple[str, ...]
    kept: tuple[str, ...]
    dry_run: bool


async def _images(platform: Platform, repository: str) -> list[Image]:
    registry, path = platform.registries.open(repository)
    async with registry:
        try:
            images = []
            for tag in await registry.tags(path):
                manifest = await registry.manifest(path, tag)
                images.append(Image(tag=tag, digest=manifest.digest, size=manifest.size))
        except RegistryUnavailable as e:
            raise Unavailable(str(e)) from e
        except RegistryFailure as e:
            raise Conflict(f"the registry refused to list {repository}: {e}") from e
    return images


async def list_images(platform: Platform, by: Principal, app: AppPath) -> list[ImageUse]:
    """Every tag of the application's repository with its digest, size and the versions using it."""
    authorize(by, "read", app.system, app.app)
    repository, versions, current = await _usage(platform, app)
    out = []
    for image in await _images(platform, repository):
        using = tuple(sorted((g, n) for g, vs in versions.items() for n, ref in vs if uses(ref, image)))
        running = tuple(
            sorted(g for g, vs in versions.items() for n, ref in vs if n == current.get(g) and uses(ref, image))
        )
        out.append(ImageUse(image.tag, image.digest, image.size, using, running))
    return out


async def _usage(
    platform: Platform, app: AppPath
) -> tuple[str, dict[str, list[tuple[int, str]]], dict[str, int | None]]:
    async with platform.db.unit_of_work() as uow:
        found = await uow.applications.get(app)
        if found is None:
            raise NotFound(f"application {app.app!r} does not exist in {app.system}")
        versions: dict[str, list[tuple[int, str]]] = {}
        current: dict[str, int | None] = {}
        for group in await uow.groups.of_app(app):
            current[group.name] = group.current_version
            versions[group.name] = [
                (v.number, v.spec.image)
                for v in await uow.versions.of_group(group.path)
                if split_reference(v.spec.image)[:2] == split_reference(found.repository + ":x")[:2]
            ]
    return found.repository, versions, current


async def gc(platform: Platform, by: Principal, app: AppPath, *, keep: int, dry_run: bool) -> GcResult:
    """Delete (by digest) the application's images no version of the last ``keep`` per group, no group
    running now, and none of the last ``keep`` succeeded builds uses; ``dry_run`` only says which."""
    authorize(by, "manage", app.system, app.app)
    if isinstance(keep, bool) or not isinstance(keep, int) or not 1 <= keep <= 1000:
        raise InvalidInput("keep", "keep must be an integer from 1 to 1000")
    repository, versions, current = await _usage(platform, app)
    async with platform.db.unit_of_work() as uow:
        builds = [b.digest for b in await uow.builds.of_app(app) if b.status == "succeeded" and b.digest]
    plan: GcPlan = plan_gc(
        await _images(platform, repository), versions=versions, current=current, recent_builds=builds, keep=keep
    )
    if not dry_run:
        registry, path = platform.registries.open(repository)
        async with registry:
            for digest in plan.delete:
                try:
                    await registry.delete(path, digest)
                except RegistryNotFound:
                    continue
                except RegistryFailure as e:
                    raise Conflict(f"the registry refused to delete {digest}: {e}") from e
    return GcResult(deleted=plan.delete, kept=plan.keep, dry_run=dry_run)


async def check_present(platform: Platform, image: str, *, what: str) -> None:
    """Conflict when ``image`` (pinned by digest) is really gone from its registry; an image by tag,
    or a registry that cannot be reached, passes (the cluster will say more when it pulls)."""
    host, path, digest = split_reference(image)
    if not digest.startswith("sha256:"):
        return
    registry, _ = platform.registries.open(f"{host}/{path}")
    async with registry:
        try:
            present = await registry.exists(path, digest)
        except RegistryFailure as e:
            log.warning("cannot check %s in its registry: %s", image, e)
            return
    if not present:
        raise Conflict(f"the image of {what} ({image}) is gone from the registry: refusing to roll back to it")
