"""What checking a single sign-on bearer token costs, against the local credentials, same run.

    .venv/bin/python -m bench.oidc --checks 2000 --requests 400

Against a real OpenID Connect provider on loopback (oidc-provider-mock, RS256 2048-bit keys, as the
SSO tests use it), with the JWKS warm (fetched once before timing):

- the check alone (``adapters/oidc`` ``Provider.verify``): every signature verified (the memory of
  checked tokens emptied before each call), and the same token again (remembered until its exp);
- the local checks alone: a JWT access token (PyJWT, HS256) and a personal API token's SHA-256;
- whole requests in-process (ASGI, SQLite): ``GET /api/v1/users/me`` with the provider's ID token, a
  console session cookie, a local JWT access token and a personal API token.

Prints Markdown for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

import httpx
from tests.integration.harness.idp import CLIENT_ID, CLIENT_SECRET, running_idp

from dockyard import bootstrap
from dockyard.adapters.oidc import Provider
from dockyard.api.app import create_app
from dockyard.services.signin import access_subject, issue_access
from dockyard.settings import Settings

TOKEN = "dy_" + "b" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
BASE = "http://dockyard"


def _stats(samples: list[float]) -> tuple[float, float]:
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


async def _timed_async(n: int, call: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return _stats(samples)


def _timed(n: int, call: Callable[[], object]) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return _stats(samples)


async def _checks(issuer: str, id_token: str, n: int) -> dict[str, tuple[float, float]]:
    provider = Provider(issuer, audience=CLIENT_ID)
    await provider.verify(id_token)  # the JWKS warm
    results: dict[str, tuple[float, float]] = {}

    async def cold() -> None:
        provider._verified.clear()  # every call checks the signature and the claims
        await provider.verify(id_token)

    results["provider ID token, signature checked (RS256)"] = await _timed_async(n, cold)
    results["provider ID token, remembered"] = await _timed_async(n, lambda: provider.verify(id_token))
    assert provider.fetches == 1
    await provider.aclose()
    key = b"k" * 32
    access = issue_access(key, "olga", dt.datetime.now(dt.UTC))
    results["local JWT access token (HS256)"] = _timed(n, lambda: access_subject(key, access))
    results["local API token (SHA-256)"] = _timed(n, lambda: hashlib.sha256(TOKEN.encode()).hexdigest())
    return results


async def _requests(tmp: Path, issuer: str, id_token: str, n: int) -> dict[str, tuple[float, float]]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / 'bench.db'}",
        admin_token=TOKEN,
        admin_token_file=tmp / "admin-token",
        admin_password_file=tmp / "admin-password",
        secret_key_file=tmp / "secret-key",
        metrics_token_file=tmp / "metrics-token",
        executor=False,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_redirect_url=f"{BASE}/auth/callback",
        oidc_role_map="devs=shop:developer",
        oidc_secure_cookies=False,
    )
    app = create_app(bootstrap.server(settings))
    results: dict[str, tuple[float, float]] = {}
    password = "a long and fine passphrase"  # noqa: S105 - a bench user
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(mounts={BASE: transport}, base_url=BASE) as http:
        await http.post("/api/v1/users", json={"name": "olga", "password": password}, headers=ADMIN)
        made = await http.post("/api/v1/users/olga/tokens", json={"name": "bench"}, headers=ADMIN)
        login = await http.post("/api/v1/login", json={"user": "olga", "password": password})
        start = await http.get(f"/auth/login?next={quote('/')}")
        back = await http.post(start.headers["location"], data={"sub": "bench"})
        await http.get(back.headers["location"])
        cookie = {"Cookie": f"dockyard_session={http.cookies['dockyard_session']}"}
        http.cookies.clear()
        credentials = {
            "provider ID token": {"Authorization": f"Bearer {id_token}"},
            "console session cookie": cookie,
            "local JWT access token": {"Authorization": f"Bearer {login.json()['access_token']}"},
            "local API token": {"Authorization": f"Bearer {made.json()['token']}"},
        }
        for name, headers in credentials.items():

            async def call(headers: dict[str, str] = headers) -> None:
                answer = await http.get("/api/v1/users/me", headers=headers)
                assert answer.status_code == 200, answer.text

            results[f"GET /api/v1/users/me, {name}"] = await _timed_async(n, call)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with running_idp() as idp, tempfile.TemporaryDirectory() as tmp:
        os.environ["DOCKYARD_STATE_DIR"] = tmp
        idp.set_user("bench", {"preferred_username": "bench", "groups": ["devs"]})
        id_token = idp.id_token("bench")
        results = await _checks(idp.issuer, id_token, args.checks)
        results |= await _requests(Path(tmp), idp.issuer, id_token, args.requests)
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("| what | p50 ms | p99 ms |\n|---|---|---|")
    for name, (p50, p99) in results.items():
        print(f"| {name} | {p50:.3f} | {p99:.3f} |")


if __name__ == "__main__":
    asyncio.run(main())
