"""Single sign-on end to end on each database, against a real OpenID Connect provider started locally
(harness/idp.py): the console's code flow (followed request by request as a browser would, and clicked
through in chromium), the roles a groups claim maps to, 404 for another system, bearer ID tokens, a
rotated signing key, logout, the cookie's size with 500 groups, the client secret in no log or answer,
and `dockyard login --sso` (a CLI process whose "browser" is played by the test)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx
import pytest
import yaml
from playwright.sync_api import expect

from dockyard.settings import Settings
from tests.integration.harness import servers
from tests.integration.harness.browser import LONG, SCREEN, chromium
from tests.integration.harness.cli import DOCKYARD, run
from tests.integration.harness.idp import CLI_CLIENT_ID, CLIENT_ID, CLIENT_SECRET, Idp, running_idp
from tests.integration.harness.sandboxes import free_port
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.tokens import bearer as _as

pytestmark = pytest.mark.both_databases
BASE = "http://dockyard"
ROLE_MAP = "shop-devs=shop:developer, billing-team=billing:viewer, shop-web=shop/web:owner"
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
        oidc_role_map=ROLE_MAP,
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
        assert (await browser.get("/api/v1/auth/sso")).json() == {
            "enabled": True,
            "login_url": "/auth/login",
            "issuer": idp.issuer,
            "cli_client_id": None,  # this server offers no sign-in to the CLI
            "scopes": "openid profile email",
        }
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
        assert (await server.http.get("/api/v1/auth/sso")).json() == {
            "enabled": False,
            "login_url": None,
            "issuer": None,
            "cli_client_id": None,
            "scopes": None,
        }
        assert (await server.http.get("/auth/login")).status_code == 404
        assert (await server.http.get("/auth/callback?code=x&state=y")).status_code == 404
        assert (await server.http.get("/auth/me")).status_code == 401
        cookie = {"Cookie": "dockyard_session=dys_" + "x" * 43}
        assert (await server.http.get("/api/v1/systems", headers=cookie)).status_code == 401


# --- A server process: for the CLI (another process) and the browser --------------------------------


@contextmanager
def _served(database_url: str, tmp_path: Path, idp: Idp) -> Iterator[str]:
    """A ``dockyard server`` process with single sign-on for the console and the CLI (the public client
    :data:`CLI_CLIENT_ID`), systems ``shop`` (application ``web``) and ``billing``: its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = servers.process_env(
        database_url,
        tmp_path / "state",
        DOCKYARD_EXECUTOR="false",
        DOCKYARD_OIDC_ISSUER=idp.issuer,
        DOCKYARD_OIDC_CLIENT_ID=CLIENT_ID,
        DOCKYARD_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        DOCKYARD_OIDC_CLI_CLIENT_ID=CLI_CLIENT_ID,
        DOCKYARD_OIDC_REDIRECT_URL=f"{url}/auth/callback",
        DOCKYARD_OIDC_ROLE_MAP=ROLE_MAP,
        DOCKYARD_OIDC_ADMIN_GROUPS="platform-admins",
        DOCKYARD_OIDC_SECURE_COOKIES="false",  # plain HTTP
    )
    log = tmp_path / "server.log"
    with servers.server_process(env, log, port=port), httpx.Client(base_url=url, headers=ADMIN, timeout=30) as http:
        for system in ("shop", "billing"):
            assert http.post("/api/v1/systems", json={"name": system}).status_code == 201
        made = http.post("/api/v1/systems/shop/apps", json={"name": "web", "repository": "r.local/web"})
        assert made.status_code == 201, made.text
        yield url
    text = log.read_text()
    assert "Traceback" not in text, text[-4000:]
    assert CLIENT_SECRET not in text


class CliLogin:
    """`dockyard login --sso` running; the test plays the user's browser."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [DOCKYARD, "login", "--sso", "--timeout", "60"],
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stderr is not None
        self.said: list[str] = []
        for line in self.proc.stderr:  # up to the address to open
            self.said.append(line)
            if line.startswith("http"):
                self.address = line.strip()
                return
        out = self.proc.stdout.read() if self.proc.stdout else ""
        raise AssertionError(f"no address to open: {''.join(self.said)}{out}")

    def finish(self) -> tuple[int, str, str]:
        """Its exit code, standard output and standard error."""
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, "".join(self.said) + err


def _authorize(browser: httpx.Client, address: str, form: dict[str, str]) -> str:
    """The provider's sign-in page at ``address``, submitted with ``form``: where it sends the browser."""
    page = browser.get(address)
    assert page.status_code == 200, page.text
    assert 'name="sub"' in page.text  # its authorization form
    back = browser.post(address, data=form)
    assert back.status_code == 302, back.text
    location: str = back.headers["location"]
    return location


