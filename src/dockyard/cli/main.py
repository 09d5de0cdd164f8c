"""The `dockyard` command.

Importing this (what every command does first) loads the command modules, which import only typer,
httpx and small pure modules at their top; the server, the database, the sandbox package and rich are
imported inside the commands that use them (`tests/unit/cli/test_startup.py` holds this).
"""

from __future__ import annotations

import typer

from dockyard.cli import (
    apps,
    audit,
    builds,
    clusters,
    deploys,
    groups,
    identity,
    location,
    operations,
    placement,
    release,
    sandbox,
    server,
    systems,
)

app = typer.Typer(
    help="Dockyard: an application-centric container cloud platform on Kubernetes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(sandbox.app, name="sandbox")
app.command()(server.server)
app.command()(server.up)
app.command()(identity.login)
app.command()(identity.logout)
app.add_typer(identity.tokens, name="token")
app.add_typer(identity.users, name="user")
app.add_typer(identity.members, name="member")
app.add_typer(clusters.clusters, name="cluster")
app.add_typer(systems.systems, name="system")
app.add_typer(apps.apps, name="app")
app.add_typer(groups.groups, name="group")
app.add_typer(operations.operations, name="operation")
app.add_typer(audit.app, name="audit")
app.add_typer(release.app, name="release")
app.add_typer(builds.builds, name="build")
app.add_typer(builds.images, name="images")
app.add_typer(builds.registry, name="registry")
app.add_typer(placement.pools, name="pool")
app.add_typer(location.app, name="location")
app.command()(placement.gc)
for command in (
    deploys.deploy,
    deploys.preview,
    deploys.scale,
    deploys.rollback,
    deploys.reconcile,
    groups.instances,
    groups.versions,
):
    app.command()(command)
app.command()(groups.diff)
app.command()(operations.history)

db = typer.Typer(help="The database.", no_args_is_help=True)
db.command("upgrade")(server.db_upgrade)
app.add_typer(db, name="db")
