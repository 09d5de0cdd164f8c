"""Flavors: named instance sizes, a catalog platform admins manage. Requests equal limits, so every
instance is Guaranteed QoS.

A :class:`Flavor` is a name, a :class:`Size` (CPU, memory and optional extended resources such as
``nvidia.com/gpu``) and where it is offered (clusters, pools; empty: everywhere). The catalog lives in
the database; :data:`CATALOG` holds the built-in flavors it is seeded with (migration 0019), which are
also what versions stored before sizes were recorded were made with.

A version records the :class:`Size` its flavor had when the version was made (``VersionSpec.size``):
changing the catalog never changes an existing version, so a rollback never changes size.

Pure decisions here: :func:`parse_flavor` (an admin's input, :class:`InvalidInput` naming the field),
:func:`flavor` (a name in a catalog), :func:`shrinkage` (what an update takes away, refused for a
flavor in use) and :func:`check_offered` (the flavor is offered where the version runs).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain import names
from dockyard.domain.errors import InvalidInput

MAX_CPU_MILLIS = 512_000
MAX_MEMORY_MIB = 4 * 1024 * 1024
MAX_EXTENDED = 1024
MAX_PLACES = 64
# An extended resource is a qualified name outside kubernetes.io: "example.com/thing" (Kubernetes'
# rule for extended resources; cpu, memory and hugepages are not extended resources).
_EXTENDED = re.compile(r"(?=.{1,253}/)[a-z0-9]([-a-z0-9.]*[a-z0-9])?/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")


@dataclass(frozen=True)
class Size:
    """What an instance gets: ``cpu_millis``, ``memory_mib`` and ``extended`` resources by name (whole
    units), as requests and as limits."""

    cpu_millis: int
    memory_mib: int
    extended: tuple[tuple[str, int], ...] = ()

    def resources(self) -> dict[str, dict[str, str]]:
        amounts = {"cpu": f"{self.cpu_millis}m", "memory": f"{self.memory_mib}Mi"}
        amounts |= {name: str(count) for name, count in self.extended}
        return {"requests": dict(amounts), "limits": dict(amounts)}

    def to_data(self) -> dict[str, Any]:
        return {"cpu_millis": self.cpu_millis, "memory_mib": self.memory_mib, "extended": dict(self.extended)}


@dataclass(frozen=True)
class Flavor:
    name: str
    cpu_millis: int
    memory_mib: int
    extended: tuple[tuple[str, int], ...] = ()
    clusters: tuple[str, ...] = ()  # clusters that offer it; () = every cluster
    pools: tuple[str, ...] = ()  # node pools that offer it; () = every pool
    description: str = ""

    @property
    def size(self) -> Size:
        return Size(self.cpu_millis, self.memory_mib, self.extended)

    @property
    def label(self) -> str:
        """As the console shows it, e.g. ``small/1C1024M`` (``gpu-small/4C16384M+1nvidia.com/gpu``)."""
        cores = f"{self.cpu_millis // 1000}" if self.cpu_millis % 1000 == 0 else f"{self.cpu_millis / 1000:g}"
        extra = "".join(f"+{count}{name}" for name, count in self.extended)
        return f"{self.name}/{cores}C{self.memory_mib}M{extra}"

    def resources(self) -> dict[str, dict[str, str]]:
        return self.size.resources()

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "cpu_millis": self.cpu_millis,
            "memory_mib": self.memory_mib,
            "extended": dict(self.extended),
            "clusters": list(self.clusters),
            "pools": list(self.pools),
            "description": self.description,
        }


BUILTIN: tuple[Flavor, ...] = (
    Flavor("tiny", 250, 256),
    Flavor("small", 1000, 1024),
    Flavor("medium", 2000, 4096),
    Flavor("large", 4000, 8192),
    Flavor("xlarge", 8000, 16384),
)
CATALOG: Mapping[str, Flavor] = {f.name: f for f in BUILTIN}


def flavor(field: str, name: str, catalog: Mapping[str, Flavor] | None = None) -> Flavor:
    """The flavor called ``name`` in ``catalog`` (default: the built-in one); :class:`InvalidInput`
    on ``field`` naming the known ones otherwise."""
    known = CATALOG if catalog is None else catalog
    found = known.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidInput(field, f"unknown flavor {name!r}; known: {', '.join(known)}")
    return found


def parse_size(raw: Any, where: str = "size") -> Size:
    """A stored or given size: ``{cpu_millis, memory_mib, extended?}``."""
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "a size must be an object with cpu_millis and memory_mib")
    unknown = sorted(set(raw) - {"cpu_millis", "memory_mib", "extended"})
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown field {unknown[0]!r}")
    return Size(
        cpu_millis=_amount(raw, "cpu_millis", MAX_CPU_MILLIS, where),
        memory_mib=_amount(raw, "memory_mib", MAX_MEMORY_MIB, where),
        extended=_extended(raw.get("extended") or {}, f"{where}.extended" if where else "extended"),
    )


def parse_flavor(raw: Any) -> Flavor:
    """An admin's flavor: ``name`` (a DNS label), ``cpu_millis``, ``memory_mib``, optional
    ``extended`` ``{example.com/gpu: 1}``, ``clusters`` and ``pools`` (names; empty: everywhere) and
    ``description``. :class:`InvalidInput` naming the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("flavor", "a flavor must be an object")
    unknown = sorted(set(raw) - {"name", "cpu_millis", "memory_mib", "extended", "clusters", "pools", "description"})
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    size = parse_size({k: raw[k] for k in ("cpu_millis", "memory_mib", "extended") if k in raw}, "")
    return Flavor(
        name=names.dns_label("name", raw.get("name", ""), max_length=40, letter_first=True),
        cpu_millis=size.cpu_millis,
        memory_mib=size.memory_mib,
        extended=size.extended,
        clusters=_places(raw.get("clusters") or [], "clusters"),
        pools=_places(raw.get("pools") or [], "pools"),
        description=names.text("description", raw.get("description", ""), max_length=500),
    )


