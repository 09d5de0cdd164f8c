"""Who may call each route of the API, as the permission matrix (test_permissions) and the tenant
isolation test (test_tenants) check it: one rule per ``METHOD /path`` of the OpenAPI description, with a
well-formed body and query for it. A route without a rule fails the matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

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
TEMPLATE = {
    "description": "the matrix's",
    "parameters": [{"name": "image", "type": "image", "description": "the image"}],
    "body": {"image": "${image}", "flavor": "small", "instances": 1},
}
RENDER = {"parameters": {"image": "registry.local/web:1"}}
ORCHESTRATE = {
    "orchestration": "web-worker-static",
    "parameters": {"image": "registry.local/web:1", "worker_image": "registry.local/worker:1", "instances": 0},
}
G = f"{A}/groups/{{group}}"
RULES: dict[str, Rule] = {
    "POST /api/v1/login": Rule(
        "public", body={"user": "nobody-{world}", "password": "wrong password"}, allowed=frozenset({401})
    ),
    "POST /api/v1/login/refresh": Rule("public", body={"refresh_token": "dyr_" + "x" * 43}, allowed=frozenset({401})),
    "POST /api/v1/logout": Rule("public", body={"refresh_token": "dyr_" + "x" * 43}, allowed=frozenset({204})),
    "GET /healthz": Rule("public"),
    "GET /api/v1/auth/sso": Rule("public"),
    "GET /auth/login": Rule("public", allowed=frozenset({404})),  # single sign-on is off in the matrix
    "GET /auth/callback": Rule("public", allowed=frozenset({404})),
    "POST /auth/logout": Rule("public", allowed=frozenset({204})),
    "GET /auth/me": Rule("user"),
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
    "GET /api/v1/systems/{system}/groups": Rule("system"),
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
    f"GET {G}/dns": Rule("app"),
    # No instance runs in the matrix's world (no executor): a caller let through gets 404 for the name.
    f"POST {G}/instances/{{instance}}/restart": Rule("app", "developer", allowed=frozenset({404})),
    f"GET {G}/instances/{{instance}}/logs": Rule("app", allowed=frozenset({404})),
    f"GET {G}/instances/{{instance}}/events": Rule("app", allowed=frozenset({404})),
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
    f"GET {G}/logs": Rule("app"),  # no instances: no lines
    # No log store is configured in the matrix's server: 503 once let through.
    f"GET {G}/logs/search": Rule("app", query={"q": "x"}, allowed=frozenset({503})),
    f"GET {G}/edge": Rule("app"),
    f"PUT {G}/edge": Rule("app", "developer", body={"port": "http"}),
    f"DELETE {G}/edge": Rule("app", "developer"),
    f"GET {G}/autoscale": Rule("app"),
    f"PUT {G}/autoscale": Rule(
        "app", "developer", body={"policy": {"min": 1, "max": 3, "signals": [{"signal": "cpu", "baseline": 0.5}]}}
    ),
    f"DELETE {G}/autoscale": Rule("app", "developer"),
    "GET /api/v1/statistics": Rule("user"),
    "GET /api/v1/statistics/growth": Rule("user"),
    "GET /api/v1/systems/{system}/statistics": Rule("system"),
    f"GET {A}/statistics": Rule("app"),
    f"GET {G}/statistics": Rule("app"),
    "GET /api/v1/clusters/{name}/statistics/without-nodes": Rule("platform", allowed=frozenset({200, 422})),
    "GET /api/v1/prices": Rule("user"),
    "PUT /api/v1/clusters/{name}/price": Rule(
        "platform", body={"core_hour": "0.05", "gib_hour": "0.005"}, allowed=frozenset({200, 404})
    ),
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
    "GET /api/v1/systems/{system}/alert-rules": Rule("system"),
    "GET /api/v1/systems/{system}/alert-rules/history": Rule("system"),
    f"PUT {A}/alert-rules/{{rule}}": Rule("app", "owner", body={"threshold": 0.5}),
    # 404 without an override; the matrix's PUT before it makes one
    f"DELETE {A}/alert-rules/{{rule}}": Rule("app", "owner", allowed=frozenset({200, 404})),
    f"PUT {G}/alert-rules/{{rule}}": Rule("app", "owner", body={"enabled": False}),
    f"DELETE {G}/alert-rules/{{rule}}": Rule("app", "owner", allowed=frozenset({200, 404})),
    # Alertmanager's own credential only: every caller here is refused.
    "POST /api/v1/alerts/webhook": Rule("public", body={"version": "4", "alerts": []}, allowed=frozenset({401})),
    "GET /api/v1/systems/{system}/alerts": Rule("system"),
    "GET /api/v1/systems/{system}/alerts/{alert_id}": Rule("system", allowed=frozenset({404})),  # none yet
    "GET /api/v1/systems/{system}/channels": Rule("system"),
    "POST /api/v1/systems/{system}/channels": Rule(
        "system", "owner", body={"name": "oncall", "kind": "email", "target": "oncall@example.org"}
    ),
    "DELETE /api/v1/systems/{system}/channels/{name}": Rule("system", "owner", allowed=frozenset({404})),
    "POST /api/v1/systems/{system}/channels/{name}/test": Rule("system", "owner", allowed=frozenset({404})),
    # No Alertmanager is configured in the matrix's server: 503 once let through.
    "GET /api/v1/systems/{system}/silences": Rule("system", allowed=frozenset({503})),
    "POST /api/v1/systems/{system}/silences": Rule(
        "system",
        "developer",
        body={"matchers": [{"name": "app", "value": "web"}], "duration_seconds": 60, "reason": "matrix"},
        allowed=frozenset({503}),
    ),
    "DELETE /api/v1/systems/{system}/silences/{silence_id}": Rule("system", "developer", allowed=frozenset({503})),
    "GET /api/v1/gc": Rule("platform"),
    # Inspection: platform admins only (the report covers shared infrastructure and Dockyard itself).
    "GET /api/v1/inspections": Rule("platform"),
    "POST /api/v1/inspections": Rule("platform", body={"clusters": ["local"]}),
    "GET /api/v1/inspections/schedule": Rule("platform"),
    "PUT /api/v1/inspections/schedule": Rule("platform", body={"cron": "30 17 * * *", "timezone": "UTC"}),
    "GET /api/v1/inspections/{run_id}": Rule("platform", allowed=frozenset({200, 404})),
    "GET /api/v1/inspections/{run_id}/diff": Rule("platform", allowed=frozenset({200, 404})),
    "GET /api/v1/remediation": Rule("platform"),
    "PUT /api/v1/remediation": Rule("platform", body={"mode": "off"}),
    "GET /api/v1/remediation/plan": Rule("platform"),
    "GET /api/v1/remediation/history": Rule("platform"),
    # Dockyard's own metrics: the scrape token or a platform admin.
    "GET /metrics": Rule("platform"),
    "GET /metrics/targets": Rule("platform"),  # Prometheus' service discovery of application instances
    # Charts read Prometheus: 503 when the test server's (by default none) cannot answer.
    "GET /api/v1/systems/{system}/metrics": Rule("system", allowed=frozenset({200, 503})),
    f"GET {A}/metrics": Rule("app", allowed=frozenset({200, 503})),
    f"GET {G}/metrics": Rule("app", allowed=frozenset({200, 503})),
    f"GET {G}/apm": Rule("app", allowed=frozenset({200, 503})),
    "POST /api/v1/gc": Rule("platform", body={"confirm": False}, allowed=frozenset({422})),
    # The flavor catalog: {flavor} is a name no flavor has, so nothing of the catalog changes.
    "GET /api/v1/flavors": Rule("user"),
    "GET /api/v1/flavors/{flavor}": Rule("user", allowed=frozenset({404})),
    "POST /api/v1/flavors": Rule("platform", body={"name": "f-{world}", "cpu_millis": 100, "memory_mib": 128}),
    "PUT /api/v1/flavors/{flavor}": Rule(
        "platform", body={"cpu_millis": 100, "memory_mib": 128}, allowed=frozenset({404})
    ),
    "DELETE /api/v1/flavors/{flavor}": Rule("platform", allowed=frozenset({404})),
    # Templates: {template} is the built-in java-web; a system has none of that name until its POST.
    "GET /api/v1/templates": Rule("user"),
    "GET /api/v1/templates/{template}": Rule("user"),
    "POST /api/v1/templates/{template}/versions": Rule("platform", body=TEMPLATE),
    "POST /api/v1/templates/{template}/render": Rule("user", body=RENDER, allowed=frozenset({200})),
    "GET /api/v1/templates/{template}/adoption": Rule("user"),
    "GET /api/v1/systems/{system}/templates": Rule("system"),
    "GET /api/v1/systems/{system}/templates/{template}": Rule("system", allowed=frozenset({200, 404})),
    "POST /api/v1/systems/{system}/templates/{template}/versions": Rule("system", "owner", body=TEMPLATE),
    "POST /api/v1/systems/{system}/templates/{template}/render": Rule(
        "system", body=RENDER, allowed=frozenset({200, 404})
    ),
    "GET /api/v1/systems/{system}/templates/{template}/adoption": Rule("system", allowed=frozenset({200, 404})),
    "GET /api/v1/orchestrations": Rule("user"),
    f"POST {A}/orchestrate": Rule("system", "owner", body=ORCHESTRATE),
}
