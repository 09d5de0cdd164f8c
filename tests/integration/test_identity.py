"""Identity end to end on each database: password login, refresh, logout, throttling that survives a
restart, the first admin's password, and role bindings (system- and application-scoped)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from dockyard.settings import Settings
from tests.integration.harness import servers
from tests.integration.harness.tokens import ADMIN, user_with_password
from tests.integration.harness.tokens import bearer as _as

pytestmark = pytest.mark.both_databases
PASSWORD = "a long and fine passphrase"


@asynccontextmanager
async def _server(settings: Settings, client: str = "10.1.2.3") -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on ``settings``, its client (no credentials of its own) at address ``client``."""
    async with servers.in_process(settings, client=(client, 40000)) as server:
        yield server.app, server.http


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return servers.settings(database_url, tmp_path, admin_password_file=tmp_path / "admin-password", executor=False)


async def _user(http: httpx.AsyncClient, name: str, password: str = PASSWORD) -> dict[str, str]:
    """A new user with ``password``; the headers of a fresh login as them."""
    return await user_with_password(http, name, password)


async def test_password_login_refresh_and_logout(settings: Settings) -> None:
    async with _server(settings) as (_, http):
        await _user(http, "olga")
        first = (await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})).json()
        assert first["token_type"] == "bearer"
        assert first["expires_in"] == 900
        assert (await http.get("/api/v1/users/me", headers=_as(first["access_token"]))).json()["name"] == "olga"

        second = await http.post("/api/v1/login/refresh", json={"refresh_token": first["refresh_token"]})
        assert second.status_code == 200
        pair = second.json()
        assert (await http.get("/api/v1/users/me", headers=_as(pair["access_token"]))).status_code == 200

        # The first refresh token was used up: presenting it again ends the whole session.
        reused = await http.post("/api/v1/login/refresh", json={"refresh_token": first["refresh_token"]})
        assert reused.status_code == 401
        assert "already used" in reused.json()["message"]
        after = await http.post("/api/v1/login/refresh", json={"refresh_token": pair["refresh_token"]})
        assert after.status_code == 401

        third = (await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})).json()
        assert (await http.post("/api/v1/logout", json={"refresh_token": third["refresh_token"]})).status_code == 204
        ended = await http.post("/api/v1/login/refresh", json={"refresh_token": third["refresh_token"]})
        assert ended.status_code == 401


async def test_failures_look_alike_and_take_as_long(settings: Settings) -> None:
    async with _server(settings) as (_, http):
        await _user(http, "olga")

        async def attempt(user: str) -> tuple[float, httpx.Response]:
            started = time.perf_counter()
            response = await http.post("/api/v1/login", json={"user": user, "password": "wrong password here"})
            return time.perf_counter() - started, response

        known = [await attempt("olga") for _ in range(3)]
        unknown = [await attempt(f"nobody-{i}") for i in range(3)]
        assert {r.status_code for _, r in known + unknown} == {401}
        assert {r.json()["message"] for _, r in known + unknown} == {"wrong user name or password"}
        # An unknown user costs a password hash too: no fast path that tells users apart.
        assert min(t for t, _ in unknown) > 0.5 * min(t for t, _ in known)


async def test_login_throttling_per_user_and_source_survives_a_restart(settings: Settings) -> None:
    async with _server(settings) as (_, http):
        await _user(http, "olga")
        for _ in range(5):
            wrong = await http.post("/api/v1/login", json={"user": "olga", "password": "not the password!"})
            assert wrong.status_code == 401
        locked = await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})
        assert locked.status_code == 429
        assert 800 < int(locked.headers["Retry-After"]) <= 900
        assert locked.json()["code"] == "too_many_attempts"

    # Another process on the same database: still locked, even from another address.
    async with _server(settings, client="10.9.9.9") as (_, http):
        assert (await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})).status_code == 429

    # One source guessing at many users is stopped too.
    async with _server(settings, client="10.7.7.7") as (_, http):
        await _user(http, "dan")
        for i in range(20):
            guess = await http.post("/api/v1/login", json={"user": f"guess-{i}", "password": "not the password!"})
            assert guess.status_code == 401
        blocked = await http.post("/api/v1/login", json={"user": "dan", "password": PASSWORD})
        assert blocked.status_code == 429
    async with _server(settings, client="10.8.8.8") as (_, http):
        assert (await http.post("/api/v1/login", json={"user": "dan", "password": PASSWORD})).status_code == 200


async def test_forged_and_foreign_access_tokens_are_refused(settings: Settings, tmp_path: Path) -> None:
    async with _server(settings) as (_, http):
        olga = await _user(http, "olga")
        token = olga["Authorization"].removeprefix("Bearer ")
        header, payload, signature = token.split(".")
        tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
        assert (await http.get("/api/v1/users/me", headers=_as(tampered))).status_code == 401
    # Another installation (its own database and secret key), where the user exists too, does not
    # accept this server's access tokens.
    other = settings.model_copy(
        update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'other.db'}", "secret_key_file": tmp_path / "k2"}
    )
    async with _server(other) as (_, http):
        await _user(http, "olga")
        assert (await http.get("/api/v1/users/me", headers=olga)).status_code == 401


