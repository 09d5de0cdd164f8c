"""The actions on a group: `deploy` (with `--dry-run`), `preview`, `scale`, `rollback`, `reconcile`.

Each starts an operation on the server and, unless ``--no-wait``, shows its progress until it ends
(:func:`dockyard.cli.operations.follow`); the command exits 1 when the operation fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.operations import NoWait, follow
from dockyard.cli.output import Format, OutputOpt
from dockyard.cli.placement import show_preview
from dockyard.cli.targets import GroupArg, group_path, pairs, what_to_deploy

Deadline = Annotated[int, typer.Option("--deadline", help="Seconds until the operation fails if not done")]
Force = Annotated[bool, typer.Option("--force", help="Go ahead even if the preview says some instances would not fit")]


def deploy(
    target: GroupArg,
    version: Annotated[int | None, typer.Option("--version", help="Deploy this existing version")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A whole version spec (YAML or JSON file)")] = None,
    image: Annotated[str | None, typer.Option(help="New image (changes the latest, or makes the first)")] = None,
    build: Annotated[str | None, typer.Option("--build", help="A succeeded build: its image, pinned by digest")] = None,
    flavor: Annotated[str | None, typer.Option(help="New flavor: tiny, small, medium, large, xlarge")] = None,
    instances: Annotated[int | None, typer.Option(help="New instance count")] = None,
    env: Annotated[list[str] | None, typer.Option(help="NAME=value (repeatable; replaces env)")] = None,
    secret_env: Annotated[
        list[str] | None,
        typer.Option(
            "--secret-env",
            help="NAME of a secret env var, its value taken from this shell's $NAME, never from the command "
            "line (repeatable; replaces secret env; stored sealed, shown masked)",
        ),
    ] = None,
    config_file: Annotated[
        list[str] | None, typer.Option("--config-file", help="PATH=LOCAL_FILE (repeatable; replaces config files)")
    ] = None,
    reason: str = "",
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    force: Force = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show where the instances would land (the placement preview)")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy a version: an existing one (--version), a whole spec (--spec), or changes to the latest
    (on a group without versions, the changes make its first version; the server fills the rest)."""
    body: dict[str, Any] = {"reason": reason, "deadline_seconds": deadline, "force": force}
    changes: dict[str, Any] = {}
    for key, value in (("image", image), ("build", build), ("flavor", flavor), ("instances", instances)):
        if value is not None:
            changes[key] = value
    if env is not None:
        changes["env"] = pairs(env, "env")
    if secret_env is not None:
        changes["secret_env"] = {name: _from_environment(name) for name in secret_env}
    if config_file is not None:
        changes["config_files"] = {p: _read(f) for p, f in pairs(config_file, "config file").items()}
    flags = "--image, --build, --flavor, --instances, --env, --secret-env, --config-file"
    body |= what_to_deploy(version, spec, changes, flags=flags)
    if dry_run:
        preview = {k: v for k, v in body.items() if k in ("version", "spec", "changes")}
        with client(server, token) as api:
            show_preview(api, group_path(target), preview, Format.table)
        return
    act(target, "deploy", body, no_wait, server, token)


def preview(
    target: GroupArg,
    version: Annotated[int | None, typer.Option("--version", help="An existing version")] = None,
    spec: Annotated[Path | None, typer.Option("--spec", help="A whole version spec (YAML or JSON file)")] = None,
    instances: Annotated[int | None, typer.Option(help="The latest version with this instance count")] = None,
    flavor: Annotated[str | None, typer.Option(help="The latest version with this flavor")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Where a deploy would land: per cluster, how many instances fit and the scheduler's reasons for the
    others (from Dockyard's caches; nothing is created). Exit 1 when some would not fit."""
    changes = {k: v for k, v in (("instances", instances), ("flavor", flavor)) if v is not None}
    body = what_to_deploy(version, spec, changes, flags="--instances, --flavor", required=False)
    with client(server, token) as api:
        show_preview(api, group_path(target), body, output)


def scale(
    target: GroupArg,
    instances: int,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    force: Force = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Run another number of instances (a new version, copy of the running one)."""
    body = {"instances": instances, "deadline_seconds": deadline, "force": force}
    act(target, "scale", body, no_wait, server, token)


def rollback(
    target: GroupArg,
    version: int,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy an earlier version exactly as it was, without rebuilding."""
    body = {"version": version, "deadline_seconds": deadline}
    act(target, "rollback", body, no_wait, server, token)


def reconcile(
    target: GroupArg,
    deadline: Deadline = 300,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Apply the running version again, taking back what was changed by hand."""
    act(target, "reconcile", {"deadline_seconds": deadline}, no_wait, server, token)


def act(target: str, action: str, body: dict[str, Any], no_wait: bool, server: str | None, token: str | None) -> None:
    """POST ``body`` to the group's ``action`` and follow the operation it starts."""
    path = group_path(target)
    with client(server, token) as api:
        follow(api, target, api.post(f"{path}/{action}", body), no_wait)


def _from_environment(name: str) -> str:
    if name not in os.environ:
        fail(f"--secret-env {name}: set ${name} in the environment to its value")
    return os.environ[name]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read config file {path}: {type(e).__name__}")
