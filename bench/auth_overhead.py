"""What identity and the audit trail cost per request, each against the same request without it, same run.

    .venv/bin/python -m bench.auth_overhead --requests 400

In-process (ASGI transport, no network), on a fresh SQLite database in a temporary directory:

- ``GET /healthz`` (no token, no database), then ``GET /api/v1/users/me`` and a group's instances
  (token check, group read, watch cache read: an empty one here) with a personal API token;
- ``GET /api/v1/systems/{s}/apps/web`` as a member holding 20 role bindings, with a personal API token
  (hash lookup + roles in one joined query) and with a JWT access token (signature check + roles);
- ``POST …/versions`` (a mutation) with the audit middleware and, on a second app built the same way,
  without it: the audit trail's cost is the difference;
- a password login (argon2id hash verification): p50/p99.

Prints a Markdown table for docs/benchmarks.md. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.api.audit import AuditMiddleware
from dockyard.settings import Settings

TOKEN = "dy_" + "b" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
PASSWORD = "a long and fine passphrase"  # noqa: S105 - a bench user


async def _timed(n: int, call: Callable[[], Awaitable[httpx.Response]]) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code < 300, response.text
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


async def _run(tmp: Path, requests: int, audit: bool) -> dict[str, tuple[float, float]]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp / ('a' if audit else 'b')}.db",
        admin_token=TOKEN,
        admin_token_file=tmp / "admin-token",
        admin_password_file=tmp / "admin-password",
        secret_key_file=tmp / "secret-key",
        executor=False,
    )
    app = create_app(bootstrap.server(settings))
    if not audit:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not AuditMiddleware]
    results: dict[str, tuple[float, float]] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dockyard") as http:
            await http.put(
                "/api/v1/clusters/here", json={"name": "here", "kubeconfig": "in-cluster", "labels": {}}, headers=ADMIN
            )
            await http.post("/api/v1/users", json={"name": "olga", "password": PASSWORD}, headers=ADMIN)
            for i in range(20):
                system = f"s{i}"
                await http.post("/api/v1/systems", json={"name": system}, headers=ADMIN)
                await http.post(
                    f"/api/v1/systems/{system}/apps", json={"name": "web", "repository": "r/web"}, headers=ADMIN
                )
                await http.put(f"/api/v1/systems/{system}/members/olga", json={"role": "developer"}, headers=ADMIN)
            await http.post(
                "/api/v1/systems/s0/apps/web/groups",
                json={"name": "prod", "environment": "prod", "cluster": "here"},
                headers=ADMIN,
            )
            made = await http.post("/api/v1/users/olga/tokens", json={"name": "bench"}, headers=ADMIN)
            as_token = {"Authorization": f"Bearer {made.json()['token']}"}
            session = await http.post("/api/v1/login", json={"user": "olga", "password": PASSWORD})
            as_jwt = {"Authorization": f"Bearer {session.json()['access_token']}"}
            app_path = "/api/v1/systems/s0/apps/web"
            versions = "/api/v1/systems/s0/apps/web/groups/prod/versions"
            spec = {"spec": {"image": "r/web:1", "flavor": "tiny", "instances": 1}}
            if audit:
                instances = "/api/v1/systems/s0/apps/web/groups/prod/instances"
                results["GET /healthz (no token, no database)"] = await _timed(requests, lambda: http.get("/healthz"))
                results["GET /users/me, API token"] = await _timed(
                    requests, lambda: http.get("/api/v1/users/me", headers=as_token)
                )
                results["GET group's instances, API token"] = await _timed(
                    requests, lambda: http.get(instances, headers=as_token)
                )
                results["GET app, API token"] = await _timed(requests, lambda: http.get(app_path, headers=as_token))
                results["GET app, JWT access token"] = await _timed(
                    requests, lambda: http.get(app_path, headers=as_jwt)
                )
                login = {"user": "olga", "password": PASSWORD}
                results["password login (argon2id)"] = await _timed(
                    max(20, requests // 20), lambda: http.post("/api/v1/login", json=login)
                )
            label = "POST version, with audit" if audit else "POST version, without audit"
            results[label] = await _timed(requests, lambda: http.post(versions, json=spec, headers=as_token))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DOCKYARD_STATE_DIR"] = tmp
        results = await _run(Path(tmp), args.requests, audit=True)
        results |= await _run(Path(tmp), args.requests, audit=False)
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; SQLite")
    print("| request | p50 ms | p99 ms |\n|---|---|---|")
    for name, (p50, p99) in results.items():
        print(f"| {name} | {p50:.2f} | {p99:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
