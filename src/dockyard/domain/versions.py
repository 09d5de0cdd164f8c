"""A group's version: everything released together, immutable once made.

:func:`parse_spec` turns user input (plain JSON-like data) into a :class:`VersionSpec` or raises
:class:`InvalidInput` naming the first bad field with its path (``ports[1].port``). :func:`diff`
compares two specs field by field, for "what changes if I release this" and for drift.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dockyard.domain import names
from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import Flavor, flavor

MAX_INSTANCES = 500
MAX_VERSION = 2**31 - 1  # version numbers are 32-bit integers in the database
MAX_CONFIG_BYTES = 1024 * 1024  # what one ConfigMap can hold
CONFIG_DIR = "/etc/dockyard/config"
PROTOCOLS = ("TCP", "UDP")
MAX_UID = 2**31 - 1
RESTRICTED = "restricted"
BASELINE = "baseline"
SECURITY_LEVELS = (RESTRICTED, BASELINE)  # Pod Security Standards a version may run under, tightest first


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    protocol: str = "TCP"


@dataclass(frozen=True)
class Probe:
    """An HTTP GET on ``path`` (or a TCP connect when ``path`` is empty) to ``port``."""

    port: int
    path: str = ""
    initial_delay_seconds: int = 0
    period_seconds: int = 10


@dataclass(frozen=True)
class VersionSpec:
    image: str
    flavor: str
    instances: int
    ports: tuple[Port, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    config_files: tuple[tuple[str, str], ...] = ()
    readiness: Probe | None = None
    liveness: Probe | None = None
    pre_stop: tuple[str, ...] = ()
    termination_grace_seconds: int = 30
    security: str = RESTRICTED  # the Pod Security Standard its pods meet: restricted or baseline
    run_as_user: int | None = None  # None: the platform's default under restricted, the image's under baseline

    @property
    def flavor_spec(self) -> Flavor:
        return flavor("flavor", self.flavor)

    def to_data(self) -> dict[str, Any]:
        """Plain data that :func:`parse_spec` reads back to an equal spec."""
        data = asdict(self)
        data["env"] = dict(self.env)
        data["config_files"] = dict(self.config_files)
        data["pre_stop"] = list(self.pre_stop)
        data["ports"] = [asdict(p) for p in self.ports]
        return data

    def with_changes(self, **changes: Any) -> VersionSpec:
        """A new spec with ``changes`` applied and checked like user input."""
        return parse_spec({**self.to_data(), **changes})


def parse_spec(raw: Mapping[str, Any]) -> VersionSpec:
    """Check and normalise a version spec; raises :class:`InvalidInput` for the first bad field."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("spec", "a version spec must be an object")
    unknown = sorted(set(raw) - {f.name for f in VersionSpec.__dataclass_fields__.values()})
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    ports = _ports(raw.get("ports") or [])
    security, run_as_user = _security(raw)
    port_numbers = {p.port for p in ports}
    return VersionSpec(
        image=names.image("image", _required(raw, "image")),
        flavor=flavor("flavor", _required(raw, "flavor")).name,
        instances=_int(raw, "instances", 0, MAX_INSTANCES, required=True),
        ports=ports,
        env=_env(raw.get("env") or {}),
        config_files=_config_files(raw.get("config_files") or {}),
        readiness=_probe(raw.get("readiness"), "readiness", port_numbers),
        liveness=_probe(raw.get("liveness"), "liveness", port_numbers),
        pre_stop=_command(raw.get("pre_stop") or [], "pre_stop"),
        termination_grace_seconds=_int(raw, "termination_grace_seconds", 0, 3600, default=30),
        security=security,
        run_as_user=run_as_user,
    )


