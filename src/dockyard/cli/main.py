"""The `dockyard` command."""

from __future__ import annotations

import typer

from dockyard.cli import audit, builds, identity, location, model, placement, release, sandbox, server

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
app.add_typer(model.clusters, name="cluster")
app.add_typer(model.systems, name="system")
app.add_typer(model.apps, name="app")
app.add_typer(model.groups, name="group")
app.add_typer(model.operations, name="operation")
app.add_typer(audit.app, name="audit")
app.add_typer(release.app, name="release")
app.add_typer(builds.builds, name="build")
app.add_typer(builds.images, name="images")
app.add_typer(builds.registry, name="registry")
app.add_typer(placement.pools, name="pool")
app.add_typer(location.app, name="location")
app.command()(placement.gc)
for command in (
    model.deploy,
    model.preview,
    model.scale,
    model.rollback,
    model.reconcile,
    model.instances,
    model.versions,
):
    app.command()(command)
app.command()(model.diff)
app.command()(model.history)

db = typer.Typer(help="The database.", no_args_is_help=True)
db.command("upgrade")(server.db_upgrade)
app.add_typer(db, name="db")
