"""`dockyard template ...`: component templates, the platform's or a system's (``--system``): list,
show, render, create (a new version from a file), adoption (the dry run for the groups a template
made) and deploy (a group from a template and parameters, made first with ``--env``).

Parameters are ``-p NAME=VALUE``; a value is sent as the parameter's type (an ``int`` as a number, a
``bool`` from true/false), which the command reads from the template first, so the server checks it
and refuses a bad one naming ``parameters.NAME``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.deploys import Deadline
from dockyard.cli.errors import fail
from dockyard.cli.operations import NoWait, follow
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import GroupArg, group_path, load_spec, pairs, split

templates = typer.Typer(help="Component templates: parameterised version specs.", no_args_is_help=True)
_COLUMNS = [
    ("NAME", k("name")),
    ("VERSION", k("version")),
    ("SYSTEM", lambda t: t["system"] or "(platform)"),
    ("BUILT IN", k("builtin")),
    ("PARAMETERS", lambda t: ", ".join(p["name"] + ("" if p["default"] is not None else "*") for p in t["parameters"])),
    ("DESCRIPTION", k("description")),
]
_PARAMETERS = [
    ("PARAMETER", k("name")),
    (
        "TYPE",
        lambda p: (
            p["type"]
            + (f" {p['minimum']}..{p['maximum']}" if p["type"] == "int" else "")
            + (f" {'|'.join(p['choices'])}" if p["type"] == "enum" else "")
        ),
    ),
    ("DEFAULT", lambda p: "(required)" if p["default"] is None else p["default"]),
    ("DESCRIPTION", k("description")),
]
System = Annotated[str | None, typer.Option("--system", help="A system's own template (default: the platform's)")]
Version = Annotated[int | None, typer.Option("--version", help="A version of the template (default: its latest)")]
Params = Annotated[list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE (repeatable)")]


def _base(system: str | None) -> str:
    return f"/api/v1/systems/{segment(system)}/templates" if system else "/api/v1/templates"


@templates.command("list")
def template_list(
    system: System = None, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The latest version of each template (* marks a required parameter)."""
    with client(server, token) as api:
        show(api.get(_base(system)), output, _COLUMNS)


