"""What to deploy: one :data:`Target`, parsed once at the edge, resolved once into a spec.

A deploy, a release, a placement preview and a new version all say what they want the same way, as
exactly one of:

- :class:`ExistingVersion`: a version the group already has, as it is (no new version);
- :class:`WholeSpec`: a whole version spec;
- :class:`Changes`: changes to the group's latest version (or, for a group with no version yet, to
  the defaults a first version starts from: :data:`FIRST_VERSION_DEFAULTS`).

A spec or changes may name a succeeded ``build`` instead of an ``image``: the build's image, pinned by
digest, is what runs. :func:`parse_target` checks the shape (exactly one of the three, a version
number in range, not both image and build) and raises :class:`InvalidInput` naming the field;
:func:`make_spec` turns a spec or changes into a checked :class:`VersionSpec` without I/O: the
service looks up the latest version and the build's image and passes them in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import Flavor
from dockyard.domain.versions import MAX_VERSION, Sealer, VersionSpec, parse_spec

DEFAULT_FLAVOR = "small"
# What a group's first version made from changes starts from: one instance of the catalog's default
# flavor, no ports; the changes must bring the image (or a build that made one).
FIRST_VERSION_DEFAULTS: Mapping[str, Any] = {"flavor": DEFAULT_FLAVOR, "instances": 1}
MAX_BUILD_ID = 36  # build ids are UUIDs


@dataclass(frozen=True)
class ExistingVersion:
    """A version the group already has, deployed as it is; a number that cannot be a version's is
    :class:`InvalidInput` on ``version`` when made."""

    number: int

    def __post_init__(self) -> None:
        check_version(self.number)


@dataclass(frozen=True)
class WholeSpec:
    """A whole spec as the user gave it (checked by :func:`make_spec`), ``build`` taken out of it."""

    spec: Mapping[str, Any] = field(repr=False)
    build: str | None = None


@dataclass(frozen=True)
class Changes:
    """Changes to the latest version's spec as the user gave them, ``build`` taken out of them."""

    changes: Mapping[str, Any] = field(repr=False)
    build: str | None = None


@dataclass(frozen=True)
class FromTemplate:
    """A component template's ``version`` (None: its latest) rendered with ``parameters``: the
    platform's template ``name``, or the group's system's when ``system`` is set (domain/templates.py)."""

    name: str
    parameters: Mapping[str, Any] = field(default_factory=dict, repr=False)
    version: int | None = None
    system: str = ""


Target = ExistingVersion | WholeSpec | Changes | FromTemplate
NewSpec = WholeSpec | Changes | FromTemplate


def parse_target(
    *,
    version: Any = None,
    spec: Any = None,
    changes: Any = None,
    template: Any = None,
) -> Target:
    """Exactly one of ``version``, ``spec``, ``changes`` or ``template`` (the others None) as a
    :data:`Target`; :class:`InvalidInput` naming the field otherwise."""
    if sum(x is not None for x in (version, spec, changes, template)) != 1:
        raise InvalidInput("version", "give exactly one of version, spec, changes or template")
    if version is not None:
        return ExistingVersion(version)
    if template is not None:
        return parse_template_ref(template)
    if spec is not None:
        raw, build = _without_build(spec, "spec")
        return WholeSpec(raw, build)
    raw, build = _without_build(changes, "changes")
    return Changes(raw, build)


def parse_new_spec(*, spec: Any = None, changes: Any = None, template: Any = None) -> NewSpec:
    """Exactly one of ``spec``, ``changes`` or ``template``: what makes a new version (never an
    existing one)."""
    if sum(x is not None for x in (spec, changes, template)) != 1:
        raise InvalidInput("spec", "give either a whole spec or changes to the latest version (or a template)")
    found = parse_target(spec=spec, changes=changes, template=template)
    assert not isinstance(found, ExistingVersion)
    return found


def parse_template_ref(raw: Any) -> FromTemplate:
    """``{name, version?, system?, parameters?}`` as a :class:`FromTemplate`; :class:`InvalidInput` on
    ``template.…`` otherwise (parameters are checked against the template later)."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("template", "template must be an object: name, version, system, parameters")
    unknown = sorted(set(raw) - {"name", "version", "system", "parameters"})
    if unknown:
        raise InvalidInput(f"template.{unknown[0]}", f"unknown field {unknown[0]!r}")
    name, system, version = raw.get("name"), raw.get("system") or "", raw.get("version")
    if not isinstance(name, str) or not name:
        raise InvalidInput("template.name", "template.name is required")
    if not isinstance(system, str):
        raise InvalidInput("template.system", "template.system must be a system's name")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION
    ):
        raise InvalidInput("template.version", f"template.version must be a version number (got {version!r})")
    parameters = raw.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, Mapping):
        raise InvalidInput("parameters", "parameters must be an object of name: value")
    return FromTemplate(name=name, parameters=dict(parameters), version=version, system=system)


def check_version(version: Any) -> int:
    """``version`` as a version number; :class:`InvalidInput` on ``version`` otherwise."""
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidInput("version", f"version must be a version number (1, 2, ...), got {version!r}")
    return version


def make_spec(
    target: NewSpec,
    *,
    latest: VersionSpec | None,
    image: str | None,
    seal: Sealer,
    catalog: Mapping[str, Flavor] | None = None,
) -> VersionSpec:
    """The checked spec ``target`` makes.

    ``latest`` is the group's latest version's spec (None: the group has none yet); ``image`` is the
    image of ``target.build`` (None when it names no build). Changes apply to ``latest``, or to
    :data:`FIRST_VERSION_DEFAULTS` for a group's first version, which must then get an image (from the
    changes or the build): :class:`InvalidInput` on ``image`` otherwise. Secret env values given are
    sealed with ``seal``; changes without ``secret_env`` keep the latest version's, still sealed. The
    flavor's size is the one it has in ``catalog`` (default: the built-in one) now.
    """
    if isinstance(target, FromTemplate):
        raise ValueError("a template target is rendered by domain/templates.py, with its template")
    if (target.build is None) != (image is None):
        raise ValueError("image is the image of the target's build, and only then")
    extra = {"image": image} if image is not None else {}
    if isinstance(target, WholeSpec):
        return parse_spec({**target.spec, **extra}, seal=seal, catalog=catalog)
    changes = {**target.changes, **extra}
    if latest is not None:
        return latest.with_changes(seal=seal, catalog=catalog, **changes)
    if changes.get("image") in (None, ""):
        raise InvalidInput("image", "the group has no version yet: its first version needs an image or a build")
    return parse_spec({**FIRST_VERSION_DEFAULTS, **changes}, seal=seal, catalog=catalog)


def _without_build(raw: Any, where: str) -> tuple[Mapping[str, Any], str | None]:
    """``raw`` (an object) without its ``build`` key, and that build's id."""
    if not isinstance(raw, Mapping):
        message = (
            "a version spec must be an object" if where == "spec" else "changes must be an object of field: new value"
        )
        raise InvalidInput(where, message)
    if "build" not in raw:
        return raw, None
    build = raw["build"]
    if "image" in raw:
        raise InvalidInput("build", "give either an image or a build, not both")
    if not isinstance(build, str) or not 1 <= len(build) <= MAX_BUILD_ID:
        raise InvalidInput("build", f"build {build!r} is not a build id")
    return {k: v for k, v in raw.items() if k != "build"}, build