def test_cli_signs_in_through_the_provider(database_url: str, tmp_path: Path, idp: Idp) -> None:
    idp.set_user("erin", {"preferred_username": "erin", "groups": ["shop-devs", "everyone"]})
    config = tmp_path / "cli" / "cli.yaml"
    with _served(database_url, tmp_path, idp) as url:
        env = {
            "DOCKYARD_CLI_CONFIG": str(config),
            "DOCKYARD_SERVER": url,
            "DOCKYARD_ADMIN_TOKEN_FILE": str(tmp_path / "none"),  # never the local admin's token
            "BROWSER": "true",  # webbrowser.open runs `true URL`: the test is the browser
        }
        with httpx.Client(follow_redirects=False, timeout=30) as browser:
            # Signed in: the address is the provider's, a public client with PKCE and a loopback redirect.
            started = time.monotonic()
            login = CliLogin(env)
            address = urlsplit(login.address)
            asked = {k: v[0] for k, v in parse_qs(address.query).items()}
            assert login.address.startswith(f"{idp.issuer}/oauth2/authorize?")
            assert asked["client_id"] == CLI_CLIENT_ID
            assert asked["code_challenge_method"] == "S256"
            assert asked["response_type"] == "code"
            loopback = urlsplit(asked["redirect_uri"])
            assert loopback.scheme == "http"
            assert loopback.hostname == "127.0.0.1"
            assert loopback.path == "/callback"
            assert loopback.port not in (None, 80, urlsplit(url).port)
            assert len(asked["state"]) >= 40
            assert CLIENT_SECRET not in login.address

            back = _authorize(browser, login.address, {"sub": "erin"})
            assert back.startswith(asked["redirect_uri"] + "?")
            landed = browser.get(back)
            assert landed.status_code == 200
            assert "close this tab" in landed.text
            code, out, err = login.finish()
            took = time.monotonic() - started
            assert code == 0, err
            # At the token endpoint: no secret, and the verifier of the challenge the browser carried.
            redeemed = idp.token_requests[-1]
            assert redeemed["client_id"] == CLI_CLIENT_ID
            assert redeemed["grant_type"] == "authorization_code"
            assert redeemed["redirect_uri"] == asked["redirect_uri"]
            assert "client_secret" not in redeemed
            assert redeemed["authorization"] == ""
            digest = hashlib.sha256(redeemed["code_verifier"].encode()).digest()
            assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == asked["code_challenge"]
            assert out == f"logged in to {url} as sso:erin through single sign-on; saved in {config}\n"

            saved = yaml.safe_load(config.read_text())
            assert set(saved) == {"server", "user", "id_token"}
            assert saved["server"] == url
            assert saved["user"] == "sso:erin"
            assert config.stat().st_mode & 0o777 == 0o600
            token = saved["id_token"]
            assert token not in out
            assert token not in err
            assert CLIENT_SECRET not in config.read_text()

            # The saved token: the roles the groups claim maps to, 404 on another system.
            listed = run(env, "system", "list", "-o", "json")
            assert [s["name"] for s in json.loads(listed.stdout)] == ["shop"]
            assert run(env, "system", "show", "shop").returncode == 0
            hidden = run(env, "system", "show", "billing", ok=False)
            assert hidden.returncode == 1
            assert hidden.stderr.startswith("error: ")
            assert "billing" in hidden.stderr
            assert hidden.stderr.count("\n") == 1
            refused = run(env, "user", "list", ok=False)  # not a platform admin
            assert refused.returncode == 1
            assert token not in listed.stdout + listed.stderr + hidden.stderr + refused.stderr
            me = httpx.get(f"{url}/api/v1/users/me", headers=_as(token)).json()
            assert me == {"name": "sso:erin", "admin": False, "roles": {"shop": "developer"}, "app_roles": []}

            # Refusals: one line, exit 1, and the saved sign-in untouched.
            before = config.read_bytes()
            denied = CliLogin(env)
            back = _authorize(browser, denied.address, {"action": "deny"})
            assert "error=access_denied" in back
            assert browser.get(back).status_code == 400
            code, out, err = denied.finish()
            assert code == 1
            assert err.splitlines()[-1].startswith("error: the identity provider refused the sign-in: access_denied")
            assert out == ""

            forged = CliLogin(env)
            back = _authorize(browser, forged.address, {"sub": "erin"})
            query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
            wrong = f"{back.split('?')[0]}?{urlencode({**query, 'state': 'another-sign-ins-state'})}"
            assert browser.get(wrong).status_code == 400
            code, out, err = forged.finish()
            assert code == 1
            assert err.splitlines()[-1] == (
                "error: the answer's state is not this sign-in's (a stale or forged answer); nothing was saved"
            )
            assert config.read_bytes() == before

            # Expired: the provider's own signature, an exp in the past: one line saying what to do.
            now = int(time.time())
            expired = idp.signed(
                {
                    "iss": idp.issuer,
                    "aud": CLI_CLIENT_ID,
                    "sub": "erin",
                    "preferred_username": "erin",
                    "groups": ["shop-devs"],
                    "iat": now - 7200,
                    "exp": now - 3600,
                }
            )
            config.write_text(yaml.safe_dump({**saved, "id_token": expired}))
            ended = run(env, "system", "list", ok=False)
            assert ended.returncode == 1
            assert ended.stderr == (
                "error: your single sign-on has expired or was refused; run `dockyard login --sso` again\n"
            )
            assert ended.stdout == ""
    print(f"CLI sign-in through the provider: {took * 1000:.0f} ms")