@templates.command("show")
def template_show(
    name: str,
    version: Version = None,
    system: System = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """A template's version, its parameters and body."""
    with client(server, token) as api:
        found = api.get(f"{_base(system)}/{segment(name)}", **({"version": version} if version else {}))
    if output.structured:
        show(found, output)
        return
    versions = ", ".join(map(str, found["versions"]))
    print(f"{found['name']} version {found['version']} (versions: {versions}): {found['description']}")
    show(found["parameters"], output, _PARAMETERS)
    print(json.dumps(found["body"], indent=2))


@templates.command("render")
def template_render(
    name: str,
    param: Params = None,
    version: Version = None,
    system: System = None,
    output: OutputOpt = Format.yaml,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The version spec the template makes with these parameters (nothing is stored)."""
    with client(server, token) as api:
        values = _typed(api, system, name, version, param or [])
        body: dict[str, Any] = {"parameters": values} | ({"version": version} if version else {})
        show(api.post(f"{_base(system)}/{segment(name)}/render", body), output)


@templates.command("create")
def template_create(
    name: str,
    file: Annotated[Path, typer.Option("--file", "-f", help="YAML or JSON: description, parameters, body")],
    system: System = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add the template's next version (1 for a new name): platform admins, or a system's owners with
    --system. Groups made from older versions change only when they deploy it."""
    raw = load_spec(file)
    if not isinstance(raw, dict):
        fail(f"{file} must hold an object: description, parameters, body")
    with client(server, token) as api:
        show(api.post(f"{_base(system)}/{segment(name)}/versions", raw), output, _COLUMNS)


@templates.command("adoption")
def template_adoption(
    name: str,
    version: Version = None,
    system: System = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Dry run: what deploying this version would change in each group the template made."""
    with client(server, token) as api:
        found = api.get(f"{_base(system)}/{segment(name)}/adoption", **({"version": version} if version else {}))
    if output.structured:
        show(found, output)
        return
    print(f"adopting {found['template']}: {len(found['groups'])} group(s)")
    for g in found["groups"]:
        head = f"{g['group']} (version {g['current_version']}, from template version {g['from_version']})"
        if g["error"]:
            print(f"{head}: would be refused: {g['error']['field']}: {g['error']['message']}")
            continue
        print(f"{head}: {len(g['changes'])} change(s)")
        for c in g["changes"]:
            print(f"  {c['field']}: {c['expected']!r} -> {c['live']!r}")


@templates.command("deploy")
def template_deploy(
    name: str,
    target: GroupArg,
    param: Params = None,
    version: Version = None,
    system: System = None,
    env: Annotated[str | None, typer.Option("--env", help="Make the group first, in dev, test or prod")] = None,
    cluster: Annotated[str, typer.Option(help="The new group's cluster (with --env)")] = "local",
    reason: str = "",
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy a new version of SYSTEM/APP/GROUP made from the template and parameters (with --env, the
    group is made first). The version records the template version and the parameters."""
    group_system, app, group = split(target, 3, "SYSTEM/APP/GROUP")
    if system and system != group_system:
        fail(f"a template of system {system!r} is for that system's groups only")
    with client(server, token) as api:
        values = _typed(api, system, name, version, param or [])
        if env is not None:
            path = f"/api/v1/systems/{segment(group_system)}/apps/{segment(app)}/groups"
            api.post(path, {"name": group, "environment": env, "cluster": cluster})
        ref: dict[str, Any] = {"name": name, "parameters": values}
        ref |= ({"version": version} if version else {}) | ({"system": system} if system else {})
        body = {"template": ref, "reason": reason, "deadline_seconds": deadline}
        follow(api, target, api.post(f"{group_path(target)}/deploy", body), no_wait)


def _typed(api: Client, system: str | None, name: str, version: int | None, given: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` pairs as the template's parameter types want them (the server checks them)."""
    values: dict[str, Any] = dict(pairs(given, "--param"))
    found = api.get(f"{_base(system)}/{segment(name)}", **({"version": version} if version else {}))
    kinds = {p["name"]: p["type"] for p in found["parameters"]}
    for key, value in values.items():
        if kinds.get(key) == "int" and value.lstrip("-").isdigit():
            values[key] = int(value)
        elif kinds.get(key) == "bool" and value.lower() in ("true", "false"):
            values[key] = value.lower() == "true"
    return values


@templates.command("orchestrations")
def template_orchestrations(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Orchestration templates: an application of several groups from component templates."""
    columns = [
        ("NAME", k("name")),
        ("GROUPS", lambda o: ", ".join(f"{g['name']} ({g['template']})" for g in o["groups"])),
        (
            "PARAMETERS",
            lambda o: ", ".join(p["name"] + ("" if p["default"] is not None else "*") for p in o["parameters"]),
        ),
        ("DESCRIPTION", k("description")),
    ]
    with client(server, token) as api:
        show(api.get("/api/v1/orchestrations"), output, columns)


@templates.command("orchestrate")
def template_orchestrate(
    name: str,
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP")],
    param: Params = None,
    repository: Annotated[str, typer.Option(help="The application's image repository, when it is made")] = "",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Make SYSTEM/APP (when new) and every group of the orchestration template, each with its first
    version and a deploy of it — all or nothing (the system's owners)."""
    system, app = split(target, 2, "SYSTEM/APP")
    values: dict[str, Any] = dict(pairs(param or [], "--param"))
    with client(server, token) as api:
        found = {o["name"]: o for o in api.get("/api/v1/orchestrations")}.get(name)
        kinds = {p["name"]: p["type"] for p in (found or {}).get("parameters", [])}
        for key, value in values.items():
            if kinds.get(key) == "int" and value.lstrip("-").isdigit():
                values[key] = int(value)
        body = {"orchestration": name, "repository": repository, "parameters": values}
        made = api.post(f"/api/v1/systems/{segment(system)}/apps/{segment(app)}/orchestrate", body)
    show(made["groups"], output, [("GROUP", k("group")), ("VERSION", k("version")), ("DEPLOY", k("operation"))])
