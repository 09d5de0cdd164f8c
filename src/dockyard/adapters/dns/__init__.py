"""The DNS server's data: the records files CoreDNS's ``hosts`` plugin reads, in one directory.

:class:`RecordsDirectory` writes each file whole: to a temporary file in the same directory, flushed,
then renamed over the old one, so CoreDNS (which re-reads a file whose modification time or size
changed) never reads half a file; a file whose content is unchanged is not written at all (its
modification time stays, CoreDNS does not re-read it). Files it is not given are left alone.

Errors::

    DnsError   the directory or a file cannot be written (also the domain's ``DnsFailure``)
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from dockyard.domain import failures

__all__ = ["DnsError", "RecordsDirectory"]


class DnsError(failures.DnsFailure):
    pass


class RecordsDirectory:
    """The records files in ``directory`` (made on the first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, files: Mapping[str, str]) -> list[str]:
        """Write every file of ``files`` (name → content) whose content differs from what is there;
        returns the names written. A name must be a plain file name (no directory part)."""
        written = []
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for name, content in sorted(files.items()):
                if not name or Path(name).name != name or name.startswith("."):
                    raise DnsError(f"records file name {name!r} is not a plain file name")
                path = self.directory / name
                if _read(path) == content:
                    continue
                _replace(path, content)
                written.append(name)
        except OSError as e:
            raise DnsError(f"cannot write the DNS records in {self.directory}: {e.strerror or e}") from e
        return written


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return None  # not ours as written: replace it


def _replace(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # CoreDNS may run as another user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
