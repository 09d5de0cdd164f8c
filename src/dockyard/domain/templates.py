"""Component templates: a versioned, parameterised version spec.

A :class:`Template` is owned by the platform (``owner`` ``""``) or by a system, and numbered per
``(owner, name)`` from 1; a version is immutable. Its ``body`` is a version spec (image, flavor,
instances, ports, probes, env, config files, placement, hooks…) in which a string may hold
placeholders ``${name}`` of its declared :class:`Parameter` (``$$`` is a literal ``$``). A string that
is exactly one placeholder takes the parameter's typed value (an int stays an int, a bool a bool),
except under ``env``, ``config_files`` and ``pre_stop``, whose values are always text; elsewhere the
value is written into the text (a bool as ``true``/``false``). Map keys are never substituted.

Parameters are typed: ``string``, ``int`` (optional ``minimum``/``maximum``), ``enum`` (``choices``),
``flavor`` (a name in the flavor catalog), ``image`` (an image reference with a tag or digest) and
``bool``; a parameter without a default is required.

Contracts, all pure:

- :func:`parse_template` checks a template an admin or a system owner gives: each parameter and its
  default, every placeholder declared, and the body rendered with sample values a valid spec
  (:class:`InvalidInput` on ``parameters[i].…`` or ``body.…``).
- :func:`resolve_parameters` checks the parameters a user gives: an unknown name, a wrong type or a
  value out of bounds is :class:`InvalidInput` on ``parameters.NAME`` (never dropped); defaults fill
  the rest; a required one missing is refused the same way.
- :func:`make_spec` renders a template into a checked :class:`VersionSpec` whose ``template`` records
  the template version and the parameters (defaults included); an error the rendered spec still has is
  reported on the parameter that made the field, when one did.
- :func:`adoption` is what deploying a newer template version with a group's recorded parameters would
  change (a dry run): the diff, or the parameter error that would refuse it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.domain import names
from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import Flavor
from dockyard.domain.versions import TemplateOrigin, VersionSpec, diff, parse_spec

PARAM_TYPES = ("string", "int", "enum", "flavor", "image", "bool")
MAX_PARAMETERS = 50
MAX_STRING = 4096
MAX_TEMPLATE_VERSION = 2**31 - 1
_PARAM_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")
_PLACEHOLDER = re.compile(r"\$\$|\$\{([^}]*)\}")
_NOT_IN_BODY = ("secret_env", "size", "template")
_TEXT_ONLY = ("env", "config_files", "pre_stop")
_SAMPLE_IMAGE = "registry.local/sample:1"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    description: str = ""
    default: Any = None  # None: required
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    @classmethod
    def from_data(cls, raw: Mapping[str, Any]) -> Parameter:
        """A stored parameter (checked when its template was made)."""
        return cls(
            name=str(raw["name"]),
            type=str(raw["type"]),
            description=str(raw.get("description", "")),
            default=raw.get("default"),
            minimum=raw.get("minimum"),
            maximum=raw.get("maximum"),
            choices=tuple(raw.get("choices") or ()),
        )

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "type": self.type, "description": self.description}
        data["default"] = self.default
        if self.type == "int":
            data |= {"minimum": self.minimum, "maximum": self.maximum}
        if self.type == "enum":
            data["choices"] = list(self.choices)
        return data


@dataclass(frozen=True)
class Template:
    name: str
    version: int
    body: Mapping[str, Any] = field(repr=False)
    parameters: tuple[Parameter, ...] = ()
    description: str = ""
    owner: str = ""  # "" the platform's, else the system's that owns it
    created_by: str = ""
    created_at: dt.datetime | None = None
    builtin: bool = False

    @property
    def ref(self) -> str:
        """``name@version``, ``system:name@version`` for a system's."""
        return f"{self.owner + ':' if self.owner else ''}{self.name}@{self.version}"

    def to_data(self) -> dict[str, Any]:
        """What a template's author gives (:func:`parse_template` reads it back)."""
        return {
            "description": self.description,
            "parameters": [p.to_data() for p in self.parameters],
            "body": dict(self.body),
        }


