"""CLI commands for who you are and who may do what: login, logout, tokens, users and members."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dockyard.cli.client import ApiError, Client, cli_config_file, read_cli_config, segment, write_cli_config
from dockyard.cli.common import ServerOpt, TokenOpt, client, k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show

tokens = typer.Typer(help="Your personal API tokens (for CI and other systems).", no_args_is_help=True)
users = typer.Typer(help="Users (platform admins) and your password.", no_args_is_help=True)
members = typer.Typer(
    help="Who holds which role in a system (SYSTEM) or an application (SYSTEM/APP).", no_args_is_help=True
)


def _password(prompt: str, from_stdin: bool, *, confirm: bool = False) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def login(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Sign in with this user's password")] = None,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
    token: Annotated[str | None, typer.Option("--token", help="Keep this API token (dy_...) instead")] = None,
    sso: Annotated[bool, typer.Option("--sso", help="Sign in through the identity provider, in your browser")] = False,
    timeout: Annotated[
        float, typer.Option(min=1, max=3600, help="With --sso: how long to wait for the browser, in seconds")
    ] = 300,
    server: ServerOpt = None,
) -> None:
    """Sign in and keep the credentials for the server in the CLI config file (mode 0600).

    With --user: a password login; the session renews itself until it ends (14 days idle) or you
    log out. With --token: an API token, checked first. With --sso: single sign-on through the
    identity provider the server names: open the address printed (the CLI tries to open your browser)
    and sign in there; the provider's token is kept until it expires, then run `dockyard login --sso`
    again."""
    if sum((user is not None, token is not None, sso)) != 1:
        fail("give --user (password login), --token (an API token) or --sso (single sign-on)")
    if sso:
        _login_sso(server, timeout)
        return
    with client(server, token) as api:
        if token is not None:
            me = api.get("/api/v1/users/me")
            path = write_cli_config(api.server, user=me["name"], token=token)
        else:
            assert user is not None
            pair = api.post("/api/v1/login", {"user": user, "password": _password("Password", password_stdin)})
            path = write_cli_config(
                api.server, user=user, access_token=pair["access_token"], refresh_token=pair["refresh_token"]
            )
            me = {"name": user}
    print(f"logged in to {api.server} as {me['name']}; saved in {path}")


def _login_sso(server: str | None, timeout: float) -> None:
    """`dockyard login --sso` (cli/sso.py): the provider's ID token, saved once the server took it."""
    from dockyard.cli import sso

    with client(server, None) as api:
        try:
            id_token = sso.sign_in(api, timeout=timeout, say=lambda text: print(text, file=sys.stderr, flush=True))
        except sso.SignInFailed as e:
            fail(e)
    with client(api.server, id_token) as checked:
        try:
            me = checked.get("/api/v1/users/me")
        except ApiError as e:
            if e.status == 401:
                fail(f"{api.server} does not take the identity provider's token; nothing was saved")
            raise
    path = write_cli_config(api.server, user=me["name"], id_token=id_token)
    print(f"logged in to {api.server} as {me['name']} through single sign-on; saved in {path}")


def logout(server: ServerOpt = None) -> None:
    """End the saved session on the server and forget the saved credentials."""
    saved = read_cli_config()
    api = Client(server)
    try:
        if saved.get("server", "").rstrip("/") != api.server or not (
            saved.get("token") or saved.get("access_token") or saved.get("id_token")
        ):
            print(f"not logged in to {api.server}")
            return
        if saved.get("refresh_token"):
            try:
                api.post("/api/v1/logout", {"refresh_token": saved["refresh_token"]})
            except ApiError as e:  # still forget it locally: the session ends by itself
                print(f"the server did not end the session ({e}); forgetting it here", file=sys.stderr)
    finally:
        api.close()
    write_cli_config(api.server)
    print(f"logged out of {api.server}; {cli_config_file()} holds no credentials for it")


