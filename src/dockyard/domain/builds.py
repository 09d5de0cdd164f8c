"""Builds: from a git commit to an image by digest. Pure records and decisions, no I/O.

A build moves ``queued → cloning → building → pushing → succeeded``; from any unfinished state it may
end ``failed`` (with a reason) or ``cancelled``. :func:`advance` is the only way a state changes.

Untrusted input is checked here: the source URL (:func:`source_problem`, given the addresses its host
resolves to, so the caller does the DNS), the git reference, the Dockerfile path and the build args.
:func:`plan_gc` chooses which images of an application a registry cleanup may delete.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from dockyard.domain.errors import InvalidInput

BuildStatus = Literal["queued", "cloning", "building", "pushing", "succeeded", "failed", "cancelled"]
RefKind = Literal["commit", "branch", "tag"]
REF_KINDS: tuple[RefKind, ...] = ("commit", "branch", "tag")
ENDED: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})
RUNNING: frozenset[str] = frozenset({"cloning", "building", "pushing"})
_NEXT: dict[str, frozenset[str]] = {
    "queued": frozenset({"cloning", "failed", "cancelled"}),
    "cloning": frozenset({"building", "succeeded", "failed", "cancelled"}),  # succeeded: an image reused
    "building": frozenset({"pushing", "failed", "cancelled"}),
    "pushing": frozenset({"succeeded", "failed", "cancelled"}),
}
SCHEMES = ("https", "http", "ssh", "git", "file")
_COMMIT = re.compile(r"[0-9a-f]{7,40}")
_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,199}")
_ARG = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_SCP = re.compile(r"(?:(?P<user>[^@/\s]+)@)?(?P<host>[A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(?P<path>[^\s]*)")
MAX_BUILD_ARGS = 50
_ALWAYS_BLOCKED = tuple(
    ipaddress.ip_network(n)
    for n in ("127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128", "::ffff:0:0/96")
)


@dataclass(frozen=True)
class Source:
    """Where a build's code comes from: a git URL and one reference in it."""

    url: str
    ref_kind: RefKind
    ref: str
    dockerfile: str = "Dockerfile"


@dataclass(frozen=True)
class Build:
    id: str
    system: str
    app: str
    source: Source
    build_args: tuple[tuple[str, str], ...]
    force: bool
    timeout_seconds: int
    status: BuildStatus
    created_by: str
    created_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    commit: str = ""  # the full sha the reference resolved to
    image: str = ""  # repository@sha256:…, set when it succeeded
    tag: str = ""
    reason: str = ""
    reused_from: str = ""
    cancel_requested: bool = False

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def digest(self) -> str:
        return self.image.partition("@")[2]

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds(), 3)


def advance(current: str, to: str) -> str:
    """``to`` if a build in ``current`` may move there, else ValueError (an ended build never moves)."""
    if to not in _NEXT.get(current, frozenset()):
        raise ValueError(f"a build cannot go from {current} to {to}")
    return to


def check_ref(kind: str, ref: str) -> tuple[RefKind, str]:
    """A git reference as given: a commit (7–40 hex), a branch or a tag name (never an option)."""
    if kind not in REF_KINDS:
        raise InvalidInput("ref", f"give one of {', '.join(REF_KINDS)}")
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(kind, f"{kind} must be a non-empty string")
    if kind == "commit" and not _COMMIT.fullmatch(ref):
        raise InvalidInput("commit", f"{ref!r} is not a commit: 7 to 40 lower-case hex digits")
    if kind != "commit" and (not _REF.fullmatch(ref) or ".." in ref or ref.endswith((".lock", "/", "."))):
        raise InvalidInput(kind, f"{ref!r} is not a valid git {kind} name")
    return kind, ref


def check_dockerfile(path: str) -> str:
    """A Dockerfile path inside the checkout: relative, no ``..``; symlinks are checked after the clone."""
    if not isinstance(path, str) or not path or len(path) > 255 or "\0" in path or "\\" in path:
        raise InvalidInput("dockerfile", "dockerfile must be a relative path inside the repository")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise InvalidInput("dockerfile", f"{path!r} leaves the repository: give a relative path without '..'")
    return str(pure)


