"""`dockyard build`, `dockyard images`, `dockyard registry`: builds from git, the application's images.

    dockyard build start shop/web --source https://git.example.com/shop/web.git --commit 3f2a9c1 --follow
    dockyard build list shop/web
    dockyard build show shop/web ID
    dockyard build logs shop/web ID [--follow]
    dockyard build cancel shop/web ID
    dockyard images list shop/web
    dockyard registry gc shop/web --keep 5 [--dry-run]

`build start` waits until the build ends and exits 1 unless it succeeded, like every long command;
``--follow`` prints the log lines as they come meanwhile, ``--no-wait`` returns once it is queued.
``dockyard deploy GROUP --build ID`` runs a succeeded build's image, pinned by digest.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from dockyard.cli.client import Client, segment
from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import app_path, pairs

builds = typer.Typer(help="Builds: from a git commit to an image in the registry.", no_args_is_help=True)
images = typer.Typer(help="The application's images in its registry.", no_args_is_help=True)
registry = typer.Typer(help="Registry maintenance.", no_args_is_help=True)
AppArg = Annotated[str, typer.Argument(help="SYSTEM/APP")]
IdArg = Annotated[str, typer.Argument(help="The build's id")]
ENDED = ("succeeded", "failed", "cancelled")
COLUMNS = [
    ("ID", lambda b: b["id"]),
    ("STATUS", lambda b: b["status"]),
    ("REF", lambda b: f"{b['ref_kind']} {b['ref']}"),
    ("COMMIT", lambda b: b["commit"][:12]),
    ("IMAGE", lambda b: b["image"]),
    ("BY", lambda b: b["created_by"]),
    ("SECONDS", lambda b: b["duration_seconds"]),
    ("REASON", lambda b: b["reason"]),
]
WIDE = [("DIGEST", lambda b: b.get("digest") or "-"), ("CREATED", lambda b: b.get("created_at"))]


@builds.command("start")
def start(
    target: AppArg,
    commit: Annotated[str | None, typer.Option(help="A commit sha")] = None,
    branch: Annotated[str | None, typer.Option(help="A branch (its head now)")] = None,
    tag: Annotated[str | None, typer.Option(help="A tag")] = None,
    source: Annotated[str | None, typer.Option(help="git URL (default: the app's last build's)")] = None,
    dockerfile: Annotated[str, typer.Option(help="Path of the Dockerfile in the repository")] = "Dockerfile",
    build_arg: Annotated[list[str] | None, typer.Option("--build-arg", help="NAME=value (repeatable)")] = None,
    force: Annotated[bool, typer.Option("--force", help="Build even if this commit's image exists")] = False,
    timeout: Annotated[int | None, typer.Option(help="Seconds the build may take")] = None,
    follow: Annotated[bool, typer.Option("--follow", help="Print the log until the build ends")] = False,
    no_wait: Annotated[bool, typer.Option("--no-wait", help="Return once the build is queued")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Queue a build of a commit, branch or tag and wait until it ends (exit 1 unless it succeeded)."""
    if follow and no_wait:
        fail("give --follow or --no-wait, not both")
    refs = {k: v for k, v in (("commit", commit), ("branch", branch), ("tag", tag)) if v is not None}
    if len(refs) != 1:
        fail("give one of --commit, --branch or --tag")
    body: dict[str, Any] = {**refs, "dockerfile": dockerfile, "force": force}
    if source is not None:
        body["source"] = source
    if build_arg:
        body["build_args"] = pairs(build_arg, "build arg")
    if timeout is not None:
        body["timeout_seconds"] = timeout
    with client(server, token) as api:
        build = api.post(f"{app_path(target)}/builds", body)
        print(f"build {build['id']} of {target}: queued", flush=True)
        if not no_wait:
            _follow(api, target, build["id"], log=follow)


@builds.command("list")
def list_(target: AppArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """The application's builds, newest first."""
    with client(server, token) as api:
        show(api.get(f"{app_path(target)}/builds"), output, COLUMNS, WIDE)


@builds.command("show")
def show_(
    target: AppArg, build_id: IdArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """One build: its state, commit, image by digest, who, when and how long."""
    with client(server, token) as api:
        show(api.get(f"{app_path(target)}/builds/{segment(build_id)}"), output)


@builds.command("logs")
def logs(
    target: AppArg,
    build_id: IdArg,
    follow: Annotated[bool, typer.Option("--follow", help="Keep printing until the build ends")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """The build's log (credentials are never in it)."""
    with client(server, token) as api:
        if follow:
            _follow(api, target, build_id)
            return
        for line in api.get(f"{app_path(target)}/builds/{segment(build_id)}/logs")["lines"]:
            print(line["line"])


@builds.command("cancel")
def cancel(target: AppArg, build_id: IdArg, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Stop a build at whatever stage it is."""
    with client(server, token) as api:
        build = api.post(f"{app_path(target)}/builds/{segment(build_id)}/cancel", {})
    print(f"build {build['id']}: {'cancelled' if build['status'] == 'cancelled' else 'cancelling'}")


def _follow(api: Client, target: str, build_id: str, *, log: bool = True) -> None:
    """Wait until the build ends (printing its log lines as they come if ``log``), print how it
    ended and its image; exit 1 unless it succeeded."""
    path = f"{app_path(target)}/builds/{segment(build_id)}"
    if log:
        _print_log(api, path)
    else:
        while api.get(path)["status"] not in ENDED:
            time.sleep(0.5)
    build = api.get(path)
    print(f"build {build['id']}: {build['status']}" + (f" ({build['reason']})" if build["reason"] else ""))
    if build["status"] == "succeeded":
        print(f"image {build['image']}")
    else:
        raise typer.Exit(1)


def _print_log(api: Client, path: str) -> None:
    """Print the build's log lines as they come, until it has ended and no line is left."""
    seen = 0
    while True:
        got = api.get(f"{path}/logs", after=seen)
        for line in got["lines"]:
            print(line["line"], flush=True)
            seen = line["seq"]
        if got["status"] in ENDED and not got["lines"]:
            return
        if not got["lines"]:
            time.sleep(0.5)


@images.command("list")
def images_list(
    target: AppArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Each tag of the application's repository: digest, size, the versions using it."""
    with client(server, token) as api:
        items = api.get(f"{app_path(target)}/images")
    show(
        items,
        output,
        [
            ("TAG", lambda i: i["tag"]),
            ("DIGEST", lambda i: i["digest"]),
            ("SIZE", lambda i: i["size"]),
            ("VERSIONS", lambda i: ", ".join(i["versions"])),
            ("RUNNING IN", lambda i: ", ".join(i["running"])),
        ],
    )


@registry.command("gc")
def gc(
    target: AppArg,
    keep: Annotated[int | None, typer.Option(help="Versions kept per group (default: the server's image_keep)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be deleted")] = False,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Delete the images no version among the last KEEP of each group uses."""
    body: dict[str, Any] = {"dry_run": dry_run}
    if keep is not None:
        body["keep"] = keep
    with client(server, token) as api:
        result = api.post(f"{app_path(target)}/images/gc", body)
    if output.structured:
        show(result, output)
        return
    verb = "would delete" if dry_run else "deleted"
    print(f"{verb} {len(result['deleted'])} image(s), kept {len(result['kept'])}")
    for digest in result["deleted"]:
        print(f"  {digest}")
