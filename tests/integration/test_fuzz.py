"""Schemathesis against a real server's /openapi.json as a signed-in admin: for every operation a
bounded number of generated requests, and not one 5xx; every answer has a status, content type and
body the schema declares."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import process_env, server_process
from tests.integration.harness.specs import MINIMAL as V1
from tests.integration.harness.tokens import ADMIN as AUTH

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def served(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server on a fresh database, with cluster ``local`` and shop/web/prod at version 1, so that
    generated requests also reach real objects."""
    tmp = tmp_path_factory.mktemp("fuzz")
    env = process_env(f"sqlite+aiosqlite:///{tmp / 'dockyard.db'}", tmp / "state", DOCKYARD_EXECUTOR="false")
    log = tmp / "server.log"
    with server_process(env, log) as server:
        with httpx.Client(base_url=server.url, headers=AUTH) as http:
            cluster = {"name": "local", "kubeconfig": sandbox.kubeconfig.read_text(), "labels": {}}
            group = {"name": "prod", "environment": "prod", "cluster": "local"}
            for method, path, body in (
                ("PUT", "/api/v1/clusters/local", cluster),
                ("POST", "/api/v1/systems", {"name": "shop"}),
                ("POST", "/api/v1/systems/shop/apps", {"name": "web", "repository": "registry.local/web"}),
                ("POST", "/api/v1/systems/shop/apps/web/groups", group),
                ("POST", "/api/v1/systems/shop/apps/web/groups/prod/versions", {"spec": V1}),
            ):
                assert http.request(method, path, json=body).status_code in (200, 201)
        yield server.url
    assert "Traceback" not in log.read_text(), log.read_text()[-4000:]


def test_no_5xx_and_every_answer_matches_the_schema(served: str) -> None:
    """Each operation runs as its own Hypothesis test (pytest-level parametrization from a fixture
    does not work with pytest 9), and every failure is collected with its operation's label."""
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    failures: list[str] = []
    # The group's event stream runs until the client leaves (tested in test_console.py); so does a
    # followed log (follow=true: tested in test_logs.py).
    streams = ("/events", "/groups/{group}/logs")
    operations = [r.ok() for r in schema.get_all_operations() if not r.ok().path.endswith(streams)]
    for operation in operations:

        @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=served, headers=AUTH, checks=CHECKS)

        try:
            run()
        except Exception as e:  # collected, and reported together below
            failures.append(f"{operation.label}: {type(e).__name__}: {str(e)[:600]}")
    assert len(operations) >= 45
    assert failures == [], "\n\n".join(failures)
