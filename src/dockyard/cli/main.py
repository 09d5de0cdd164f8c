"""The `dockyard` command."""

from __future__ import annotations

import typer

from dockyard.cli import sandbox, server

app = typer.Typer(
    help="Dockyard: an application-centric container cloud platform on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(sandbox.app, name="sandbox")
app.command()(server.server)
app.command()(server.up)

db = typer.Typer(help="The database.", no_args_is_help=True)
db.command("upgrade")(server.db_upgrade)
app.add_typer(db, name="db")
