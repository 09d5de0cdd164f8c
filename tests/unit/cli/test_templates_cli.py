"""`dockyard flavor …` and `dockyard template …` against a fake server: what each sends."""

from __future__ import annotations

from typing import Any

from typer.testing import CliRunner

from dockyard.cli.main import app
from tests.unit.cli.conftest import FakeApi

SMALL = {
    "name": "small",
    "label": "small/1C1024M",
    "cpu_millis": 1000,
    "memory_mib": 1024,
    "extended": {},
    "clusters": [],
    "pools": [],
    "description": "built in",
}
JAVA: dict[str, Any] = {
    "name": "java-web",
    "version": 1,
    "versions": [1],
    "system": "",
    "builtin": True,
    "description": "a web service",
    "parameters": [
        {"name": "image", "type": "image", "description": "", "default": None},
        {"name": "instances", "type": "int", "description": "", "default": 2, "minimum": 0, "maximum": 100},
        {"name": "debug_port", "type": "bool", "description": "", "default": False},
    ],
    "body": {"image": "${image}"},
}


def test_flavor_create_and_update_send_the_catalog_entry(api: FakeApi) -> None:
    api.answers[("POST", "/api/v1/flavors")] = lambda body: {**SMALL, **body, "label": "gpu"}
    made = CliRunner().invoke(
        app, ["flavor", "create", "gpu", "--cpu", "4000", "--memory", "16384", "--extended", "nvidia.com/gpu=1"]
    )
    assert made.exit_code == 0, made.output
    assert api.sent[-1][2] == {
        "name": "gpu",
        "cpu_millis": 4000,
        "memory_mib": 16384,
        "extended": {"nvidia.com/gpu": 1},
    }
    api.answers[("GET", "/api/v1/flavors/small")] = SMALL
    api.answers[("PUT", "/api/v1/flavors/small")] = lambda body: {**SMALL, **body}
    updated = CliRunner().invoke(app, ["flavor", "update", "small", "--memory", "2048"])
    assert updated.exit_code == 0, updated.output
    assert api.sent[-1][2] == {**{k: v for k, v in SMALL.items() if k != "label"}, "memory_mib": 2048}
    assert CliRunner().invoke(app, ["flavor", "create", "x", "--cpu", "1"]).exit_code == 1  # no --memory


def test_template_deploy_sends_parameters_as_their_types_and_makes_the_group_first(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/templates/java-web")] = JAVA
    api.answers[("POST", "/api/v1/systems/shop/apps/web/groups")] = {}
    api.answers[("POST", "/api/v1/systems/shop/apps/web/groups/prod/deploy")] = {
        "id": "op-1",
        "action": "deploy",
        "params": {"version": 1},
    }
    result = CliRunner().invoke(
        app,
        [
            "template", "deploy", "java-web", "shop/web/prod", "--env", "test", "--no-wait",
            "-p", "image=registry.local/shop/web:1", "-p", "instances=3", "-p", "debug_port=true",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    group = api.sent[1]
    assert group == (
        "POST",
        "/api/v1/systems/shop/apps/web/groups",
        {"name": "prod", "environment": "test", "cluster": "local"},
    )
    deploy = api.sent[2][2]
    assert deploy["template"] == {
        "name": "java-web",
        "parameters": {"image": "registry.local/shop/web:1", "instances": 3, "debug_port": True},
    }
    bad = CliRunner().invoke(app, ["template", "render", "java-web", "-p", "oops"])
    assert bad.exit_code == 1
    assert "must be KEY=VALUE" in bad.output
