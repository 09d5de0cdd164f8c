"""The sandbox's base image: ``FROM scratch`` + Debian's static busybox with its applets installed.

No base image can be pulled on this machine, so the sandbox makes one with buildah (vfs storage and
chroot isolation, both roots inside the sandbox directory: nothing touches the machine's own
container storage) and pushes it to the sandbox registry as :data:`BASE_REPOSITORY`:``busybox``.
It is made once: when the registry already has the tag (its storage lives in the sandbox directory
too), nothing runs. A real node's pause image (:func:`ensure_pause_image`) is made the same way.
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
PAUSE_REPOSITORY = "dockyard/pause"
# A real node's pod sandbox holds the pod's namespaces and does nothing (no image can be pulled here).
PAUSE_CONTAINERFILE = """\
FROM scratch
COPY busybox /bin/busybox
ENTRYPOINT ["/bin/busybox", "sleep", "2147483647"]
"""


def registry_address(ports: Ports) -> str:
    return f"127.0.0.1:{ports.registry}"


def base_image(ports: Ports) -> str:
    """The base image's reference in the sandbox registry, e.g. ``127.0.0.1:5000/dockyard/base:busybox``."""
    return f"{registry_address(ports)}/{BASE_REPOSITORY}:{BASE_TAG}"


def storage_flags(root: Path) -> list[str]:
    """buildah's global flags keeping its storage under ``root`` (vfs: no fuse, no overlay mounts)."""
    return ["--root", str(root / "storage"), "--runroot", str(root / "run"), "--storage-driver", "vfs"]


def pause_image(ports: Ports) -> str:
    """The real nodes' pause (sandbox) image in the sandbox registry."""
    return f"{registry_address(ports)}/{PAUSE_REPOSITORY}:{BASE_TAG}"


def ensure_base_image(layout: Layout, ports: Ports) -> bool:
    """Make and push the base image unless the registry has it; True if it was made now."""
    return _ensure(layout, ports, "base-image", BASE_REPOSITORY, CONTAINERFILE)


def ensure_pause_image(layout: Layout, ports: Ports) -> bool:
    """Make and push the pause image (busybox sleeping forever) unless the registry has it."""
    return _ensure(layout, ports, "pause-image", PAUSE_REPOSITORY, PAUSE_CONTAINERFILE)


def _ensure(layout: Layout, ports: Ports, name: str, repository: str, containerfile: str) -> bool:
    if _has_tag(ports, repository):
        return False
    if not BUSYBOX.exists() or shutil.which(BUILDAH) is None:
        raise ComponentError(f"the {name.replace('-', ' ')} needs buildah and busybox-static: run scripts/setup")
    context = layout.root / name
    context.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BUSYBOX, context / "busybox")
    (context / "Containerfile").write_text(containerfile)
    ref = f"{registry_address(ports)}/{repository}:{BASE_TAG}"
    flags = storage_flags(layout.buildah)
    with layout.log(name).open("ab") as log:
        for argv in (
            [BUILDAH, *flags, "bud", "--isolation", "chroot", "--layers=false", "-t", ref, "-f", "Containerfile", "."],
            [BUILDAH, *flags, "push", "--tls-verify=false", ref, f"docker://{ref}"],
        ):
            done = subprocess.run(argv, cwd=context, stdout=log, stderr=subprocess.STDOUT, timeout=300, check=False)
            if done.returncode != 0:
                raise ComponentError(f"making the {name} failed ({argv[len(flags) + 1]}); see {layout.log(name)}")
    return True


def _has_tag(ports: Ports, repository: str) -> bool:
    url = f"http://{registry_address(ports)}/v2/{repository}/tags/list"
    try:
        response = httpx.get(url, timeout=5.0)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and BASE_TAG in (response.json().get("tags") or [])