def shrinkage(old: Flavor, new: Flavor) -> list[str]:
    """What ``new`` takes away from ``old``, as field names: less CPU, memory or of an extended
    resource, or fewer clusters or pools offering it. Empty when ``new`` only grows or keeps."""
    out = []
    if new.cpu_millis < old.cpu_millis:
        out.append("cpu_millis")
    if new.memory_mib < old.memory_mib:
        out.append("memory_mib")
    had, has = dict(old.extended), dict(new.extended)
    out += [f"extended.{name}" for name, count in sorted(had.items()) if has.get(name, 0) < count]
    for where in ("clusters", "pools"):
        before, after = set(getattr(old, where)), set(getattr(new, where))
        if after and (not before or not before <= after):
            out.append(where)
    return out


def check_offered(found: Flavor, *, clusters: Collection[str], pool: str | None) -> None:
    """:class:`InvalidInput` on ``flavor`` unless ``found`` is offered in every one of ``clusters``
    and, when it is limited to some pools, the version's placement names one of them."""
    if found.clusters:
        missing = sorted(set(clusters) - set(found.clusters))
        if missing:
            raise InvalidInput(
                "flavor",
                f"flavor {found.name!r} is not offered in cluster {missing[0]!r} (only in {', '.join(found.clusters)})",
            )
    if found.pools and pool not in found.pools:
        raise InvalidInput(
            "flavor",
            f"flavor {found.name!r} is offered only in pools {', '.join(found.pools)}: "
            f"set placement.pool to one of them",
        )


def ceiling(sizes: Iterable[Size]) -> Size:
    """The most CPU and the most memory of ``sizes`` (not necessarily of one of them), for a
    namespace's LimitRange cap; extended resources are not capped."""
    known = list(sizes)
    return Size(max(s.cpu_millis for s in known), max(s.memory_mib for s in known))


def _amount(raw: Mapping[str, Any], key: str, high: int, where: str) -> int:
    value = raw.get(key)
    path = f"{where}.{key}" if where else key
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise InvalidInput(path, f"{key} must be an integer from 1 to {high} (got {value!r})")
    return value


def _extended(raw: Any, where: str) -> tuple[tuple[str, int], ...]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "extended must be an object of resource name: count, e.g. {nvidia.com/gpu: 1}")
    for name, count in raw.items():
        path = f"{where}.{name}"
        if not isinstance(name, str) or not _EXTENDED.fullmatch(name) or name.split("/")[0].endswith("kubernetes.io"):
            raise InvalidInput(path, f"{name!r} is not an extended resource name such as nvidia.com/gpu")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_EXTENDED:
            raise InvalidInput(path, f"an extended resource's count must be an integer from 1 to {MAX_EXTENDED}")
    return tuple(sorted(raw.items()))


def _places(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_PLACES:
        raise InvalidInput(where, f"{where} must be a list of at most {MAX_PLACES} names")
    for i, name in enumerate(raw):
        names.dns_label(f"{where}[{i}]", name)
    if len(set(raw)) != len(raw):
        raise InvalidInput(where, f"{where} lists a name twice")
    return tuple(sorted(raw))
