"""Image builds with buildah: daemonless, ``vfs`` storage and ``chroot`` isolation under a root of
Dockyard's own, so builds run without Docker and touch nothing of the machine's container storage.

Errors (also the domain's ``BuilderFailure`` and ``BuildStepFailed``)::

    BuilderError          buildah is missing or cannot run
    └── StepFailed        a step (build.sh, bud, push) exited non-zero; ``step`` names it

Credentials for registries reach buildah through an auth file (``REGISTRY_AUTH_FILE``, mode 0600 in
the build's private directory), never its command line. Cancelling the awaiting task kills the tool.
"""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import Sequence
from pathlib import Path

from dockyard.adapters.process import OnLine, base_env, run
from dockyard.domain.failures import BuilderFailure, BuildStepFailed
from dockyard.domain.images import RegistryAuth

BUILDAH = "buildah"


class BuilderError(BuilderFailure):
    pass


class StepFailed(BuilderError, BuildStepFailed):
    pass


class Buildah:
    def __init__(self, root: Path, *, insecure_hosts: Sequence[str] = ()) -> None:
        self._root = root
        self._insecure = tuple(insecure_hosts)

    def _flags(self) -> list[str]:
        return ["--root", str(self._root / "storage"), "--runroot", str(self._root / "run"), "--storage-driver", "vfs"]

    def _env(self, workdir: Path, auth: Sequence[RegistryAuth]) -> dict[str, str]:
        auth_file = workdir / "auth.json"
        entries = {a.host: {"auth": base64.b64encode(f"{a.username}:{a.password}".encode()).decode()} for a in auth}
        auth_file.touch(mode=0o600)
        auth_file.write_text(json.dumps({"auths": entries}))
        return base_env(REGISTRY_AUTH_FILE=str(auth_file), BUILDAH_ISOLATION="chroot", TMPDIR=str(workdir))

    def _tls(self, ref: str) -> list[str]:
        host = ref.split("/", 1)[0]
        return ["--tls-verify=false"] if host in self._insecure or host.startswith(("127.0.0.1:", "localhost:")) else []

    def available(self) -> bool:
        return shutil.which(BUILDAH) is not None

    async def build(
        self,
        *,
        context: Path,
        dockerfile: Path,
        tag: str,
        build_args: Sequence[tuple[str, str]],
        workdir: Path,
        auth: Sequence[RegistryAuth],
        on_line: OnLine,
    ) -> None:
        """``buildah bud`` of ``context`` with ``dockerfile``, tagged ``tag`` in Dockyard's storage."""
        args = [f"--build-arg={k}={v}" for k, v in build_args]
        argv = [BUILDAH, *self._flags(), "bud", "--isolation", "chroot", "--layers=false", *self._tls(tag), *args]
        argv += ["-f", str(dockerfile), "-t", tag, str(context)]
        code = await run(argv, cwd=context, env=self._env(workdir, auth), on_line=on_line)
        if code != 0:
            raise StepFailed("build", code)

    async def run_script(
        self, *, image: str, context: Path, script: str, workdir: Path, auth: Sequence[RegistryAuth], on_line: OnLine
    ) -> None:
        """Run ``script`` (e.g. build.sh) with ``sh`` in a container of ``image``, the checkout mounted
        read-write at /workspace, under chroot isolation (never on this machine itself)."""
        env = self._env(workdir, auth)
        names: list[str] = []
        code = await run(
            [BUILDAH, *self._flags(), "from", "--quiet", *self._tls(image), image], env=env, on_line=names.append
        )
        if code != 0 or not names:
            raise StepFailed(f"{script} (preparing {image})", code)
        container = names[-1].strip()
        try:
            code = await run(
                [
                    BUILDAH,
                    *self._flags(),
                    "run",
                    "--isolation",
                    "chroot",
                    "--volume",
                    f"{context}:/workspace",
                    "--workingdir",
                    "/workspace",
                    container,
                    "--",
                    "sh",
                    script,
                ],
                env=env,
                on_line=on_line,
            )
        finally:
            await run([BUILDAH, *self._flags(), "rm", container], env=env, on_line=lambda _l: None)
        if code != 0:
            raise StepFailed(script, code)

    async def push(self, *, tag: str, workdir: Path, auth: Sequence[RegistryAuth], on_line: OnLine) -> str:
        """Push ``tag`` to its registry; returns the pushed manifest's digest (``sha256:…``)."""
        digest_file = workdir / "digest"
        argv = [BUILDAH, *self._flags(), "push", *self._tls(tag), "--retry=0", "--digestfile", str(digest_file)]
        argv += [tag, f"docker://{tag}"]
        code = await run(argv, env=self._env(workdir, auth), on_line=on_line)
        if code != 0:
            raise StepFailed("push", code)
        return digest_file.read_text().strip()

    async def forget(self, tag: str) -> None:
        """Remove ``tag`` from the local storage (the registry keeps it); errors are ignored."""
        await run([BUILDAH, *self._flags(), "rmi", "--force", tag], env=base_env(), on_line=lambda _l: None)
