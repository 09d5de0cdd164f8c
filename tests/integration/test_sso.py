"""Single sign-on end to end on each database, against a real OpenID Connect provider started locally
(harness/idp.py): the console's code flow (followed request by request as a browser would), the roles
a groups claim maps to, 404 for another system, bearer ID tokens, a rotated signing key, logout, the
cookie's size with 500 groups, and the client secret in no log or answer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from dockyard.settings import Settings
from tests.integration.harness import servers
from tests.integration.harness.idp import CLIENT_ID, CLIENT_SECRET, Idp, running_idp
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.tokens import bearer as _as

pytestmark = pytest.mark.both_databases
BASE = "http://dockyard"
CONSOLE = {"X-Dockyard-Console": "1"}


@pytest.fixture(scope="module")
def idp() -> Iterator[Idp]:
    with running_idp() as provider:
        yield provider


@pytest.fixture
def settings(database_url: str, tmp_path: Path, idp: Idp) -> Settings:
    return servers.settings(
        database_url,
        tmp_path,
        executor=False,
        oidc_issuer=idp.issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_redirect_url=f"{BASE}/auth/callback",
        oidc_role_map="shop-devs=shop:developer, billing-team=billing:viewer, shop-web=shop/web:owner",
        oidc_admin_groups="platform-admins",
        oidc_secure_cookies=False,  # the test's server is plain HTTP
    )


@asynccontextmanager
async def _server(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """The app with systems ``shop`` (application ``web``) and ``billing``; an admin's client, and a
    "browser" (its own cookies) that reaches the app and, over the network, the provider."""
    async with servers.in_process(settings, headers=ADMIN) as server:
        for system in ("shop", "billing"):
            assert (await server.http.post("/api/v1/systems", json={"name": system})).status_code == 201
        made = await server.http.post("/api/v1/systems/shop/apps", json={"name": "web", "repository": "r.local/web"})
        assert made.status_code == 201, made.text
        transport = httpx.ASGITransport(app=server.app, client=("10.9.8.7", 5000))
        async with httpx.AsyncClient(base_url=BASE, mounts={BASE: transport}, timeout=30) as browser:
            yield server.http, browser


async def _sign_in(browser: httpx.AsyncClient, sub: str, *, next_path: str = "/") -> httpx.Response:
    """The console's sign-in as a browser goes through it; the callback's answer (302 to ``next``)."""
    start = await browser.get(f"/auth/login?next={quote(next_path)}")
    assert start.status_code == 302, start.text
    authorize = start.headers["location"]
    assert "code_challenge=" in authorize
    assert "code_challenge_method=S256" in authorize
    page = await browser.get(authorize)  # the provider's sign-in form
    assert page.status_code == 200
    back = await browser.post(authorize, data={"sub": sub})
    assert back.status_code == 302, back.text
    assert back.headers["location"].startswith(f"{BASE}/auth/callback?")
    done = await browser.get(back.headers["location"])
    assert done.status_code == 302, done.text
    assert done.headers["location"] == next_path
    return done


async def test_console_sign_in_roles_and_logout(settings: Settings, idp: Idp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    idp.set_user("alice", {"preferred_username": "alice", "groups": ["shop-devs", "everyone"]})
    async with _server(settings) as (admin, browser):
        assert (await browser.get("/api/v1/auth/sso")).json() == {"enabled": True, "login_url": "/auth/login"}
        started = time.monotonic()
        done = await _sign_in(browser, "alice", next_path="/systems/shop")
        round_trip = time.monotonic() - started
        cookie = browser.cookies["dockyard_session"]
        assert cookie.startswith("dys_")
        set_cookie = done.headers["set-cookie"]
        assert "HttpOnly" in set_cookie
        assert "SameSite=lax" in set_cookie or "samesite=lax" in set_cookie.lower()

        me = (await browser.get("/auth/me")).json()
        assert me == {"name": "sso:alice", "admin": False, "roles": {"shop": "developer"}, "app_roles": []}
        assert (await browser.get("/api/v1/systems/shop")).status_code == 200
        other = await browser.get("/api/v1/systems/billing")
        assert other.status_code == 404  # another system's: exactly as if it did not exist
        assert [s["name"] for s in (await browser.get("/api/v1/systems")).json()] == ["shop"]
        assert (await browser.get("/api/v1/users")).status_code == 403  # not a platform admin

        # Changes with the cookie need the console's header (forms of other sites cannot send it).
        app = {"name": "api", "repository": "r.local/api"}
        assert (await browser.post("/api/v1/systems/shop/apps", json=app)).status_code == 401
        refused = await browser.post("/api/v1/systems/shop/apps", json=app, headers=CONSOLE)
        assert refused.status_code == 403  # a developer does not make applications: the role is applied

        assert (await browser.post("/auth/logout")).status_code == 204
        assert "dockyard_session" not in browser.cookies
        again = await browser.get("/auth/me", headers={"Cookie": f"dockyard_session={cookie}"})
        assert again.status_code == 401  # the old cookie is refused at once
        assert (await browser.get("/api/v1/systems", headers=_as(cookie))).status_code == 401

        # The client secret is in no answer, and in no log line.
        for answer in (done, me, other):
            assert CLIENT_SECRET not in str(answer)
        assert CLIENT_SECRET not in (await admin.get("/api/v1/audit")).text
    assert CLIENT_SECRET not in caplog.text
    print(f"console sign-in round trip: {round_trip * 1000:.0f} ms")
    assert round_trip < 5.0


async def test_five_hundred_groups_keep_the_cookie_small(settings: Settings, idp: Idp) -> None:
    groups = [f"team-{i:03d}-with-a-rather-long-group-name" for i in range(499)] + ["shop-web"]
    idp.set_user("bea", {"preferred_username": "bea", "groups": " ".join(groups)})  # a string claim
    async with _server(settings) as (_, browser):
        done = await _sign_in(browser, "bea")
        assert len(done.headers["set-cookie"]) <= 1024
        me = (await browser.get("/auth/me")).json()
        assert me["app_roles"] == [{"system": "shop", "app": "web", "role": "owner"}]
        assert (await browser.get("/api/v1/systems/shop/apps/web")).status_code == 200
        assert (await browser.get("/api/v1/systems/billing")).status_code == 404


async def test_bearer_id_tokens_and_a_rotated_key(settings: Settings, idp: Idp) -> None:
    idp.set_user("carl", {"preferred_username": "carl", "groups": "billing-team,platform-x"})
    idp.set_user("dora", {"preferred_username": "dora", "groups": ["platform-admins"]})
    async with _server(settings) as (admin, _):
        token = idp.id_token("carl")
        me = (await admin.get("/api/v1/users/me", headers=_as(token))).json()
        assert me == {"name": "sso:carl", "admin": False, "roles": {"billing": "viewer"}, "app_roles": []}
        assert (await admin.get("/api/v1/systems/shop", headers=_as(token))).status_code == 404
        admin_me = (await admin.get("/api/v1/users/me", headers=_as(idp.id_token("dora")))).json()
        assert admin_me["admin"] is True

        # A token for another client (audience) is refused.
        assert (
            await admin.get("/api/v1/users/me", headers=_as(idp.id_token("carl", client_id="x")))
        ).status_code == 401

        idp.rotate()
        fresh = idp.id_token("carl")
        answers = await asyncio.gather(*(admin.get("/api/v1/systems/billing", headers=_as(fresh)) for _ in range(20)))
        assert [a.status_code for a in answers] == [200] * 20  # the new key: no call failed
        # The provider withdrew the old key: its tokens are no longer taken.
        assert (await admin.get("/api/v1/users/me", headers=_as(token))).status_code == 401


async def test_sso_off_answers_404(database_url: str, tmp_path: Path) -> None:
    async with servers.in_process(servers.settings(database_url, tmp_path, executor=False)) as server:
        assert (await server.http.get("/api/v1/auth/sso")).json() == {"enabled": False, "login_url": None}
        assert (await server.http.get("/auth/login")).status_code == 404
        assert (await server.http.get("/auth/callback?code=x&state=y")).status_code == 404
        assert (await server.http.get("/auth/me")).status_code == 401
        cookie = {"Cookie": "dockyard_session=dys_" + "x" * 43}
        assert (await server.http.get("/api/v1/systems", headers=cookie)).status_code == 401