async def test_password_rules_and_changes(settings: Settings) -> None:
    async with _server(settings) as (_, http):
        weak = await http.post("/api/v1/users", json={"name": "weak", "password": "password1234"}, headers=ADMIN)
        assert weak.status_code == 422
        assert weak.json()["details"]["field"] == "password"
        assert "password1234" not in weak.text
        assert "weak" not in {u["name"] for u in (await http.get("/api/v1/users", headers=ADMIN)).json()}

        olga = await _user(http, "olga")
        session = (await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})).json()
        wrong = await http.put(
            "/api/v1/users/me/password",
            json={"current_password": "not my password", "new_password": "a brand new passphrase"},
            headers=olga,
        )
        assert (wrong.status_code, wrong.json()["details"]["field"]) == (422, "current_password")
        changed = await http.put(
            "/api/v1/users/me/password",
            json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            headers=olga,
        )
        assert changed.status_code == 204
        # The change ended the login sessions; the old password is gone, the new one works.
        refreshed = await http.post("/api/v1/login/refresh", json={"refresh_token": session["refresh_token"]})
        assert refreshed.status_code == 401
        assert (await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})).status_code == 401
        new = await http.post("/api/v1/login", json={"user": "olga", "password": "a brand new passphrase"})
        assert new.status_code == 200
        # Only admins set others' passwords.
        others = await http.put(
            "/api/v1/users/admin/password", json={"new_password": "mine now, all mine"}, headers=olga
        )
        assert others.status_code == 403


async def test_first_admin_password_is_generated_private_and_works(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        admin_token_file=tmp_path / "admin-token",
        admin_password_file=tmp_path / "admin-password",
        executor=False,
    )
    async with _server(settings) as (_, http):
        password_file = tmp_path / "admin-password"
        assert password_file.stat().st_mode & 0o777 == 0o600
        password = password_file.read_text().strip()
        login = await http.post("/api/v1/login", json={"user": "admin", "password": password})
        assert login.status_code == 200
        me = await http.get("/api/v1/users/me", headers=_as(login.json()["access_token"]))
        assert me.json() == {"name": "admin", "admin": True, "roles": {}, "app_roles": []}


async def test_a_known_default_admin_password_is_refused(database_url: str, tmp_path: Path) -> None:
    settings = Settings(
        database_url=database_url,
        admin_token_file=tmp_path / "admin-token",
        admin_password="changeme12345",
        executor=False,
    )
    with pytest.raises(Exception, match="admin_password") as raised:
        async with _server(settings):
            pass
    assert "changeme12345" not in str(raised.value)


# role bindings -----------------------------------------------------------------------------------
@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, str, Callable[..., Any]]]:
    """A system with applications web and api, and a way to make users in it."""
    async with _server(settings) as (_, http):
        system = f"shop-{uuid.uuid4().hex[:6]}"
        assert (await http.post("/api/v1/systems", json={"name": system}, headers=ADMIN)).status_code == 201
        for app in ("web", "api"):
            body = {"name": app, "repository": f"registry.local/{app}"}
            assert (await http.post(f"/api/v1/systems/{system}/apps", json=body, headers=ADMIN)).status_code == 201

        async def member(name: str, role: str, app: str | None = None, by: dict[str, str] = ADMIN) -> dict[str, str]:
            headers = await _user(http, name)
            scope = f"/apps/{app}" if app else ""
            granted = await http.put(f"/api/v1/systems/{system}{scope}/members/{name}", json={"role": role}, headers=by)
            assert granted.status_code == 201, granted.text
            return headers

        yield http, system, member


async def test_roles_decide_what_members_see_and_do(shop: tuple[httpx.AsyncClient, str, Callable[..., Any]]) -> None:
    http, system, member = shop
    base = f"/api/v1/systems/{system}"
    owner = await member("olga", "owner")
    app_dev = await member("ada", "developer", "web", by=owner)  # an owner grants in the system
    viewer = await member("vera", "viewer", by=owner)
    outsider = await _user(http, "eve")

    # The application developer sees the system and only their application.
    assert [a["name"] for a in (await http.get(f"{base}/apps", headers=app_dev)).json()] == ["web"]
    assert (await http.get(f"{base}/apps/api", headers=app_dev)).status_code == 404
    assert (await http.get(f"{base}/apps/web", headers=app_dev)).status_code == 200
    # Viewers read everything, change nothing; outsiders see nothing at all.
    assert len((await http.get(f"{base}/apps", headers=viewer)).json()) == 2
    assert (await http.delete(f"{base}/apps/api", headers=viewer)).status_code == 403
    assert (await http.get(base, headers=outsider)).status_code == 404
    assert system not in {s["name"] for s in (await http.get("/api/v1/systems", headers=outsider)).json()}

    # Members: the app developer sees the bindings of their application only.
    seen = {(m["user"], m["app"]) for m in (await http.get(f"{base}/members", headers=app_dev)).json()}
    assert seen == {("ada", "web")}
    everyone = {(m["user"], m["app"], m["role"]) for m in (await http.get(f"{base}/members", headers=owner)).json()}
    assert everyone == {("olga", None, "owner"), ("ada", "web", "developer"), ("vera", None, "viewer")}


