"""The flavor catalog and component templates through the API on a SQLite file (no cluster needed):
the catalog seeded with the built-in flavors, a flavor in use refused naming its groups, templates
rendered and versioned, a version made from a template recording it, bad parameters refused on their
path. The deploys themselves: tests/integration/test_templates.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.unit.api.alerting_world import AUTH, ok, user, world_client

IMAGE = "registry.local/shop/web:1"
GROUP = "/api/v1/systems/shop/apps/web/groups/prod"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    yield from world_client(tmp_path)


def test_the_catalog_starts_with_the_built_in_flavors(client: TestClient) -> None:
    listed = ok(client.get("/api/v1/flavors", headers=AUTH)).json()
    assert [f["label"] for f in listed] == [
        "tiny/0.25C256M",
        "small/1C1024M",
        "medium/2C4096M",
        "large/4C8192M",
        "xlarge/8C16384M",
    ]


def test_a_flavor_in_use_cannot_shrink_or_go_and_the_answer_names_the_groups(client: TestClient) -> None:
    gpu = {"name": "gpu", "cpu_millis": 4000, "memory_mib": 16384, "extended": {"nvidia.com/gpu": 1}}
    made = ok(client.post("/api/v1/flavors", json=gpu, headers=AUTH), 201).json()
    assert made["label"] == "gpu/4C16384M+1nvidia.com/gpu"
    version = ok(
        client.post(
            f"{GROUP}/versions", json={"spec": {"image": IMAGE, "flavor": "gpu", "instances": 1}}, headers=AUTH
        ),
        201,
    ).json()
    assert version["spec"]["size"] == {"cpu_millis": 4000, "memory_mib": 16384, "extended": {"nvidia.com/gpu": 1}}
    for response in (
        client.put("/api/v1/flavors/gpu", json={**gpu, "extended": {}}, headers=AUTH),
        client.delete("/api/v1/flavors/gpu", headers=AUTH),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "in_use"
        assert response.json()["details"] == {"groups": ["shop/web/prod"]}
    ok(client.put("/api/v1/flavors/gpu", json={**gpu, "cpu_millis": 8000}, headers=AUTH))
    assert ok(client.get(f"{GROUP}/versions/1", headers=AUTH)).json()["spec"]["size"]["cpu_millis"] == 4000
    unused = ok(client.delete("/api/v1/flavors/xlarge", headers=AUTH), 204)
    assert unused.status_code == 204
    bad = client.post("/api/v1/flavors", json={**gpu, "name": "g2", "extended": {"gpu": 1}}, headers=AUTH)
    assert (bad.status_code, bad.json()["details"]["field"]) == (422, "extended.gpu")


def test_a_version_made_from_a_template_records_it_and_bad_parameters_are_refused_on_their_path(
    client: TestClient,
) -> None:
    listed = ok(client.get("/api/v1/templates", headers=AUTH)).json()
    assert {t["name"] for t in listed} == {"java-web", "nginx-static", "python-worker"}
    rendered = ok(
        client.post("/api/v1/templates/python-worker/render", json={"parameters": {"image": IMAGE}}, headers=AUTH)
    ).json()
    assert rendered["template"] == "python-worker@1"
    assert rendered["spec"]["env"]["WORKER_CONCURRENCY"] == "4"
    body = {"template": {"name": "python-worker", "parameters": {"image": IMAGE, "concurrency": 8}}}
    made = ok(client.post(f"{GROUP}/versions", json=body, headers=AUTH), 201).json()
    assert made["spec"]["template"]["parameters"]["concurrency"] == 8
    for parameters, field in (
        ({"image": IMAGE, "concurrency": 0}, "parameters.concurrency"),
        ({"image": IMAGE, "concurency": 8}, "parameters.concurency"),
        ({"image": IMAGE, "log_level": "LOUD"}, "parameters.log_level"),
        ({}, "parameters.image"),
    ):
        wrong = {"template": {"name": "python-worker", "parameters": parameters}}
        refused = client.post(f"{GROUP}/versions", json=wrong, headers=AUTH)
        assert (refused.status_code, refused.json()["details"]["field"]) == (422, field), refused.text
    missing = client.post(f"{GROUP}/versions", json={"template": {"name": "nope"}}, headers=AUTH)
    assert missing.status_code == 404
    assert len(ok(client.get(f"{GROUP}/versions", headers=AUTH)).json()) == 1


def test_template_versions_are_numbered_after_the_built_in_one_and_checked(client: TestClient) -> None:
    v1 = ok(client.get("/api/v1/templates/nginx-static", headers=AUTH)).json()
    assert (v1["version"], v1["builtin"], v1["versions"]) == (1, True, [1])
    again = {"description": "v2", "parameters": v1["parameters"], "body": {**v1["body"], "instances": 3}}
    v2 = ok(client.post("/api/v1/templates/nginx-static/versions", json=again, headers=AUTH), 201).json()
    assert v2["version"] == 2
    assert ok(client.get("/api/v1/templates/nginx-static", headers=AUTH)).json()["versions"] == [1, 2]
    first = ok(client.get("/api/v1/templates/nginx-static", params={"version": 1}, headers=AUTH)).json()
    assert first["body"]["instances"] == "${instances}"
    broken = {**again, "body": {**again["body"], "env": {"X": "${undeclared}"}}}
    refused = client.post("/api/v1/templates/nginx-static/versions", json=broken, headers=AUTH)
    assert (refused.status_code, refused.json()["details"]["field"]) == (422, "body.env.X")
    viewer = user(client, "vic", system="shop")
    assert client.post("/api/v1/templates/x/versions", json=again, headers=viewer).status_code == 403
    assert client.post("/api/v1/systems/shop/templates/x/versions", json=again, headers=viewer).status_code == 403
    assert client.get("/api/v1/systems/other/templates", headers=viewer).status_code == 404


def test_a_release_takes_a_template_too_never_ignoring_it(client: TestClient) -> None:
    body = {"template": {"name": "nginx-static", "parameters": {"instances": 1}}, "strategy": "rolling"}
    started = client.post(f"{GROUP}/releases", json=body, headers=AUTH)
    assert started.status_code == 202, started.text
    version = ok(client.get(f"{GROUP}/versions/1", headers=AUTH)).json()
    assert version["spec"]["template"]["name"] == "nginx-static"
    both = {"template": body["template"], "changes": {"instances": 2}}
    refused = client.post(f"{GROUP.replace('prod', 'canary')}/releases", json=both, headers=AUTH)
    assert refused.status_code == 422, refused.text


ORCHESTRATE = {
    "orchestration": "web-worker-static",
    "repository": "registry.local/shop/site",
    "parameters": {"image": IMAGE, "worker_image": "registry.local/shop/worker:1", "cluster": "far"},
}


def test_an_orchestration_makes_an_application_of_several_groups_all_or_nothing(client: TestClient) -> None:
    listed = ok(client.get("/api/v1/orchestrations", headers=AUTH)).json()
    assert [o["name"] for o in listed] == ["web-worker-static"]
    made = ok(client.post("/api/v1/systems/shop/apps/site/orchestrate", json=ORCHESTRATE, headers=AUTH), 201).json()
    assert made["created_application"] is True
    assert [(g["group"], g["version"]) for g in made["groups"]] == [
        ("shop/site/web", 1),
        ("shop/site/worker", 1),
        ("shop/site/static", 1),
    ]
    worker = ok(client.get("/api/v1/systems/shop/apps/site/groups/worker/versions/1", headers=AUTH)).json()
    assert worker["spec"]["template"]["name"] == "python-worker"

    # A second application where one of the three names is taken: nothing of it is made.
    ok(
        client.post(
            "/api/v1/systems/shop/apps", json={"name": "site2", "repository": "registry.local/s2"}, headers=AUTH
        ),
        201,
    )
    taken = {"name": "worker", "environment": "test", "cluster": "far"}
    ok(client.post("/api/v1/systems/shop/apps/site2/groups", json=taken, headers=AUTH), 201)
    refused = client.post("/api/v1/systems/shop/apps/site2/orchestrate", json=ORCHESTRATE, headers=AUTH)
    assert refused.status_code == 409, refused.text
    groups = ok(client.get("/api/v1/systems/shop/apps/site2/groups", headers=AUTH)).json()
    assert [g["name"] for g in groups] == ["worker"]
    # A new application whose last group cannot be made (a cluster that does not exist): no application.
    nowhere = {**ORCHESTRATE, "parameters": {**ORCHESTRATE["parameters"], "cluster": "nowhere"}}
    failed = client.post("/api/v1/systems/shop/apps/site3/orchestrate", json=nowhere, headers=AUTH)
    assert failed.status_code in (404, 422), failed.text
    assert client.get("/api/v1/systems/shop/apps/site3", headers=AUTH).status_code == 404
    bad = {**ORCHESTRATE, "parameters": {**ORCHESTRATE["parameters"], "instances": -1}}
    wrong = client.post("/api/v1/systems/shop/apps/site4/orchestrate", json=bad, headers=AUTH)
    assert (wrong.status_code, wrong.json()["details"]["field"]) == (422, "parameters.instances")
    viewer = user(client, "val", system="shop")
    assert (
        client.post("/api/v1/systems/shop/apps/site5/orchestrate", json=ORCHESTRATE, headers=viewer).status_code == 403
    )
