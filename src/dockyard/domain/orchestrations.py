"""Orchestration templates: an application of several groups made at once from component templates
(e.g. web + worker + static files), all or nothing.

An :class:`Orchestration` declares typed :class:`~dockyard.domain.templates.Parameter` s and a
:class:`Recipe` per group: its name, environment, cluster, the component template (and version) it is
made from and that template's parameters, where strings may hold the orchestration's placeholders
(``${environment}``, ``${image}``; the same rules as a component template's body).

:func:`plan` is pure: the orchestration's parameters checked (:class:`InvalidInput` on
``parameters.NAME``), placeholders filled, each group's name, environment and cluster checked (on
``groups[i].…``) and no name twice. It does not render the component templates: the service does,
inside the one unit of work that makes everything or nothing (services/orchestrations.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from dockyard.domain import model
from dockyard.domain.errors import InvalidInput
from dockyard.domain.templates import Parameter, placeholders, resolve_parameters, substitute


@dataclass(frozen=True)
class Recipe:
    """One group of an orchestration (strings may hold the orchestration's placeholders)."""

    name: str
    template: str
    environment: str = "${environment}"
    cluster: str = "${cluster}"
    parameters: Mapping[str, Any] = field(default_factory=dict)
    template_version: int | None = None  # None: the template's latest


@dataclass(frozen=True)
class Orchestration:
    name: str
    description: str
    parameters: tuple[Parameter, ...]
    groups: tuple[Recipe, ...]

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "parameters": [p.to_data() for p in self.parameters],
            "groups": [
                {
                    "name": r.name,
                    "template": r.template,
                    "template_version": r.template_version,
                    "environment": r.environment,
                    "cluster": r.cluster,
                    "parameters": dict(r.parameters),
                }
                for r in self.groups
            ],
        }


@dataclass(frozen=True)
class PlannedGroup:
    """A group to make: its name, environment, cluster, and the template render to make its version 1 from."""

    name: str
    environment: str
    cluster: str
    template: str
    template_version: int | None
    parameters: dict[str, Any]


def plan(orchestration: Orchestration, given: Any, *, flavors: Collection[str]) -> list[PlannedGroup]:
    """The groups ``orchestration`` makes with the parameters ``given`` (see the module docstring)."""
    values = resolve_parameters(orchestration.parameters, given, flavors)
    out: list[PlannedGroup] = []
    for i, recipe in enumerate(orchestration.groups):
        where = f"groups[{i}]"
        for path, ref in placeholders(recipe.__dict__, where):
            if ref not in values:
                raise InvalidInput(path, f"${{{ref}}} names no parameter of orchestration {orchestration.name!r}")
        name, environment, cluster = (substitute(v, values) for v in (recipe.name, recipe.environment, recipe.cluster))
        try:
            made = model.new_group("x", "x", name, environment=environment, cluster=cluster)
        except InvalidInput as e:
            raise InvalidInput(f"{where}.{e.field}", str(e)) from e
        if any(g.name == made.name for g in out):
            raise InvalidInput(f"{where}.name", f"group {made.name!r} is planned twice")
        out.append(
            PlannedGroup(
                name=made.name,
                environment=made.environment,
                cluster=made.cluster,
                template=recipe.template,
                template_version=recipe.template_version,
                parameters=dict(substitute(dict(recipe.parameters), values)),
            )
        )
    return out


_IMAGE = Parameter("image", "image", "the web service's image")
BUILTIN_ORCHESTRATIONS: tuple[Orchestration, ...] = (
    Orchestration(
        name="web-worker-static",
        description="A Java web service, a Python worker and nginx for static files, in one environment.",
        parameters=(
            _IMAGE,
            Parameter("worker_image", "image", "the worker's image"),
            Parameter("environment", "enum", "where the groups run", "test", choices=("dev", "test", "prod")),
            Parameter("cluster", "string", "the groups' cluster", "local"),
            Parameter("instances", "int", "instances of each group", 2, minimum=0, maximum=100),
        ),
        groups=(
            Recipe("web", "java-web", parameters={"image": "${image}", "instances": "${instances}", "flavor": "small"}),
            Recipe("worker", "python-worker", parameters={"image": "${worker_image}", "instances": "${instances}"}),
            Recipe("static", "nginx-static", parameters={"instances": "${instances}"}),
        ),
    ),
)