# tokens ------------------------------------------------------------------------------------------
@tokens.command("create")
def token_create(
    name: str,
    days: Annotated[int, typer.Option(help="Expires after this many days")] = 90,
    user: Annotated[str, typer.Option(help="For another user (admins)")] = "me",
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Make a token; it is printed this once."""
    with client(server, token) as api:
        made = api.post(f"/api/v1/users/{segment(user)}/tokens", {"name": name, "expires_in_days": days})
    print(made["token"])


@tokens.command("list")
def token_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        items = api.get("/api/v1/users/me/tokens")
    show(items, output, [("ID", k("id")), ("NAME", k("name")), ("EXPIRES", k("expires_at")), ("REVOKED", k("revoked"))])


@tokens.command("revoke")
def token_revoke(token_id: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        api.delete(f"/api/v1/users/me/tokens/{segment(token_id)}")
    print(f"token {token_id} revoked")


# users -------------------------------------------------------------------------------------------
@users.command("create")
def user_create(
    name: str,
    admin: Annotated[bool, typer.Option(help="A platform admin")] = False,
    password: Annotated[bool, typer.Option(help="Set a password (prompted)")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input")] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    body: dict[str, object] = {"name": name, "admin": admin}
    if password or password_stdin:
        body["password"] = _password("Password", password_stdin, confirm=True)
    with client(server, token) as api:
        api.post("/api/v1/users", body)
    print(f"user {name} created" + (" (platform admin)" if admin else ""))


@users.command("list")
def user_list(output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None) -> None:
    with client(server, token) as api:
        show(api.get("/api/v1/users"), output, [("NAME", k("name")), ("ADMIN", k("admin"))])


@users.command("passwd")
def user_passwd(
    user: Annotated[str, typer.Argument(help="Whose password: yours (me) or, for admins, anyone's")] = "me",
    password_stdin: Annotated[
        bool, typer.Option(help="Read the new password (and, for yourself, first the current one) from stdin")
    ] = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Change a password; that user's login sessions end."""
    body = {}
    if user == "me":
        body["current_password"] = _password("Current password", password_stdin)
    body["new_password"] = _password("New password", password_stdin, confirm=not password_stdin)
    with client(server, token) as api:
        api.put(f"/api/v1/users/{segment(user)}/password", body)
    print("password changed")


# members -----------------------------------------------------------------------------------------
def _scope(target: str) -> str:
    """The API path of ``SYSTEM`` or ``SYSTEM/APP``."""
    parts = target.split("/")
    if len(parts) not in (1, 2) or not all(parts):
        fail(f"{target!r} is not SYSTEM or SYSTEM/APP")
    base = f"/api/v1/systems/{segment(parts[0])}"
    return f"{base}/apps/{segment(parts[1])}" if len(parts) == 2 else base


@members.command("list")
def member_list(
    system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Roles in SYSTEM and its applications."""
    with client(server, token) as api:
        items = api.get(f"/api/v1/systems/{segment(system)}/members")
    show(
        items,
        output,
        [("USER", k("user")), ("APP", lambda m: m["app"] or "*"), ("ROLE", k("role")), ("GRANTED BY", k("granted_by"))],
    )


@members.command("grant")
def member_grant(
    target: Annotated[str, typer.Argument(help="SYSTEM or SYSTEM/APP")],
    user: str,
    role: Annotated[str, typer.Argument(help="owner, developer or viewer")],
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Give USER a ROLE in TARGET (replacing the role they held there)."""
    path = _scope(target)
    with client(server, token) as api:
        api.put(f"{path}/members/{segment(user)}", {"role": role})
    print(f"{user} is {role} in {target}")


@members.command("revoke")
def member_revoke(
    target: Annotated[str, typer.Argument(help="SYSTEM or SYSTEM/APP")],
    user: str,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    path = _scope(target)
    with client(server, token) as api:
        api.delete(f"{path}/members/{segment(user)}")
    print(f"{user} has no role in {target} any more")