def diff(old: VersionSpec, new: VersionSpec) -> dict[str, tuple[Any, Any]]:
    """Fields that differ, as ``{field: (old, new)}``; config files and env per key."""
    a, b = _flat(old), _flat(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _flat(spec: VersionSpec) -> dict[str, Any]:
    data = spec.to_data()
    out = {k: v for k, v in data.items() if k not in ("env", "config_files")}
    out.update({f"env.{k}": v for k, v in data["env"].items()})
    out.update({f"config_files.{k}": v for k, v in data["config_files"].items()})
    return out


def _required(raw: Mapping[str, Any], key: str, where: str = "") -> Any:
    if raw.get(key) in (None, ""):
        raise InvalidInput(where + key, f"{key} is required")
    return raw[key]


def _int(
    raw: Mapping[str, Any], key: str, low: int, high: int, *, where: str = "", required: bool = False, default: int = 0
) -> int:
    """``raw[key]`` as an integer in [low, high]; the error names ``where + key``."""
    value = _required(raw, key, where) if required else raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(where + key, f"{key} must be an integer from {low} to {high} (got {value!r})")
    return value


def _ports(raw: Any) -> tuple[Port, ...]:
    if not isinstance(raw, list):
        raise InvalidInput("ports", "ports must be a list")
    out: list[Port] = []
    for i, item in enumerate(raw):
        where = f"ports[{i}]"
        if not isinstance(item, Mapping):
            raise InvalidInput(where, "a port must be an object with name and port")
        name = names.port_name(f"{where}.name", item.get("name", ""))
        number = _int(item, "port", 1, 65535, where=f"{where}.", required=True)
        protocol = item.get("protocol", "TCP")
        if protocol not in PROTOCOLS:
            raise InvalidInput(f"{where}.protocol", f"protocol must be one of {', '.join(PROTOCOLS)}")
        if any(p.port == number and p.protocol == protocol for p in out):
            raise InvalidInput(f"{where}.port", f"port {number}/{protocol} is listed twice")
        if any(p.name == name for p in out):
            raise InvalidInput(f"{where}.name", f"port name {name!r} is listed twice")
        out.append(Port(name=name, port=number, protocol=protocol))
    return tuple(out)


def _env(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping):
        raise InvalidInput("env", "env must be an object of NAME: value")
    for key, value in raw.items():
        names.env_name(f"env.{key}", key)
        if not isinstance(value, str):
            raise InvalidInput(f"env.{key}", "environment values must be strings")
    return tuple(sorted(raw.items()))


def _config_files(raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, Mapping):
        raise InvalidInput("config_files", "config_files must be an object of path: content")
    total = 0
    for path, content in raw.items():
        where = f"config_files.{path}"
        normal = posixpath.normpath(path) if isinstance(path, str) and path else ""
        if not normal or normal == "." or path.startswith("/") or normal != path or normal.startswith(".."):
            raise InvalidInput(where, f"{path!r} must be a relative path inside {CONFIG_DIR}, without '..'")
        if not isinstance(content, str):
            raise InvalidInput(where, "a config file's content must be text")
        total += len(content.encode())
        if total > MAX_CONFIG_BYTES:
            raise InvalidInput(where, f"config files may hold at most {MAX_CONFIG_BYTES // 1024} KiB in all")
    return tuple(sorted(raw.items()))


def _probe(raw: Any, where: str, ports: set[int]) -> Probe | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, f"{where} must be an object with port and optional path")
    port = _int(raw, "port", 1, 65535, where=f"{where}.", required=True)
    if port not in ports:
        raise InvalidInput(f"{where}.port", f"{where} must check one of the version's ports {sorted(ports)}")
    path = raw.get("path", "")
    if path and (not isinstance(path, str) or not path.startswith("/") or " " in path):
        raise InvalidInput(f"{where}.path", "an HTTP check path must start with '/' and hold no spaces")
    return Probe(
        port=port,
        path=path,
        initial_delay_seconds=_int(raw, "initial_delay_seconds", 0, 3600, where=f"{where}."),
        period_seconds=_int(raw, "period_seconds", 1, 3600, where=f"{where}.", default=10),
    )


def _security(raw: Mapping[str, Any]) -> tuple[str, int | None]:
    """``security`` (default restricted) and ``run_as_user`` (none: the platform's default under
    restricted, the image's own user under baseline); only baseline may name root (0)."""
    level = raw.get("security", RESTRICTED)
    if level not in SECURITY_LEVELS:
        raise InvalidInput("security", f"security must be one of {', '.join(SECURITY_LEVELS)} (got {level!r})")
    user = raw.get("run_as_user")
    if user is not None:
        user = _int(raw, "run_as_user", 0, MAX_UID)
        if user == 0 and level == RESTRICTED:
            raise InvalidInput("run_as_user", "a restricted version cannot run as root (0): use security: baseline")
    return level, user


def _command(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(part, str) and part for part in raw):
        raise InvalidInput(where, f"{where} must be a command as a list of non-empty strings")
    return tuple(raw)