async def test_nobody_grants_more_than_they_hold(shop: tuple[httpx.AsyncClient, str, Callable[..., Any]]) -> None:
    http, system, member = shop
    base = f"/api/v1/systems/{system}"
    app_owner = await member("otto", "owner", "web")
    developer = await member("dan", "developer")
    await _user(http, "newbie")

    # An application's owner grants in it, not in the system nor in other applications.
    assert (
        await http.put(f"{base}/apps/web/members/newbie", json={"role": "viewer"}, headers=app_owner)
    ).status_code == 201
    assert (await http.put(f"{base}/members/newbie", json={"role": "viewer"}, headers=app_owner)).status_code == 403
    assert (
        await http.put(f"{base}/apps/api/members/newbie", json={"role": "viewer"}, headers=app_owner)
    ).status_code == 404
    # Developers manage no members, not even viewers, and cannot promote themselves.
    assert (await http.put(f"{base}/members/newbie", json={"role": "viewer"}, headers=developer)).status_code == 403
    assert (await http.put(f"{base}/members/dan", json={"role": "owner"}, headers=developer)).status_code == 403
    assert (await http.delete(f"{base}/apps/web/members/newbie", headers=developer)).status_code == 403

    # Bad input: unknown role or user, and fields a body may not set.
    bad_role = await http.put(f"{base}/members/newbie", json={"role": "admin"}, headers=ADMIN)
    assert (bad_role.status_code, bad_role.json()["details"]["field"]) == (422, "role")
    ghost = await http.put(f"{base}/members/ghost", json={"role": "viewer"}, headers=ADMIN)
    assert (ghost.status_code, ghost.json()["details"]["field"]) == (422, "user")
    sneaky = await http.put(f"{base}/members/newbie", json={"role": "viewer", "granted_by": "admin"}, headers=ADMIN)
    assert (sneaky.status_code, sneaky.json()["details"]["field"]) == (422, "granted_by")
    members = {(m["user"], m["app"]) for m in (await http.get(f"{base}/members", headers=ADMIN)).json()}
    assert ("ghost", None) not in members
    assert ("newbie", None) not in members

    # Removing: the app owner removes what they granted; deleting the application drops its bindings.
    assert (await http.delete(f"{base}/apps/web/members/newbie", headers=app_owner)).status_code == 204
    assert (await http.delete(f"{base}/apps/web/members/newbie", headers=app_owner)).status_code == 404
    assert (await http.delete(f"{base}/apps/web", headers=ADMIN)).status_code == 204
    assert {m["user"] for m in (await http.get(f"{base}/members", headers=ADMIN)).json()} == {"dan"}
    assert (await http.get(base, headers=app_owner)).status_code == 404


async def test_a_change_on_one_replica_is_refused_on_the_other_at_the_next_request(settings: Settings) -> None:
    """Two servers on the database, each caching callers while the identity generation holds: a
    revoked token, a role taken away, a binding gone with its application are seen at once."""
    async with _server(settings) as (_, one), _server(settings) as (_, other):
        system = f"shop-{uuid.uuid4().hex[:6]}"
        await one.post("/api/v1/systems", json={"name": system}, headers=ADMIN)
        await one.post(f"/api/v1/systems/{system}/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN)
        olga = await _user(one, "olga")  # an access token (JWT)
        made = (await one.post("/api/v1/users/olga/tokens", json={"name": "t"}, headers=ADMIN)).json()
        token = _as(made["token"])
        await one.put(f"/api/v1/systems/{system}/members/olga", json={"role": "viewer"}, headers=ADMIN)
        for caller in (olga, token, olga, token):  # the second round is served from the cache
            assert (await other.get(f"/api/v1/systems/{system}", headers=caller)).status_code == 200

        assert (await one.delete(f"/api/v1/systems/{system}/members/olga", headers=ADMIN)).status_code == 204
        for caller in (olga, token):
            assert (await other.get(f"/api/v1/systems/{system}", headers=caller)).status_code == 404
        await one.put(f"/api/v1/systems/{system}/apps/web/members/olga", json={"role": "viewer"}, headers=ADMIN)
        assert (await other.get(f"/api/v1/systems/{system}/apps/web", headers=token)).status_code == 200
        assert (await one.delete(f"/api/v1/systems/{system}/apps/web", headers=ADMIN)).status_code == 204
        await one.post(f"/api/v1/systems/{system}/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN)
        assert (await other.get(f"/api/v1/systems/{system}/apps/web", headers=token)).status_code == 404

        assert (await one.delete(f"/api/v1/users/me/tokens/{made['id']}", headers=token)).status_code == 204
        assert (await other.get("/api/v1/users/me", headers=token)).status_code == 401
        assert (await other.get("/api/v1/users/me", headers=olga)).status_code == 200
