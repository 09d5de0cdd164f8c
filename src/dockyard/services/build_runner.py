"""The build runner: takes queued builds (at most ``build_concurrency`` at once per process) and drives
each one: clone → (build.sh) → buildah bud → push → image by digest.

Each build runs in a private work directory (mode 0700, removed afterwards) under ``build_dir``; its
log lines are redacted (registry and git credentials) and stored as they come, in small batches.
Leases: a runner holds a lease on each build it drives and renews it every third of the lease; several
servers on one database share the queue (the loop: services/workers.py). **A build interrupted by a
crash is marked failed**, not re-queued: when its lease expires while it is cloning, building or
pushing, any runner ends it ``failed`` with "interrupted" — a half-done build may have pushed or not,
and building again is cheap (the same commit reuses a pushed image). Cancel: the API sets
``cancel_requested``; the runner sees it within a round, cancels the task (which kills buildah or git),
and ends the build ``cancelled``. A build that exceeds its ``timeout_seconds`` is killed and ends
``failed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.domain.builds import Build, first_base, image_tag, redact
from dockyard.domain.errors import DomainError, InvalidInput
from dockyard.domain.failures import BuilderFailure, BuildStepFailed, RegistryFailure, SourceFailure
from dockyard.domain.images import split_reference
from dockyard.domain.model import AppPath
from dockyard.services import builds
from dockyard.services.platform import Platform
from dockyard.services.workers import Look, run_leased, runner_id

LEASE = 15.0
POLL = 0.5
FLUSH = 0.2
BUILD_SCRIPT = "build.sh"
Move = Callable[..., Awaitable[None]]


class Refused(Exception):
    """The checkout cannot be built as asked (no Dockerfile, a path out of the checkout)."""


@dataclass
class LogSink:
    """A build's log: lines redacted, kept in memory for the failure reason, stored in batches."""

    platform: Platform
    build_id: str
    secrets: Sequence[str]
    seq: int = 0
    pending: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)

    def __call__(self, line: str) -> None:
        clean = redact(line, self.secrets)[:4000]
        self.pending.append(clean)
        self.tail = [*self.tail[-19:], clean]

    async def flush(self) -> None:
        if not self.pending:
            return
        lines, self.pending = self.pending, []
        async with self.platform.db.unit_of_work() as uow:
            await uow.builds.append_log(self.build_id, self.seq + 1, lines)
        self.seq += len(lines)

    async def keep_flushing(self) -> None:
        while True:
            await asyncio.sleep(FLUSH)
            with contextlib.suppress(DomainError):
                await self.flush()

    def last_error(self) -> str:
        for line in reversed(self.tail):
            if "error" in line.lower() or "fatal" in line.lower():
                return line.strip()
        return self.tail[-1].strip() if self.tail else ""


async def run_builds(platform: Platform, *, poll: float = POLL, lease: float = LEASE, runner: str = "") -> None:
    """Run until cancelled (cancelling leaves the builds in flight to be marked interrupted later).
    The loop is :func:`dockyard.services.workers.run_leased`: at most ``build_concurrency`` builds at
    once, leases renewed every third of their time."""
    work = _Builds(platform, runner or runner_id(), lease)
    await run_leased(
        work,
        name="build",
        wake=platform.builds_added,
        poll=poll,
        renew_every=lease / 3,
        limit=platform.config.builds.concurrency,
    )


@dataclass
class _Builds:
    """Builds as leased work. One look is one read, and writes only when something is to be done (a
    build to take, a lease to renew, an interrupted build to end), so a busy runner costs the
    database little while its builds run."""

    platform: Platform
    me: str
    lease: float
    swept: float = float("-inf")  # when interrupted builds were last looked for (monotonic)
    builds: dict[str, Build] = field(default_factory=dict)  # the unfinished ones at the last look

    async def look(self, running: frozenset[str]) -> Look:
        now = time.monotonic()
        sweep = now - self.swept > self.lease / 3
        async with self.platform.db.unit_of_work() as uow:
            unfinished = await uow.builds.unfinished()
            interrupted = await uow.builds.interrupted() if sweep else []
        if sweep:
            self.swept = now
        for build_id in interrupted:
            if build_id not in running:
                await _end_interrupted(self.platform, build_id)
        self.builds = {b.id: b for b in unfinished}
        return Look(
            start=[b.id for b in unfinished if b.status == "queued" and b.id not in running],
            stop=[b.id for b in unfinished if b.id in running and b.cancel_requested],
        )

    async def claim(self, item: str) -> bool:
        async with self.platform.db.unit_of_work() as uow:
            return await uow.builds.claim(item, self.me, seconds=self.lease)

    async def renew(self, running: frozenset[str]) -> set[str]:
        """Never reports a lease lost: a build whose lease lapsed is ended ``interrupted`` by the
        runner that sees it, and its own next move then stops it; cancelling it here could cut the
        cleanup of a build that has just ended (its work directory, its local image)."""
        async with self.platform.db.unit_of_work() as uow:
            for build_id in running:
                await uow.builds.claim(build_id, self.me, seconds=self.lease)
        return set()

    async def run(self, item: str) -> None:
        await drive(self.platform, self.builds[item])


async def _end_interrupted(platform: Platform, build_id: str) -> None:
    async with platform.db.unit_of_work() as uow:
        for frm in ("cloning", "building", "pushing"):
            if await uow.builds.move(
                build_id, frm, "failed", reason="interrupted: the server running it stopped; build again"
            ):
                return


