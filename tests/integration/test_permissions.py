"""The permission matrix: every endpoint of the OpenAPI description × every kind of caller gets the
expected status. A new endpoint without a rule here fails the test.

Each caller acts in a world of its own (a system with application ``web``, group ``prod`` and version
1, where it holds its role), so what one caller may change never decides another's answer. Requests
are well-formed; a caller allowed through may still meet a business rule (409, 422), but never 401,
403 or 404.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest

from tests.integration.harness.routes import RULES, Rule
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import NO_SOURCES as SOURCES
from tests.integration.harness.servers import InProcess
from tests.integration.harness.specs import MINIMAL as V1
from tests.integration.harness.tokens import ADMIN, user_with_token

CALLERS = ("anonymous", "outsider", "viewer", "developer", "app-developer", "owner", "admin")
RANK = {"viewer": 1, "developer": 2, "owner": 3, "admin": 4}


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


@pytest.mark.both_databases  # the one test that runs every route's queries: on each database
async def test_every_endpoint_answers_every_caller_as_the_matrix_says(
    passive_server: InProcess, sandbox: Sandbox
) -> None:
    app, http = passive_server.app, passive_server.http
    routes = {f"{m.upper()} {p}" for p, ops in app.openapi()["paths"].items() for m in ops}
    assert routes - RULES.keys() == set(), "endpoints without a rule in the permission matrix"
    assert RULES.keys() - routes == set(), "rules for endpoints that do not exist"

    headers: dict[str, dict[str, str]] = {"anonymous": {}, "admin": ADMIN}
    for name in ("bystander", *CALLERS[1:-1]):
        headers[name] = await user_with_token(http, name)

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
                flavor="no-such-flavor",
                template="java-web",
                pool="no-such-pool",
                user="bystander" if "/members/" in template else "me",
                token_id=str(uuid.uuid4()),
                rule="rss",
                alert_id=1,
                run_id=1,
                silence_id="00000000-0000-0000-0000-000000000000",
                instance="web-prod-0",
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
