"""Builds of an application: start one, read them and their logs, cancel one.

Contracts: :func:`start_build` authorizes (``deploy``), checks every field of untrusted input — the
source URL against SSRF (its host is resolved here; loopback, link-local and the service networks
are refused, ``file://`` only under ``build_source_roots``), the git reference, the Dockerfile path,
the build args — and records a ``queued`` build; the build runner (services/build_runner.py) drives
it. The source is given with the build; when omitted, the application's last build's source is used.
:func:`cancel` ends a queued build at once and asks a running one's runner to stop it (it ends
``cancelled`` within a second); an ended build is 409.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import uuid
from collections.abc import Mapping
from typing import Any

from dockyard.domain.access import Principal, authorize
from dockyard.domain.builds import (
    Build,
    ParsedUrl,
    Source,
    check_build_args,
    check_dockerfile,
    check_ref,
    literal_address,
    parse_source_url,
    source_problem,
)
from dockyard.domain.errors import Conflict, InvalidInput, NotFound
from dockyard.domain.model import AppPath
from dockyard.services.platform import Platform

RESOLVE_TIMEOUT = 5.0


async def start_build(
    platform: Platform,
    by: Principal,
    *,
    app: AppPath,
    source: str | None = None,
    commit: str | None = None,
    branch: str | None = None,
    tag: str | None = None,
    dockerfile: str = "Dockerfile",
    build_args: Mapping[str, Any] | None = None,
    force: bool = False,
    timeout_seconds: int | None = None,
) -> Build:
    authorize(by, "deploy", app.system, app.app)
    given = [(k, v) for k, v in (("commit", commit), ("branch", branch), ("tag", tag)) if v is not None]
    if len(given) != 1:
        raise InvalidInput("commit", "give exactly one of commit, branch or tag")
    ref_kind, ref = check_ref(*given[0])
    dockerfile = check_dockerfile(dockerfile)
    args = check_build_args(build_args)
    limit = platform.config.builds.timeout
    timeout = limit if timeout_seconds is None else timeout_seconds
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= limit:
        raise InvalidInput("timeout_seconds", f"timeout_seconds must be an integer from 1 to {limit}")
    async with platform.db.unit_of_work() as uow:
        if await uow.applications.get(app) is None:
            raise NotFound(f"application {app.app!r} does not exist in {app.system}")
        if source is None:
            previous = await uow.builds.of_app(app, limit=1)
            if not previous:
                raise InvalidInput("source", "give the source repository (the application has no build yet)")
            source = previous[0].source.url
    await check_source(platform, source)
    build = Build(
        id=str(uuid.uuid4()),
        system=app.system,
        app=app.app,
        source=Source(url=source, ref_kind=ref_kind, ref=ref, dockerfile=dockerfile),
        build_args=args,
        force=bool(force),
        timeout_seconds=timeout,
        status="queued",
        created_by=by.name,
    )
    async with platform.db.unit_of_work() as uow:
        await uow.builds.add(build)
    platform.builds_added.set()
    return await get_build(platform, by, app, build.id)


async def check_source(platform: Platform, url: str) -> None:
    """InvalidInput("source") when ``url`` may not be fetched (see domain.builds.source_problem)."""
    parsed = parse_source_url(url)
    roots = list(platform.config.builds.source_roots)
    candidates = [(parsed, roots)]
    if parsed.scheme == "file":  # and where it really leads: a symlink under a root must not lead out
        real = await asyncio.to_thread(os.path.realpath, parsed.path)
        real_roots = [await asyncio.to_thread(os.path.realpath, r) for r in roots]
        candidates.append((dataclasses.replace(parsed, path=real), real_roots))
    addresses = await _addresses(parsed)
    for candidate, allowed in candidates:
        problem = source_problem(
            candidate,
            addresses=addresses,
            allowed_roots=allowed,
            blocked_networks=platform.config.builds.blocked_networks,
        )
        if problem:
            raise InvalidInput("source", problem)


async def _addresses(parsed: ParsedUrl) -> list[str]:
    """What the host resolves to (the host itself when it is an address); [] if it does not resolve
    (the clone then fails by itself)."""
    if not parsed.host:
        return []
    literal = literal_address(parsed.host)
    if literal:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(parsed.host, None, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError):
        return []
    return [str(info[4][0]) for info in infos]


async def list_builds(platform: Platform, by: Principal, app: AppPath) -> list[Build]:
    authorize(by, "read", app.system, app.app)
    async with platform.db.unit_of_work() as uow:
        if await uow.applications.get(app) is None:
            raise NotFound(f"application {app.app!r} does not exist in {app.system}")
        return await uow.builds.of_app(app)


async def get_build(platform: Platform, by: Principal, app: AppPath, build_id: str) -> Build:
    authorize(by, "read", app.system, app.app)
    async with platform.db.unit_of_work() as uow:
        found = await uow.builds.get(build_id)
    if found is None or AppPath(found.system, found.app) != app:
        raise NotFound(f"build {build_id!r} does not exist in {app}")
    return found


async def cancel(platform: Platform, by: Principal, app: AppPath, build_id: str) -> Build:
    authorize(by, "deploy", app.system, app.app)
    build = await get_build(platform, by, app, build_id)
    async with platform.db.unit_of_work() as uow:
        if build.status == "queued" and await uow.builds.move(
            build_id, "queued", "cancelled", reason=f"cancelled by {by.name} before it started"
        ):
            pass
        elif not await uow.builds.request_cancel(build_id):
            raise Conflict(f"build {build_id} has ended ({build.status})")
    platform.builds_added.set()
    return await get_build(platform, by, app, build_id)


async def log_lines(
    platform: Platform, by: Principal, app: AppPath, build_id: str, *, after: int = 0
) -> tuple[Build, list[tuple[int, str]]]:
    """The build and its log lines numbered above ``after`` (credentials were redacted on the way in)."""
    build = await get_build(platform, by, app, build_id)
    async with platform.db.unit_of_work() as uow:
        return build, await uow.builds.log_lines(build_id, after=after)
