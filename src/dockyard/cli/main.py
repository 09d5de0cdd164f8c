"""The `dockyard` command.

Its commands are made when they are used: a click command is built from a typer function by reading
its signature and type hints (~1 ms a command, 71 of them), and a command module is imported only
for the command it holds. So `dockyard system list` imports typer and `cli/systems.py` (which
imports the standard library's ``http.client`` when it sends its first request) and builds the four
`system` commands; `dockyard --help`
lists them all. The server, the database, the sandbox package and rich are imported inside the
commands that use them. `tests/unit/cli/test_startup.py` holds this by the modules imported.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import typer
from typer.core import TyperGroup

# name: (module in dockyard.cli, attribute): a typer.Typer (a command group) or a command function,
# in the order `dockyard --help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("server", "server"),
    "up": ("server", "up"),
    "login": ("identity", "login"),
    "logout": ("identity", "logout"),
    "gc": ("placement", "gc"),
    "deploy": ("deploys", "deploy"),
    "preview": ("deploys", "preview"),
    "scale": ("deploys", "scale"),
    "rollback": ("deploys", "rollback"),
    "reconcile": ("deploys", "reconcile"),
    "instances": ("groups", "instances"),
    "instance": ("instances", "instance"),
    "versions": ("groups", "versions"),
    "diff": ("groups", "diff"),
    "history": ("operations", "history"),
    "top": ("metrics", "top"),
    "metrics": ("metrics", "metrics"),
    "apm": ("apm", "apm"),
    "logs": ("logs", "logs"),
    "sandbox": ("sandbox", "app"),
    "token": ("identity", "tokens"),
    "user": ("identity", "users"),
    "member": ("identity", "members"),
    "cluster": ("clusters", "clusters"),
    "system": ("systems", "systems"),
    "app": ("apps", "apps"),
    "group": ("groups", "groups"),
    "operation": ("operations", "operations"),
    "audit": ("audit", "app"),
    "release": ("release", "app"),
    "edge": ("edge", "edge"),
    "build": ("builds", "builds"),
    "images": ("builds", "images"),
    "registry": ("builds", "registry"),
    "pool": ("placement", "pools"),
    "location": ("location", "app"),
    "alerts": ("alerts", "alerts"),
    "alert-rules": ("alerts", "rules"),
    "channels": ("alerts", "channels"),
    "flavor": ("flavors", "flavors"),
    "template": ("templates", "templates"),
    "inspect": ("inspections", "inspect"),
    "db": ("server", "db"),
    "autoscale": ("autoscale", "autoscale"),
    "stats": ("stats", "stats"),
}


@cache
def command(name: str) -> Any:
    """The click command ``name`` (a group for a typer.Typer), built on first use."""
    module, attribute = COMMANDS[name]
    found = getattr(importlib.import_module(f"dockyard.cli.{module}"), attribute)
    if isinstance(found, typer.Typer):
        found.rich_markup_mode = None  # help as plain text, like the root's: rich is not imported for it
        made: Any = typer.main.get_group(found)
    else:
        single = typer.Typer(add_completion=False, rich_markup_mode=None)
        single.command(name)(found)
        made = typer.main.get_command(single)
    made.name = name
    return made


class Commands(Mapping[str, Any]):
    """The root group's commands: every name of :data:`COMMANDS`, each built on first access (so
    listing the names, as typer does to suggest one for a typo, builds nothing)."""

    def __getitem__(self, name: str) -> Any:
        if name not in COMMANDS:
            raise KeyError(name)
        return command(name)

    def __iter__(self) -> Iterator[str]:
        return iter(COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS)


class LazyCommands(TyperGroup):
    """The root group, over :class:`Commands` instead of a dict of commands already built."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = Commands()  # type: ignore[assignment]  # read only: nothing adds commands to the root


app = typer.Typer(
    cls=LazyCommands,
    help="Dockyard: an application-centric container cloud platform on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root() -> None:
    """The root has no options of its own; with a callback typer makes it a group (of COMMANDS)."""