async def drive(platform: Platform, build: Build) -> None:
    """Drive one claimed, queued build to its end (see the module docstring)."""
    sink = LogSink(platform, build.id, platform.config.builds.secrets)
    flusher = asyncio.create_task(sink.keep_flushing())
    work_root = platform.config.builds.work_dir
    work_root.mkdir(parents=True, exist_ok=True, mode=0o700)
    workdir = Path(tempfile.mkdtemp(prefix=f"{build.id[:8]}-", dir=work_root))
    state = {"status": "queued"}
    started = time.monotonic()

    async def move(to: str, **values: str) -> None:
        async with platform.db.unit_of_work() as uow:
            if not await uow.builds.move(build.id, state["status"], to, **values):
                raise asyncio.CancelledError  # cancelled (or ended) meanwhile
        state["status"] = to

    try:
        try:
            async with asyncio.timeout(build.timeout_seconds):
                await _steps(platform, build, workdir, sink, move, state)
            sink(f"build {build.id} succeeded in {time.monotonic() - started:.1f}s")
        except TimeoutError:
            sink(f"build timed out after {build.timeout_seconds}s: stopped")
            await _end(platform, build.id, state, "failed", f"timed out after {build.timeout_seconds}s")
        except (SourceFailure, BuildStepFailed, Refused) as e:
            detail = sink.last_error() if isinstance(e, BuildStepFailed) else ""
            reason = f"{e}: {detail}" if detail else str(e)
            sink(f"build failed: {reason}")
            await _end(platform, build.id, state, "failed", redact(reason, sink.secrets))
        except (BuilderFailure, RegistryFailure, OSError) as e:
            sink(f"build failed: {e}")
            await _end(platform, build.id, state, "failed", redact(str(e), sink.secrets))
        except asyncio.CancelledError:
            async with platform.db.unit_of_work() as uow:
                found = await uow.builds.get(build.id)
            if found is None or not found.cancel_requested:
                raise  # this server stops: the build will be marked interrupted
            sink("build cancelled")
            await _end(platform, build.id, state, "cancelled", "cancelled")
    finally:
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        with contextlib.suppress(DomainError):
            await asyncio.shield(sink.flush())
        if state.get("tag"):
            await asyncio.shield(platform.builder.forget(state["tag"]))
        await asyncio.shield(asyncio.to_thread(shutil.rmtree, workdir, True))


async def _end(platform: Platform, build_id: str, state: dict[str, str], to: str, reason: str) -> None:
    async with platform.db.unit_of_work() as uow:
        await uow.builds.move(build_id, state["status"], to, reason=reason[:4000])
    state["status"] = to


async def _steps(
    platform: Platform, build: Build, workdir: Path, sink: LogSink, move: Move, state: dict[str, str]
) -> None:
    async with platform.db.unit_of_work() as uow:
        app = await uow.applications.get(AppPath(build.system, build.app))
    if app is None:
        raise Refused(f"application {build.system}/{build.app} is gone")
    await move("cloning")
    try:  # again, right before git resolves the host: what it resolves to may have changed since the request
        await builds.check_source(platform, build.source.url)
    except InvalidInput as e:
        raise Refused(f"source refused: {e}") from e
    checkout = workdir / "src"
    sink(f"cloning {build.source.url} ({build.source.ref_kind} {build.source.ref})")
    commit = await platform.sources.checkout(
        build.source.url, ref_kind=build.source.ref_kind, ref=build.source.ref, into=checkout, on_line=sink
    )
    sink(f"checked out {commit}")
    async with platform.db.unit_of_work() as uow:
        await uow.builds.set_commit(build.id, commit)
        reusable = (
            None
            if build.force
            else await uow.builds.succeeded_for(
                build.system, build.app, commit, build.source.dockerfile, build.build_args
            )
        )
    if reusable is not None and await _still_there(platform, reusable.image):
        sink(f"commit {commit[:12]} was built by build {reusable.id}: reusing {reusable.image} (force to rebuild)")
        await move("succeeded", image=reusable.image, tag=reusable.tag, reused_from=reusable.id)
        return
    dockerfile = _inside(checkout, build.source.dockerfile)
    tag = f"{app.repository}:{image_tag(commit)}"
    auth = platform.registries.auth(app.repository)
    tool = platform.builder
    script = checkout / BUILD_SCRIPT
    await move("building")
    if script.is_file() and not script.is_symlink():
        base = first_base(dockerfile.read_text(errors="replace"))
        sink(f"running {BUILD_SCRIPT} on {base}")
        await tool.run_script(
            image=base, context=checkout, script=BUILD_SCRIPT, workdir=workdir, auth=auth, on_line=sink
        )
    state["tag"] = tag  # removed from the local storage once the build has ended, whatever the end
    await tool.build(
        context=checkout,
        dockerfile=dockerfile,
        tag=tag,
        build_args=build.build_args,
        workdir=workdir,
        auth=auth,
        on_line=sink,
    )
    await move("pushing")
    digest = await tool.push(tag=tag, workdir=workdir, auth=auth, on_line=sink)
    image = f"{app.repository}@{digest}"
    sink(f"pushed {tag} as {image}")
    await move("succeeded", image=image, tag=image_tag(commit))


def _inside(checkout: Path, relative: str) -> Path:
    """The Dockerfile's real path, refused when it is missing or (through a symlink) leaves the checkout."""
    path = checkout / relative
    if not path.exists() and not path.is_symlink():
        raise Refused(f"the Dockerfile {relative!r} does not exist at this commit")
    real = path.resolve()
    if not real.is_relative_to(checkout.resolve()):
        raise Refused(f"the Dockerfile {relative!r} leads out of the repository (symlink): refused")
    if not real.is_file():
        raise Refused(f"the Dockerfile {relative!r} is not a file")
    return real


async def _still_there(platform: Platform, image: str) -> bool:
    host, path, digest = split_reference(image)
    registry, _ = platform.registries.open(f"{host}/{path}")
    async with registry:
        try:
            return await registry.exists(path, digest)
        except RegistryFailure:
            return False