# parameters --------------------------------------------------------------------------------------
def _parameter(raw: Any, where: str, flavors: Collection[str]) -> Parameter:
    if not isinstance(raw, Mapping):
        raise InvalidInput(where, "a parameter must be an object: name, type, description, default")
    unknown = sorted(set(raw) - {"name", "type", "description", "default", "minimum", "maximum", "choices"})
    if unknown:
        raise InvalidInput(f"{where}.{unknown[0]}", f"unknown field {unknown[0]!r}")
    name = raw.get("name")
    if not isinstance(name, str) or not _PARAM_NAME.fullmatch(name):
        raise InvalidInput(f"{where}.name", f"{name!r} must be a parameter name: a-z first, then a-z, 0-9 and '_'")
    kind = raw.get("type")
    if kind not in PARAM_TYPES:
        raise InvalidInput(f"{where}.type", f"type must be one of {', '.join(PARAM_TYPES)} (got {kind!r})")
    bounds = {k: raw.get(k) for k in ("minimum", "maximum")}
    for key, value in bounds.items():
        if value is not None and (kind != "int" or isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"{where}.{key}", f"{key} is an integer, for an int parameter only")
    if None not in bounds.values() and bounds["minimum"] > bounds["maximum"]:  # type: ignore[operator]
        raise InvalidInput(f"{where}.maximum", "maximum must not be below minimum")
    choices = raw.get("choices")
    if kind == "enum":
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
            raise InvalidInput(f"{where}.choices", "an enum parameter needs choices: a list of non-empty strings")
        if len(set(choices)) != len(choices):
            raise InvalidInput(f"{where}.choices", "choices lists a value twice")
    elif choices is not None:
        raise InvalidInput(f"{where}.choices", "choices are for an enum parameter only")
    param = Parameter(
        name=name,
        type=kind,
        description=names.text(f"{where}.description", raw.get("description", ""), max_length=500),
        minimum=bounds["minimum"],
        maximum=bounds["maximum"],
        choices=tuple(choices or ()),
    )
    if raw.get("default") is not None:
        param = replace(param, default=check_value(param, raw["default"], f"{where}.default", flavors))
    return param


def check_value(param: Parameter, value: Any, where: str, flavors: Collection[str]) -> Any:
    """``value`` if it is one of ``param``'s type and bounds; :class:`InvalidInput` on ``where``."""
    kind = param.type
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidInput(where, f"{param.name} must be true or false (got {value!r})")
        return value
    if kind == "int":
        low = param.minimum if param.minimum is not None else -(2**31)
        high = param.maximum if param.maximum is not None else 2**31 - 1
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(where, f"{param.name} must be an integer from {low} to {high} (got {value!r})")
        return value
    if not isinstance(value, str):
        raise InvalidInput(where, f"{param.name} must be a string (got {value!r})")
    if kind == "enum" and value not in param.choices:
        raise InvalidInput(where, f"{param.name} must be one of {', '.join(param.choices)} (got {value!r})")
    if kind == "flavor" and value not in flavors:
        raise InvalidInput(where, f"{param.name}: unknown flavor {value!r}; known: {', '.join(sorted(flavors))}")
    if kind == "image":
        names.image(where, value)
    if kind == "string":
        names.text(where, value, max_length=MAX_STRING)
    return value


def resolve_parameters(parameters: tuple[Parameter, ...], given: Any, flavors: Collection[str]) -> dict[str, Any]:
    """Every parameter's value: the one given, checked, or its default (see the module docstring)."""
    if given is None:
        given = {}
    if not isinstance(given, Mapping):
        raise InvalidInput("parameters", "parameters must be an object of name: value")
    known = {p.name: p for p in parameters}
    unknown = sorted(set(given) - set(known))
    if unknown:
        choices = ", ".join(sorted(known)) or "none"
        raise InvalidInput(f"parameters.{unknown[0]}", f"unknown parameter {unknown[0]!r}; known: {choices}")
    out: dict[str, Any] = {}
    for p in parameters:
        where = f"parameters.{p.name}"
        if p.name in given:
            out[p.name] = check_value(p, given[p.name], where, flavors)
        elif p.required:
            raise InvalidInput(
                where, f"parameter {p.name!r} is required" + (f": {p.description}" if p.description else "")
            )
        else:
            out[p.name] = p.default
    return out


# substitution ------------------------------------------------------------------------------------
def placeholders(body: Any, where: str = "body") -> list[tuple[str, str]]:
    """Every ``(path, parameter name)`` the body refers to, in order."""
    found: list[tuple[str, str]] = []
    if isinstance(body, Mapping):
        for key, value in body.items():
            found += placeholders(value, f"{where}.{key}")
    elif isinstance(body, list):
        for i, value in enumerate(body):
            found += placeholders(value, f"{where}[{i}]")
    elif isinstance(body, str):
        found += [(where, m.group(1)) for m in _PLACEHOLDER.finditer(body) if m.group(0) != "$$"]
    return found


