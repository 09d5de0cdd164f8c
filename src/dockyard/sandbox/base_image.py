"""The sandbox's base image: ``FROM scratch`` + Debian's static busybox with its applets installed.

No base image can be pulled on this machine, so the sandbox makes one with buildah (vfs storage and
chroot isolation, both roots inside the sandbox directory: nothing touches the machine's own
container storage) and pushes it to the sandbox registry as :data:`BASE_REPOSITORY`:``busybox``.
It is made once: when the registry already has the tag (its storage lives in the sandbox directory
too), nothing runs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx

from dockyard.sandbox.errors import ComponentError
from dockyard.sandbox.layout import Layout, Ports

BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static (see scripts/setup)
BUILDAH = "buildah"
BASE_REPOSITORY = "dockyard/base"
BASE_TAG = "busybox"
CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
"""


def registry_address(ports: Ports) -> str:
    return f"127.0.0.1:{ports.registry}"


def base_image(ports: Ports) -> str:
    """The base image's reference in the sandbox registry, e.g. ``127.0.0.1:5000/dockyard/base:busybox``."""
    return f"{registry_address(ports)}/{BASE_REPOSITORY}:{BASE_TAG}"


def storage_flags(root: Path) -> list[str]:
    """buildah's global flags keeping its storage under ``root`` (vfs: no fuse, no overlay mounts)."""
    return ["--root", str(root / "storage"), "--runroot", str(root / "run"), "--storage-driver", "vfs"]


def ensure_base_image(layout: Layout, ports: Ports) -> bool:
    """Make and push the base image unless the registry has it; True if it was made now."""
    if _has_tag(ports):
        return False
    if not BUSYBOX.exists() or shutil.which(BUILDAH) is None:
        raise ComponentError("the base image needs buildah and busybox-static: run scripts/setup")
    context = layout.root / "base-image"
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Containerfile").write_text(CONTAINERFILE)
    ref = base_image(ports)
    flags = storage_flags(layout.buildah)
    with layout.log("base-image").open("ab") as log:
        for argv in (
            [BUILDAH, *flags, "bud", "--isolation", "chroot", "--layers=false", "-t", ref, "-f", "Containerfile", "."],
            [BUILDAH, *flags, "push", "--tls-verify=false", ref, f"docker://{ref}"],
        ):
            done = subprocess.run(argv, cwd=context, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False)
            if done.returncode != 0:
                raise ComponentError(
                    f"making the base image failed ({argv[len(flags) + 1]}); see {layout.log('base-image')}"
                )
    return True


def _has_tag(ports: Ports) -> bool:
    url = f"http://{registry_address(ports)}/v2/{BASE_REPOSITORY}/tags/list"
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and BASE_TAG in (response.json().get("tags") or [])