def check_build_args(args: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    if args is None:
        return ()
    if not isinstance(args, Mapping) or len(args) > MAX_BUILD_ARGS:
        raise InvalidInput("build_args", f"build_args must be an object of at most {MAX_BUILD_ARGS} NAME: value")
    out = []
    for name, value in args.items():
        if not isinstance(name, str) or not _ARG.fullmatch(name):
            raise InvalidInput(f"build_args.{name}", f"{name!r} is not a build argument name")
        if not isinstance(value, str) or len(value) > 4096 or "\n" in value or "\0" in value:
            raise InvalidInput(f"build_args.{name}", "a build argument is one line of at most 4096 characters")
        out.append((name, value))
    return tuple(sorted(out))


@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str  # empty for file://
    path: str
    has_credentials: bool


def parse_source_url(url: str) -> ParsedUrl:
    """A git URL: ``scheme://[user@]host[:port]/path``, scp-like ``user@host:path`` or ``file:///path``
    (a bare absolute path counts as ``file://``)."""
    if not isinstance(url, str) or not url or len(url) > 2000 or any(c.isspace() or c == "\0" for c in url):
        raise InvalidInput("source", "source must be a git URL without spaces")
    if url.startswith("-"):
        raise InvalidInput("source", "source must not start with '-'")
    if url.startswith("/"):
        return ParsedUrl("file", "", url, has_credentials=False)
    if "://" in url:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES:
            raise InvalidInput("source", f"source scheme must be one of {', '.join(SCHEMES)} (got {scheme!r})")
        if scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise InvalidInput("source", "a file:// source names a path on this machine: file:///path")
            return ParsedUrl("file", "", parts.path, has_credentials=False)
        try:
            host = parts.hostname or ""
        except ValueError as e:
            raise InvalidInput("source", f"source has a malformed host: {e}") from e
        if not host or host.startswith("-"):
            raise InvalidInput("source", "source has no valid host")
        return ParsedUrl(scheme, host, parts.path, has_credentials=parts.password is not None)
    scp = _SCP.fullmatch(url)
    if scp is None or scp["host"].startswith("-"):
        raise InvalidInput("source", f"{url!r} is not a git URL (https://…, ssh://…, user@host:path or file:///…)")
    return ParsedUrl("ssh", scp["host"].strip("[]"), scp["path"], has_credentials=False)


def source_problem(
    parsed: ParsedUrl,
    *,
    addresses: Iterable[str],
    allowed_roots: Sequence[str],
    blocked_networks: Sequence[str],
) -> str | None:
    """Why a source may not be fetched (SSRF), or None. ``addresses`` are what its host resolves to
    (and the host itself when it is an address); loopback, link-local (169.254/16, fe80::/10) and the
    ``blocked_networks`` (the clusters' service networks) are refused; a ``file://`` path must lie in
    one of ``allowed_roots``."""
    if parsed.has_credentials:
        return "credentials in the source URL are not accepted: the platform's git credentials are used"
    if parsed.scheme == "file":
        return _file_problem(parsed.path, allowed_roots)
    if parsed.host.lower() in ("localhost", "localhost.localdomain") or parsed.host.lower().endswith(".localhost"):
        return f"source host {parsed.host!r} is this machine (loopback)"
    blocked = [*_ALWAYS_BLOCKED, *(ipaddress.ip_network(n, strict=False) for n in blocked_networks)]
    for raw in addresses:
        try:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        for network in blocked:
            if address.version == network.version and address in network:
                return f"source host {parsed.host!r} resolves to {address}, in the refused network {network}"
    return None


def _file_problem(raw: str, allowed_roots: Sequence[str]) -> str | None:
    path = PurePosixPath(raw)
    if not path.is_absolute() or ".." in path.parts:
        return "a file:// source must be an absolute path without '..'"
    if not any(path == PurePosixPath(r) or PurePosixPath(r) in path.parents for r in allowed_roots):
        return f"file:// sources must lie under an allowed root; {raw!r} does not"
    return None


def literal_address(host: str) -> str | None:
    """``host`` if it is an IP address (also the integer and dotted-octal forms git accepts), else None."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        if host.isdigit():
            return str(ipaddress.ip_address(int(host)))
    except ValueError:
        return None
    return None


def image_tag(commit: str) -> str:
    return f"git-{commit[:12]}"


def redact(line: str, secrets: Iterable[str]) -> str:
    """``line`` with every secret (of 4+ characters) replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            line = line.replace(secret, "***")
    return line


def first_base(dockerfile: str) -> str:
    """The image of the Dockerfile's first ``FROM`` (for ``build.sh``, run on that image), or ''."""
    for raw in dockerfile.splitlines():
        words = raw.strip().split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            rest = [w for w in words[1:] if not w.startswith("--")]
            return rest[0] if rest else ""
    return ""


@dataclass(frozen=True)
class Image:
    """One tag of an application's repository in the registry."""

    tag: str
    digest: str
    size: int


@dataclass(frozen=True)
class GcPlan:
    delete: tuple[str, ...]  # digests
    keep: tuple[str, ...]


def plan_gc(
    images: Sequence[Image],
    *,
    versions: Mapping[str, Sequence[tuple[int, str]]],
    current: Mapping[str, int | None],
    recent_builds: Sequence[str],
    keep: int,
) -> GcPlan:
    """Which digests of an application's images a cleanup may delete.

    Kept: every image a version among the last ``keep`` versions of any group uses (``versions`` maps
    a group to its ``(number, image)``), the image each group runs now (``current``), and the images of
    the application's last ``keep`` succeeded builds (``recent_builds``, digests) — so a rollback to any
    of the last ``keep`` versions finds its image. A version uses an image when its reference names the
    digest, or names the tag. Deleting is by digest: a digest is kept when any of its tags is used.
    """
    if keep < 1:
        raise InvalidInput("keep", "keep must be at least 1")
    used_refs: set[str] = set()
    for group, numbered in versions.items():
        ordered = sorted(numbered, reverse=True)
        running = current.get(group)
        for position, (number, image) in enumerate(ordered):
            if position < keep or number == running:
                used_refs.add(image)
    used_digests = {ref.partition("@")[2] for ref in used_refs if "@" in ref} | set(recent_builds[:keep])
    used_tags = {_tag_of(ref) for ref in used_refs if "@" not in ref}
    keep_set = {i.digest for i in images if i.digest in used_digests or i.tag in used_tags}
    all_digests = {i.digest for i in images}
    return GcPlan(delete=tuple(sorted(all_digests - keep_set)), keep=tuple(sorted(keep_set)))


def _tag_of(ref: str) -> str:
    slash, colon = ref.rfind("/"), ref.rfind(":")
    return ref[colon + 1 :] if colon > slash else ""


def uses(image_ref: str, image: Image) -> bool:
    """True if a version's image reference names this image (by digest or by tag)."""
    if "@" in image_ref:
        return image_ref.partition("@")[2] == image.digest
    return _tag_of(image_ref) == image.tag