def test_cli_sign_in_needs_the_server_to_offer_it(database_url: str, tmp_path: Path) -> None:
    config = tmp_path / "cli.yaml"
    env = servers.process_env(database_url, tmp_path / "state", DOCKYARD_EXECUTOR="false")
    with servers.server_process(env, tmp_path / "server.log") as server:
        cli = {"DOCKYARD_CLI_CONFIG": str(config), "DOCKYARD_SERVER": server.url, "BROWSER": "true"}
        refused = run(cli, "login", "--sso", ok=False)
    assert refused.returncode == 1
    assert refused.stderr == f"error: single sign-on is not configured on {server.url}\n"
    assert refused.stdout == ""
    assert not config.exists()


def test_console_sign_in_in_the_browser(database_url: str, tmp_path: Path, idp: Idp) -> None:
    idp.set_user("fay", {"preferred_username": "fay", "groups": ["shop-devs"]})
    with _served(database_url, tmp_path, idp) as url, chromium() as browser:
        context = browser.new_context(**SCREEN)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_test_id("login-sso").click()
        # The provider's own page: type who you are and authorize.
        page.wait_for_url(f"{idp.issuer}/oauth2/authorize?**")
        page.locator("input[name=sub]").fill("fay")
        page.get_by_role("button", name="Authorize").click()
        # Back in the console, signed in.
        expect(page.get_by_test_id("logout")).to_be_visible(timeout=LONG)
        assert page.url.rstrip("/") == url
        expect(page.get_by_text("sso:fay")).to_be_visible()
        systems = page.get_by_test_id("systems")
        expect(systems.get_by_role("link", name="shop")).to_be_visible(timeout=LONG)
        expect(systems.get_by_role("link", name="billing")).to_have_count(0)
        assert page.request.get(f"{url}/auth/me").json()["roles"] == {"shop": "developer"}
        session = next(c for c in context.cookies() if c["name"] == "dockyard_session")
        assert session["httpOnly"]

        systems.get_by_role("link", name="shop").click()
        expect(page.get_by_test_id("apps").get_by_role("link", name="web")).to_be_visible(timeout=LONG)
        page.goto(f"{url}/systems/billing")  # another system's page: as if it did not exist
        expect(page.get_by_test_id("error").first).to_contain_text("not_found", timeout=LONG)
        expect(page.get_by_test_id("apps").get_by_role("link")).to_have_count(0)

        page.get_by_test_id("logout").click()
        expect(page.get_by_test_id("login-sso")).to_be_visible(timeout=LONG)
        assert page.request.get(f"{url}/auth/me").status == 401
        ended = httpx.get(f"{url}/auth/me", headers={"Cookie": f"dockyard_session={session['value']}"})
        assert ended.status_code == 401  # the session ended on the server, not only in the browser
        context.close()