def substitute(body: Any, values: Mapping[str, Any], *, text_only: bool = False) -> Any:
    """``body`` with every placeholder replaced by its value (see the module docstring)."""
    if isinstance(body, Mapping):
        return {key: substitute(value, values, text_only=text_only or key in _TEXT_ONLY) for key, value in body.items()}
    if isinstance(body, list):
        return [substitute(value, values, text_only=text_only) for value in body]
    if not isinstance(body, str):
        return body
    whole = _PLACEHOLDER.fullmatch(body)
    if whole and whole.group(0) != "$$" and not text_only:
        return values[whole.group(1)]

    def text(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        value = values[m.group(1)]
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    return _PLACEHOLDER.sub(text, body)


# templates ---------------------------------------------------------------------------------------
def parse_template(raw: Any, *, name: str, version: int, owner: str = "", catalog: Mapping[str, Flavor]) -> Template:
    """A template version from its author's ``{description, parameters, body}`` (see the module
    docstring); ``catalog`` is the flavor catalog its flavors and samples are checked against."""
    names.dns_label("name", name, max_length=63, letter_first=True)
    if not isinstance(raw, Mapping):
        raise InvalidInput("template", "a template must be an object: description, parameters, body")
    unknown = sorted(set(raw) - {"description", "parameters", "body"})
    if unknown:
        raise InvalidInput(unknown[0], f"unknown field {unknown[0]!r}")
    given = raw.get("parameters") or []
    if not isinstance(given, list) or len(given) > MAX_PARAMETERS:
        raise InvalidInput("parameters", f"parameters must be a list of at most {MAX_PARAMETERS}")
    params: list[Parameter] = []
    for i, item in enumerate(given):
        param = _parameter(item, f"parameters[{i}]", catalog)
        if any(p.name == param.name for p in params):
            raise InvalidInput(f"parameters[{i}].name", f"parameter {param.name!r} is declared twice")
        params.append(param)
    body = raw.get("body")
    if not isinstance(body, Mapping) or not body:
        raise InvalidInput("body", "body must be a version spec (an object), with ${parameter} placeholders")
    for key in _NOT_IN_BODY:
        if key in body:
            raise InvalidInput(f"body.{key}", f"a template cannot hold {key}" + _WHY.get(key, ""))
    declared = {p.name for p in params}
    for path, ref in placeholders(body):
        if ref not in declared:
            raise InvalidInput(path, f"${{{ref}}} names no declared parameter")
    made = Template(
        name=name,
        version=version,
        body=dict(body),
        parameters=tuple(params),
        description=names.text("description", raw.get("description", ""), max_length=1000),
        owner=owner,
    )
    try:
        make_spec(made, {p.name: sample(p, catalog) for p in params if p.required}, catalog=catalog)
    except InvalidInput as e:
        field_ = e.field if e.field.startswith("parameters.") else f"body.{e.field}"
        raise InvalidInput(field_, f"the body does not make a valid spec: {e}") from e
    return made


_WHY = {"secret_env": " (secret values are given per group, not shared by a template)"}


def sample(param: Parameter, catalog: Mapping[str, Flavor]) -> Any:
    """A value of ``param``'s type a template is checked with when it has no default."""
    if param.type == "int":
        if param.minimum is not None:
            return param.minimum
        return 1 if param.maximum is None or param.maximum >= 1 else param.maximum
    return {
        "string": "sample",
        "enum": param.choices[0] if param.choices else "",
        "flavor": "small" if "small" in catalog else min(catalog, default=""),
        "image": _SAMPLE_IMAGE,
        "bool": False,
    }[param.type]


def make_spec(template: Template, given: Any, *, catalog: Mapping[str, Flavor]) -> VersionSpec:
    """The checked version spec ``template`` makes with the parameters ``given`` (see the module
    docstring), its ``template`` recording the origin."""
    values = resolve_parameters(template.parameters, given, catalog)
    rendered = substitute(template.body, values)
    try:
        spec = parse_spec(rendered, catalog=catalog)
    except InvalidInput as e:
        top = re.split(r"[.\[]", e.field, maxsplit=1)[0]
        refs = [ref for path, ref in placeholders(template.body.get(top), f"body.{top}")]
        if refs:
            raise InvalidInput(f"parameters.{refs[0]}", f"{refs[0]} makes {e.field} invalid: {e}") from e
        raise
    origin = TemplateOrigin(template.name, template.version, tuple(sorted(values.items())), template.owner)
    return replace(spec, template=origin)


@dataclass(frozen=True)
class Adoption:
    """What adopting a template version would change on one group: ``changes`` (``{field: (old,
    new)}``) or the ``error`` (``field``, message) that would refuse it."""

    changes: dict[str, tuple[Any, Any]]
    error: tuple[str, str] | None = None


def adoption(current: VersionSpec, template: Template, *, catalog: Mapping[str, Flavor]) -> Adoption:
    """Deploying ``template`` with the parameters ``current`` was made with, as a dry run."""
    assert current.template is not None
    try:
        made = make_spec(template, dict(current.template.parameters), catalog=catalog)
    except InvalidInput as e:
        return Adoption({}, (e.field, str(e)))
    return Adoption(diff(current, made))
