"""A group's version: everything released together, immutable once made.

:func:`parse_spec` turns user input (plain JSON-like data) into a :class:`VersionSpec` or raises
:class:`InvalidInput` naming the first bad field with its path (``ports[1].port``). :func:`diff`
compares two specs field by field, for "what changes if I release this" and for drift.

Secret env vars (``secret_env: {NAME: value}``) never stay in clear in a spec: :func:`parse_spec`
hands each value to a sealing function (the platform's key: the domain never sees it) and keeps a
:class:`SealedValue`, the sealed token and a keyed fingerprint of the value. :meth:`VersionSpec.to_data`
is the stored form (tokens included, for the database only); :meth:`VersionSpec.masked` is what anyone
may see: each secret as ``<secret:FINGERPRINT-PREFIX>``, which tells a changed value from an unchanged
one without showing either. Errors about secret values name the variable, never its value.

``size`` is what the flavor gave when the version was made (from the catalog passed as ``catalog``, by
default the built-in one); it is stored with the version and never looked up again, so a version keeps
its resources whatever the catalog becomes. A spec given by a user may repeat the size its flavor has
now (as the API shows it) but no other. ``template`` records the component template version and the
parameters that made the version (domain/templates.py); it is set by the platform, never by a user.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from dockyard.domain import names
from dockyard.domain.autoscale import Policy, parse_policy
from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import Flavor, Size, flavor, parse_size
from dockyard.domain.placement import Placement, parse_placement

MAX_INSTANCES = 500
MAX_VERSION = 2**31 - 1  # version numbers are 32-bit integers in the database
MAX_CONFIG_BYTES = 1024 * 1024  # what one ConfigMap can hold
MAX_SECRET_BYTES = 512 * 1024  # all secret values of a version: one Secret holds 1 MiB, base64 adds a third
CONFIG_DIR = "/etc/dockyard/config"
PROTOCOLS = ("TCP", "UDP")
# The port an instance serves its Prometheus metrics on (``/metrics``): Prometheus scrapes the instances
# of a version that declares one (docs/apm.md). It must be TCP.
METRICS_PORT = "metrics"
MAX_UID = 2**31 - 1
RESTRICTED = "restricted"
BASELINE = "baseline"
SECURITY_LEVELS = (RESTRICTED, BASELINE)  # Pod Security Standards a version may run under, tightest first
_MASK = re.compile(r"^<secret(:[0-9a-f]*)?>$")


@dataclass(frozen=True)
class SealedValue:
    """A secret value as a spec holds it: ``token``, the value sealed with the platform's key (opaque
    here), and ``fingerprint``, a keyed digest of the value (equal values, equal fingerprints)."""

    token: str = field(repr=False)
    fingerprint: str

    def masked(self) -> str:
        return f"<secret:{self.fingerprint[:12]}>"


Sealer = Callable[[str], SealedValue]


@dataclass(frozen=True)
class TemplateOrigin:
    """The component template version that made a version, with the parameters it was given (defaults
    filled in). ``owner`` is ``""`` for a platform template, else the system that owns it."""

    name: str
    version: int
    parameters: tuple[tuple[str, Any], ...] = ()
    owner: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"owner": self.owner, "name": self.name, "version": self.version, "parameters": dict(self.parameters)}

    @classmethod
    def from_data(cls, raw: Any) -> TemplateOrigin:
        if not isinstance(raw, Mapping) or not isinstance(raw.get("parameters", {}), Mapping):
            raise InvalidInput("template", "a stored template origin must be an object")
        return cls(
            name=str(raw.get("name", "")),
            version=int(raw.get("version", 0)),
            parameters=tuple(sorted(dict(raw.get("parameters") or {}).items())),
            owner=str(raw.get("owner", "")),
        )


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
    secret_env: tuple[tuple[str, SealedValue], ...] = ()
    placement: Placement | None = None  # where its instances may run (domain/placement.py)
    size: Size | None = None  # the flavor's size when the version was made; None: the built-in flavor's
    template: TemplateOrigin | None = None  # the template version and parameters that made it, if any
    autoscale: Policy | None = None  # how the autoscaler sizes it (domain/autoscale.py)

    @property
    def flavor_spec(self) -> Flavor:
        """The flavor as this version has it: its recorded size (the built-in catalog's without one)."""
        size = self.size or flavor("flavor", self.flavor).size
        return Flavor(self.flavor, size.cpu_millis, size.memory_mib, size.extended)

    @property
    def metrics_port(self) -> int | None:
        """The port Prometheus scrapes the instances' ``/metrics`` on (the one named ``metrics``), if any."""
        return next((p.port for p in self.ports if p.name == METRICS_PORT), None)

    def resources(self) -> dict[str, dict[str, str]]:
        """The container's requests and limits (equal): the size the version was made with."""
        return self.flavor_spec.resources()

    def to_data(self) -> dict[str, Any]:
        """The stored form, which :func:`load_spec` reads back to an equal spec. It holds the sealed
        tokens of secret values: for the database, never for output (see :meth:`masked`)."""
        data = self._plain()
        data["secret_env"] = {k: {"sealed": v.token, "fingerprint": v.fingerprint} for k, v in self.secret_env}
        return data

    def masked(self) -> dict[str, Any]:
        """The spec as anyone may see it: secret values as ``<secret:FINGERPRINT-PREFIX>``."""
        data = self._plain()
        data["secret_env"] = {k: v.masked() for k, v in self.secret_env}
        return data

    def _plain(self) -> dict[str, Any]:
        data = {f: getattr(self, f) for f in self.__dataclass_fields__ if f != "secret_env"}
        data["env"] = dict(self.env)
        data["config_files"] = dict(self.config_files)
        data["pre_stop"] = list(self.pre_stop)
        data["ports"] = [asdict(p) for p in self.ports]
        data["readiness"] = asdict(self.readiness) if self.readiness else None
        data["liveness"] = asdict(self.liveness) if self.liveness else None
        data["placement"] = asdict(self.placement) if self.placement else None
        data["size"] = self.flavor_spec.size.to_data()
        data["template"] = self.template.to_data() if self.template else None
        data["autoscale"] = asdict(self.autoscale) if self.autoscale else None
        return data

    def with_changes(
        self, *, seal: Sealer | None = None, catalog: Mapping[str, Flavor] | None = None, **changes: Any
    ) -> VersionSpec:
        """A new spec with ``changes`` applied and checked like user input. Secret env vars are kept,
        still sealed, unless ``changes`` has ``secret_env``, which replaces them all (sealed by ``seal``).

        The size is kept when the flavor stays and no ``catalog`` is given (a scale: a copy with another
        instance count); otherwise it is the flavor's in ``catalog`` (default: the built-in one). The
        template origin is kept only when the changes touch nothing but ``instances``."""
        changes = dict(changes)
        given_size = changes.pop("size", None)
        if changes.pop("template", None) is not None:
            raise InvalidInput("template", "a template origin is set by deploying a template, not by changes")
        merged = {k: v for k, v in self._plain().items() if k not in ("size", "template")} | changes
        keep = catalog is None and merged.get("flavor") == self.flavor
        size = self.flavor_spec.size if keep else None
        origin = self.template if set(changes) <= {"instances"} else None
        if "secret_env" not in changes:
            spec = _spec(merged, [name for name, _ in self.secret_env], catalog=catalog, size=size)
            spec = replace(spec, secret_env=self.secret_env)
        else:
            pending = _secret_env_input(merged.pop("secret_env") or {}, seal)
            spec = _sealed(_spec(merged, [name for name, _ in pending], catalog=catalog, size=size), pending, seal)
        _same_size(given_size, spec)
        return replace(spec, template=origin)


def parse_spec(
    raw: Mapping[str, Any], *, seal: Sealer | None = None, catalog: Mapping[str, Flavor] | None = None
) -> VersionSpec:
    """Check and normalise a version spec given by a user; raises :class:`InvalidInput` for the first
    bad field. Secret env values are sealed with ``seal`` (a spec with some needs one), once all is checked.
    The flavor is looked up in ``catalog`` (default: the built-in one) and its size recorded; a ``size``
    given must be that one; a ``template`` given must be null (only the platform sets it)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("spec", "a version spec must be an object")
    if raw.get("template") is not None:
        raise InvalidInput("template", "a template origin is set by deploying a template, not in a spec")
    pending = _secret_env_input(raw.get("secret_env") or {}, seal)
    rest = {k: v for k, v in raw.items() if k not in ("secret_env", "size", "template")}
    spec = _sealed(_spec(rest, [name for name, _ in pending], catalog=catalog), pending, seal)
    _same_size(raw.get("size"), spec)
    return spec


def _same_size(given: Any, spec: VersionSpec) -> None:
    """A size given with a spec (as the API shows it) must be the one its flavor gives."""
    if given is not None and parse_size(given) != spec.size:
        assert spec.size is not None
        raise InvalidInput(
            "size",
            f"size comes from the flavor: {spec.flavor!r} is now {spec.flavor_spec.label}; leave size out",
        )


def load_spec(data: Mapping[str, Any]) -> VersionSpec:
    """A spec from its stored form (:meth:`VersionSpec.to_data`), secret values still sealed."""
    stored = data.get("secret_env") or {}
    if not isinstance(stored, Mapping):
        raise InvalidInput("secret_env", "stored secret values must be an object")
    secrets: list[tuple[str, SealedValue]] = []
    for name, value in sorted(stored.items()):
        if not isinstance(value, Mapping) or not isinstance(value.get("sealed"), str):
            raise InvalidInput(f"secret_env.{name}", "a stored secret value must be sealed")
        secrets.append((name, SealedValue(token=value["sealed"], fingerprint=str(value.get("fingerprint", "")))))
    rest = {k: v for k, v in data.items() if k not in ("secret_env", "size", "template")}
    size = parse_size(data["size"]) if data.get("size") is not None else None
    spec = _spec(rest, [name for name, _ in secrets], size=size)
    origin = TemplateOrigin.from_data(data["template"]) if data.get("template") is not None else None
    return replace(spec, secret_env=tuple(secrets), template=origin)


def _sealed(spec: VersionSpec, pending: list[tuple[str, str]], seal: Sealer | None) -> VersionSpec:
    if not pending:
        return spec
    assert seal is not None  # _secret_env_input refused values without a sealer
    return replace(spec, secret_env=tuple((name, seal(value)) for name, value in pending))


def _spec(
    raw: Mapping[str, Any],
    secret_names: list[str],
    *,
    catalog: Mapping[str, Flavor] | None = None,
    size: Size | None = None,
) -> VersionSpec:
    """Every field but ``secret_env``, ``size`` and ``template`` checked (``secret_env`` empty in the
    result), and no name both in env and in ``secret_names``. ``size``: the one to keep; None: the
    flavor's in ``catalog`` (default: the built-in one)."""
    own = {f for f in VersionSpec.__dataclass_fields__ if f not in ("secret_env", "size", "template")}
    unknown = sorted(set(raw) - own)
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    ports = _ports(raw.get("ports") or [])
    security, run_as_user = _security(raw)
    port_numbers = {p.port for p in ports}
    env = _env(raw.get("env") or {})
    both = sorted({k for k, _ in env} & set(secret_names))
    if both:
        raise InvalidInput(f"secret_env.{both[0]}", f"{both[0]} is in env and in secret_env: give it in one only")
    if size is None:
        size = flavor("flavor", _required(raw, "flavor"), catalog).size
    return VersionSpec(
        image=names.image("image", _required(raw, "image")),
        flavor=names.dns_label("flavor", _required(raw, "flavor")),
        size=size,
        instances=_int(raw, "instances", 0, MAX_INSTANCES, required=True),
        ports=ports,
        env=env,
        config_files=_config_files(raw.get("config_files") or {}),
        readiness=_probe(raw.get("readiness"), "readiness", port_numbers),
        liveness=_probe(raw.get("liveness"), "liveness", port_numbers),
        pre_stop=_command(raw.get("pre_stop") or [], "pre_stop"),
        termination_grace_seconds=_int(raw, "termination_grace_seconds", 0, 3600, default=30),
        security=security,
        run_as_user=run_as_user,
        placement=parse_placement(raw.get("placement")),
        autoscale=parse_policy(raw.get("autoscale")),
    )


def diff(old: VersionSpec, new: VersionSpec) -> dict[str, tuple[Any, Any]]:
    """Fields that differ, as ``{field: (old, new)}``; config files, env and secret env per key, secret
    values masked (a changed one shows two different masks)."""
    a, b = _flat(old), _flat(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def _flat(spec: VersionSpec) -> dict[str, Any]:
    data = spec.masked()
    per_key = ("env", "config_files", "secret_env", "autoscale")
    out = {k: v for k, v in data.items() if k not in per_key}
    for section in per_key:
        out.update({f"{section}.{k}": v for k, v in (data[section] or {}).items()})
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
        if name == METRICS_PORT and protocol != "TCP":
            raise InvalidInput(
                f"{where}.protocol", f"the {METRICS_PORT!r} port (Prometheus scrapes it over HTTP) must be TCP"
            )
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


def _secret_env_input(raw: Any, seal: Sealer | None) -> list[tuple[str, str]]:
    """User-given secret env values, checked (not sealed yet), by name; messages never hold a value."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("secret_env", "secret_env must be an object of NAME: value")
    total = 0
    for key, value in raw.items():
        where = f"secret_env.{key}"
        names.env_name(where, key)
        if not isinstance(value, str):
            raise InvalidInput(where, "secret values must be strings")
        if _MASK.fullmatch(value):
            raise InvalidInput(
                where,
                "this is how the API shows a secret, not a value: give the value, or leave secret_env out "
                "of changes to keep the current ones",
            )
        total += len(value.encode())
        if total > MAX_SECRET_BYTES:
            raise InvalidInput(where, f"secret values may hold at most {MAX_SECRET_BYTES // 1024} KiB in all")
    if raw and seal is None:
        raise InvalidInput("secret_env", "secret values cannot be taken here")
    return sorted(raw.items())


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
