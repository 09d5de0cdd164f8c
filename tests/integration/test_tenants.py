"""Two tenants: the owner of system A tries every read and write on system B (by its real names and by
guessed ones) and gets 404 for all of it, exactly as for things that do not exist; every attempt is
in the audit trail as a denial, which B's owner can read and A's owner cannot."""

from __future__ import annotations

import uuid
from collections import Counter

import httpx

from tests.integration.harness.client import create
from tests.integration.harness.routes import RULES
from tests.integration.harness.servers import InProcess
from tests.integration.harness.specs import MINIMAL as V1
from tests.integration.harness.tokens import ADMIN, user_with_token


async def _tenant(http: httpx.AsyncClient, owner: str) -> tuple[str, dict[str, str], str]:
    """A system owned by ``owner`` with app web, group prod and version 1; its name, the owner's
    headers and the id of an operation in it."""
    system = f"{owner}-{uuid.uuid4().hex[:6]}"
    base = f"/api/v1/systems/{system}"
    headers = await user_with_token(http, owner)
    assert (await http.post("/api/v1/systems", json={"name": system}, headers=ADMIN)).status_code == 201
    assert (await http.put(f"{base}/members/{owner}", json={"role": "owner"}, headers=ADMIN)).status_code == 201
    await create(
        http,
        (f"{base}/apps", {"name": "web", "repository": "registry.local/web"}),
        (f"{base}/apps/web/groups", {"name": "prod", "environment": "prod", "cluster": "local"}),
        (f"{base}/apps/web/groups/prod/versions", {"spec": V1}),
        headers=headers,
    )
    operation = (await http.get(f"{base}/apps/web/groups/prod/operations", headers=headers)).json()[0]["id"]
    return system, headers, operation


async def test_a_tenant_sees_nothing_of_another_and_every_try_is_audited(passive_server: InProcess) -> None:
    http = passive_server.http
    a, alice, _ = await _tenant(http, "alice")
    b, bob, b_operation = await _tenant(http, "bob")

    tried: list[str] = []
    for route, rule in RULES.items():
        if rule.scope not in ("system", "app"):
            continue
        method, template = route.split(" ", 1)
        for app, group in (("web", "prod"), ("guessed", "guessed")):  # real names, and guessed ones
            path = template.format(
                system=b,
                app=app,
                group=group,
                number=1,
                operation_id=b_operation,
                release_id=b_operation,
                build_id=b_operation,
                user="alice",
                name="local",
                flavor="no-such-flavor",
                template="java-web",
                rule="rss",
                alert_id=1,
                silence_id="00000000-0000-0000-0000-000000000000",
                instance="web-prod-0",
            )
            query = {k: v.format(system=b) if isinstance(v, str) else v for k, v in rule.query.items()}
            body = rule.body if isinstance(rule.body, dict) else None
            response = await http.request(method, path, json=body, params=query, headers=alice)
            tried.append(f"{method} {path}")
            assert response.status_code == 404, f"{method} {path}: {response.status_code} {response.text}"
            assert response.json()["code"] == "not_found"
    # B's system is absent from A's lists, and B's objects are all still there.
    assert {s["name"] for s in (await http.get("/api/v1/systems", headers=alice)).json()} == {a}
    assert (await http.get(f"/api/v1/systems/{b}/apps/web/groups/prod/versions", headers=bob)).status_code == 200
    assert {m["user"] for m in (await http.get(f"/api/v1/systems/{b}/members", headers=bob)).json()} == {"bob"}

    # Every try is recorded as a denial, and B's owner reads them in B's trail; A's owner cannot.
    denied = (
        await http.get("/api/v1/audit", params={"user": "alice", "outcome": "denied", "limit": 500}, headers=ADMIN)
    ).json()["items"]
    assert Counter(e["method"] for e in denied) == Counter(t.split(" ")[0] for t in tried)
    assert all(e["reason"] for e in denied)
    in_b = (await http.get("/api/v1/audit", params={"system": b, "user": "alice", "limit": 500}, headers=bob)).json()[
        "items"
    ]  # more than the default page of 100
    assert len(in_b) == sum(1 for t in tried if f"/systems/{b}" in t)
    assert (await http.get("/api/v1/audit", params={"system": b}, headers=alice)).status_code == 404
