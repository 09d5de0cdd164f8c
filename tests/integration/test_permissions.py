"""The permission matrix: every endpoint of the OpenAPI description × every kind of caller gets the
expected status. A new endpoint without a rule here fails the test.

Each caller acts in a world of its own (a system with application ``web``, group ``prod`` and version
1, where it holds its role), so what one caller may change never decides another's answer. Requests
are well-formed; a caller allowed through may still meet a business rule (409, 422), but never 401,
403 or 404.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings
from tests.integration.conftest import Sandbox

TOKEN = "dy_" + "m" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
CALLERS = ("anonymous", "outsider", "viewer", "developer", "app-developer", "owner", "admin")
RANK = {"viewer": 1, "developer": 2, "owner": 3, "admin": 4}
V1 = {"image": "registry.local/shop/web:1", "flavor": "small", "instances": 1}

Scope = Literal["public", "user", "platform", "system", "app"]


@dataclass(frozen=True)
class Rule:
    """Who may call an endpoint: ``scope`` public, any signed-in ``user``, ``platform`` admins, or
    members of the ``system`` / the ``app`` with at least ``least`` role."""

    scope: Scope
    least: str = "viewer"
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    allowed: frozenset[int] = frozenset()  # statuses a caller let through may get (default: see below)


A = "/api/v1/systems/{system}/apps/{app}"
G = f"{A}/groups/{{group}}"
SOURCES = "/nonexistent-dockyard-sources"  # an allowed root for file:// sources; nothing is ever cloned
RULES: dict[str, Rule] = {
    "POST /api/v1/login": Rule(
        "public", body={"user": "nobody-{world}", "password": "wrong password"}, allowed=frozenset({401})
    ),
    "POST /api/v1/login/refresh": Rule("public", body={"refresh_token": "dyr_" + "x" * 43}, allowed=frozenset({401})),
    "POST /api/v1/logout": Rule("public", body={"refresh_token": "dyr_" + "x" * 43}, allowed=frozenset({204})),
    "GET /healthz": Rule("public"),
    "GET /readyz": Rule("public", allowed=frozenset({200, 503})),
    "GET /api/v1/users": Rule("platform"),
    "POST /api/v1/users": Rule("platform", body={"name": "newcomer-{world}"}),
    "GET /api/v1/users/me": Rule("user"),
    "PUT /api/v1/users/{user}/password": Rule("user", body={"new_password": "a fresh and long passphrase"}),
    "POST /api/v1/users/{user}/tokens": Rule("user", body={"name": "ci"}),
    "GET /api/v1/users/me/tokens": Rule("user"),
    "DELETE /api/v1/users/me/tokens/{token_id}": Rule("user", allowed=frozenset({404})),  # nobody's token
    "GET /api/v1/clusters": Rule("user"),
    "GET /api/v1/clusters/{name}": Rule("user"),
    "GET /api/v1/clusters/{name}/status": Rule("user"),
    "GET /api/v1/clusters/{name}/dedicated-pools": Rule("user"),
    "PUT /api/v1/clusters/{name}/dedicated-pools/{pool}": Rule(
        "platform", body={"system": "{world}", "app": "web"}, allowed=frozenset({422, 503})
    ),
    "DELETE /api/v1/clusters/{name}/dedicated-pools/{pool}": Rule("platform", allowed=frozenset({404})),
    "PUT /api/v1/clusters/{name}": Rule("platform", body="cluster"),
    "GET /api/v1/systems": Rule("user"),
    "POST /api/v1/systems": Rule("platform", body={"name": "new-{world}"}),
    "GET /api/v1/systems/{system}": Rule("system"),
    "DELETE /api/v1/systems/{system}": Rule("system", "admin"),
    "GET /api/v1/systems/{system}/operations": Rule("system"),
    "POST /api/v1/systems/{system}/apps": Rule("system", "owner", body={"name": "api", "repository": "r.local/api"}),
    "GET /api/v1/systems/{system}/apps": Rule("system"),
    "GET /api/v1/systems/{system}/apps/{app}": Rule("app"),
    "DELETE /api/v1/systems/{system}/apps/{app}": Rule("app", "owner"),
    "GET /api/v1/systems/{system}/apps/{app}/operations": Rule("app"),
    "GET /api/v1/systems/{system}/members": Rule("system"),
    "PUT /api/v1/systems/{system}/members/{user}": Rule("system", "owner", body={"role": "viewer"}),
    "DELETE /api/v1/systems/{system}/members/{user}": Rule("system", "owner"),
    "PUT /api/v1/systems/{system}/apps/{app}/members/{user}": Rule("app", "owner", body={"role": "viewer"}),
    "DELETE /api/v1/systems/{system}/apps/{app}/members/{user}": Rule("app", "owner"),
    "POST /api/v1/systems/{system}/apps/{app}/groups": Rule(
        "app", "owner", body={"name": "canary", "environment": "test", "cluster": "local"}
    ),
    "GET /api/v1/systems/{system}/apps/{app}/groups": Rule("app"),
    f"GET {G}": Rule("app"),
    f"DELETE {G}": Rule("app", "owner"),
    f"GET {G}/instances": Rule("app"),
    f"GET {G}/events": Rule("app", query={"once": "true"}),  # one snapshot, then the stream ends
    f"GET {G}/versions": Rule("app"),
    f"POST {G}/versions": Rule("app", "developer", body={"changes": {"instances": 2}}),
    f"GET {G}/versions/{{number}}": Rule("app"),
    f"GET {G}/diff": Rule("app", query={"old": 1, "new": 1}),
    f"GET {G}/operations": Rule("app"),
    f"POST {G}/deploy": Rule("app", "developer", body={"version": 1}),
    f"POST {G}/scale": Rule("app", "developer", body={"instances": 2}),
    f"POST {G}/preview": Rule("app", body={"version": 1}),
    f"POST {G}/rollback": Rule("app", "developer", body={"version": 1}),
    f"POST {G}/reconcile": Rule("app", "developer", body={}),
    f"POST {G}/releases": Rule("app", "developer", body={"changes": {"instances": 2}}),
    f"GET {G}/releases": Rule("app"),
    f"GET {G}/releases/{{release_id}}": Rule("app"),
    f"POST {G}/releases/{{release_id}}/promote": Rule("app", "developer", body={}),
    f"POST {G}/releases/{{release_id}}/pause": Rule("app", "developer"),
    f"POST {G}/releases/{{release_id}}/resume": Rule("app", "developer"),
    f"POST {G}/releases/{{release_id}}/abort": Rule("app", "developer"),
    f"POST {A}/builds": Rule("app", "developer", body={"commit": "abc1234"}),  # source: the app's last build's
    f"GET {A}/builds": Rule("app"),
    f"GET {A}/builds/{{build_id}}": Rule("app"),
    f"GET {A}/builds/{{build_id}}/logs": Rule("app"),
    f"POST {A}/builds/{{build_id}}/cancel": Rule("app", "developer"),
    # The world's repository is registry.local, which nothing answers: 503 once let through.
    f"GET {A}/images": Rule("app", allowed=frozenset({200, 503})),
    f"POST {A}/images/gc": Rule("app", "owner", body={"dry_run": True}, allowed=frozenset({200, 503})),
    "GET /api/v1/systems/{system}/locations": Rule("system"),
    "POST /api/v1/systems/{system}/locations": Rule("system", "owner", body={"location": {"idc": "b"}}),
    "POST /api/v1/systems/{system}/locations/{grant_id}/approve": Rule("platform"),
    "POST /api/v1/systems/{system}/locations/{grant_id}/revoke": Rule("platform"),
    "PUT /api/v1/systems/{system}/apps/{app}/location": Rule("app", "owner", body={"location": {"idc": "b"}}),
    "GET /api/v1/operations/{operation_id}": Rule("app"),
    "GET /api/v1/audit": Rule("system", "owner", query={"system": "{system}"}),
    "GET /api/v1/audit/verify": Rule("platform"),
    "GET /api/v1/gc": Rule("platform"),
    "POST /api/v1/gc": Rule("platform", body={"confirm": False}, allowed=frozenset({422})),
}


def expected(rule: Rule, caller: str, method: str) -> frozenset[int]:
    """The statuses ``caller`` may get from an endpoint under ``rule``."""
    let_through = rule.allowed or (frozenset({200}) if method == "GET" else frozenset({200, 201, 202, 204, 409, 422}))
    if rule.scope == "public":
        allowed = True
    elif caller == "anonymous":
        return frozenset({401})
    elif rule.scope == "user":
        allowed = True
    elif rule.scope == "platform":
        allowed = caller == "admin"
    elif caller == "outsider":
        return frozenset({404})
    elif caller == "app-developer":
        # A role in application web: its system is visible (read only), and web as a developer.
        allowed = rule.least == "viewer" if rule.scope == "system" else RANK["developer"] >= RANK[rule.least]
    else:
        allowed = RANK[caller] >= RANK[rule.least]
    return let_through if allowed else frozenset({403})


@dataclass
class World:
    system: str
    operation: str
    release: str
    build: str
    headers: dict[str, str]
    grant: int = 0


async def _world(http: httpx.AsyncClient, caller: str, headers: dict[str, str]) -> World:
    system = f"m-{caller}-{uuid.uuid4().hex[:6]}"
    base = f"/api/v1/systems/{system}"
    for path, body in (
        ("/api/v1/systems", {"name": system}),
        (f"{base}/apps", {"name": "web", "repository": "registry.local/web"}),
        (f"{base}/apps/web/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        (f"{base}/apps/web/groups/prod/versions", {"spec": V1}),
    ):
        assert (await http.post(path, json=body, headers=ADMIN)).status_code == 201
    role = {"viewer": "viewer", "developer": "developer", "owner": "owner"}.get(caller)
    if role:
        assert (await http.put(f"{base}/members/{caller}", json={"role": role}, headers=ADMIN)).status_code == 201
    if caller == "app-developer":
        granted = await http.put(f"{base}/apps/web/members/{caller}", json={"role": "developer"}, headers=ADMIN)
        assert granted.status_code == 201
    for path in (f"{base}/members/bystander", f"{base}/apps/web/members/bystander"):
        assert (await http.put(path, json={"role": "viewer"}, headers=ADMIN)).status_code == 201
    history = (await http.get(f"{base}/apps/web/groups/prod/operations", headers=ADMIN)).json()
    # A release (rolling: no version runs, and no executor here), so its endpoints have a target.
    release = await http.post(
        f"{base}/apps/web/groups/prod/releases", json={"version": 1, "strategy": "rolling"}, headers=ADMIN
    )
    assert release.status_code == 202, release.text
    # A build (queued for ever: no runner here), so the build endpoints have a target.
    build = await http.post(
        f"{base}/apps/web/builds", json={"source": f"file://{SOURCES}/web", "commit": "abc1234"}, headers=ADMIN
    )
    assert build.status_code == 202, build.text
    grant = await http.post(f"{base}/locations", json={"location": {"idc": "a"}}, headers=ADMIN)
    assert grant.status_code == 201, grant.text
    return World(system, history[0]["id"], release.json()["id"], build.json()["id"], headers, grant.json()["id"])


def _order(route: str) -> tuple[int, int]:
    """Reads first, then writes, then deletes (deepest first), so nothing is gone before it is used."""
    method, path = route.split(" ", 1)
    return ({"GET": 0, "POST": 1, "PUT": 1, "DELETE": 2}[method], -path.count("/") if method == "DELETE" else 0)


@pytest.fixture
async def server(
    sandbox: Sandbox, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = Settings(
        database_url=database_url,
        admin_token=TOKEN,
        admin_token_file=tmp_path / "admin-token",
        executor=False,
        build_source_roots=[SOURCES],
    )
    app = create_app(bootstrap.server(settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dockyard") as http:
            cluster = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {}}
            assert (await http.put("/api/v1/clusters/local", json=cluster, headers=ADMIN)).status_code == 201
            yield app, http


async def test_every_endpoint_answers_every_caller_as_the_matrix_says(
    server: tuple[FastAPI, httpx.AsyncClient], sandbox: Sandbox
) -> None:
    app, http = server
    routes = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    assert routes - RULES.keys() == set(), "endpoints without a rule in the permission matrix"
    assert RULES.keys() - routes == set(), "rules for endpoints that do not exist"

    headers: dict[str, dict[str, str]] = {"anonymous": {}, "admin": ADMIN}
    for name in ("bystander", *CALLERS[1:-1]):
        assert (await http.post("/api/v1/users", json={"name": name}, headers=ADMIN)).status_code == 201
        made = await http.post(f"/api/v1/users/{name}/tokens", json={"name": "t"}, headers=ADMIN)
        headers[name] = {"Authorization": f"Bearer {made.json()['token']}"}

    wrong: list[str] = []
    for caller in CALLERS:
        world = await _world(http, caller, headers[caller])
        for route in sorted(RULES, key=_order):
            rule = RULES[route]
            method, template = route.split(" ", 1)
            path = template.format(
                system=world.system,
                app="web",
                group="prod",
                number=1,
                operation_id=world.operation,
                release_id=world.release,
                build_id=world.build,
                grant_id=world.grant,
                name="local",
                pool="no-such-pool",
                user="bystander" if "/members/" in template else "me",
                token_id=str(uuid.uuid4()),
            )
            body = rule.body
            if body == "cluster":
                body = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {}}
            elif isinstance(body, dict):
                body = {k: v.format(world=world.system) if isinstance(v, str) else v for k, v in body.items()}
            query = {k: v.format(system=world.system) if isinstance(v, str) else v for k, v in rule.query.items()}
            response = await http.request(method, path, json=body, params=query, headers=world.headers)
            want = expected(rule, caller, method)
            if response.status_code not in want:
                wrong.append(f"{caller:13} {route}: {response.status_code} (want {sorted(want)}) {response.text[:120]}")
    assert wrong == [], "\n" + "\n".join(wrong)
