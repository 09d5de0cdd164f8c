"""Dockyard's sample service (``examples/sample-service``: Go, standard library only) as a build source:
the binary built once per source (``go build``, static, cached under ``~/.cache/dockyard/sample-service/
<hash of the source>``) and committed with a Dockerfile ``FROM`` the sandbox's base image into a git
repository that Dockyard builds like any other."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from dockyard.sandbox.binaries import cache_root, find_go

SOURCE = Path(__file__).resolve().parents[3] / "examples" / "sample-service"
DOCKERFILE = """\
FROM {base}
COPY sample-service /usr/local/bin/sample-service
CMD ["/usr/local/bin/sample-service"]
"""


def source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(SOURCE.glob("*")):
        if path.suffix in (".go", ".mod"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def binary() -> Path:
    """The sample service's static binary, built the first time for this source."""
    done = cache_root() / "sample-service" / source_hash() / "sample-service"
    if done.exists():
        return done
    done.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    with tempfile.TemporaryDirectory(dir=done.parent) as work:
        out = Path(work) / "sample-service"
        argv = [str(find_go()), "build", "-trimpath", "-ldflags=-s -w", "-o", str(out), "."]
        built = subprocess.run(argv, cwd=SOURCE, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert built.returncode == 0, built.stdout + built.stderr
        out.replace(done)
    return done


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    env["PATH"] = "/usr/bin:/bin"
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True).stdout.strip()


def repository(root: Path, base_image: str) -> tuple[Path, str]:
    """A git repository under ``root`` holding the binary and its Dockerfile; (its path, the commit)."""
    repo = root / "sample-service"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    shutil.copy2(binary(), repo / "sample-service")
    (repo / "sample-service").chmod(0o755)
    (repo / "Dockerfile").write_text(DOCKERFILE.format(base=base_image))
    git(repo, "add", "sample-service", "Dockerfile")
    git(repo, "commit", "-q", "-m", "the sample service")
    return repo, git(repo, "rev-parse", "HEAD")
