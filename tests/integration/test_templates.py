"""Component templates and the flavor catalog through the API, against the sandbox: a group made from
a template deploys and its versions record the template; template v2 shows its diff first and changes
only the groups that deploy it; a flavor added is usable at once and one in use can neither shrink nor
go; authorization (other tenants 404, viewers 403). On SQLite and PostgreSQL: the catalog, the
templates and the JSON queries that find their users are the database's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.client import Api, create_group
from tests.integration.harness.servers import InProcess
from tests.integration.harness.specs import MINIMAL
from tests.integration.harness.tokens import ADMIN, user_with_token

IMAGE = "registry.local/shop/web:1"
JAVA = {"name": "java-web", "parameters": {"image": IMAGE, "flavor": "tiny", "instances": 2}}


async def _resources(kube: KubeCluster, system: str, group: str = "prod") -> dict[str, Any]:
    deployment = await kube.get("apps/v1", "Deployment", f"web-{group}", namespace=system)
    limits: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
    return limits


async def _refused(http: httpx.AsyncClient, path: str, body: Any) -> dict[str, Any]:
    response = await http.post(path, json=body)
    assert response.status_code == 422, response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.both_databases
async def test_a_group_made_from_a_template_deploys_and_template_v2_changes_only_the_groups_adopting_it(
    api: Api, kube: KubeCluster
) -> None:
    http = api.http
    await api.act("deploy", {"template": JAVA})
    assert await _resources(kube, api.system) == {"cpu": "250m", "memory": "256Mi"}
    version = (await http.get(f"{api.group}/versions/1")).json()
    assert version["spec"]["template"] == {
        "owner": "",
        "name": "java-web",
        "version": 1,
        "parameters": {
            "debug_port": False,
            "flavor": "tiny",
            "health_path": "/actuator/health",
            "heap": "75",
            "image": IMAGE,
            "instances": 2,
            "port": 8080,
            "profile": "default",
        },
    }
    history = (await http.get(f"{api.group}/operations")).json()
    assert history[0]["action"] == "deploy"

    # Each kind of bad parameter is refused with its path, and nothing is recorded.
    for parameters, field in (
        ({**JAVA["parameters"], "instances": "2"}, "parameters.instances"),
        ({**JAVA["parameters"], "instances": 101}, "parameters.instances"),
        ({**JAVA["parameters"], "heap": "90"}, "parameters.heap"),
        ({**JAVA["parameters"], "flavor": "huge"}, "parameters.flavor"),
        ({**JAVA["parameters"], "image": "no tag"}, "parameters.image"),
        ({**JAVA["parameters"], "debug_port": "yes"}, "parameters.debug_port"),
        ({**JAVA["parameters"], "nmae": "typo"}, "parameters.nmae"),
        ({"flavor": "tiny"}, "parameters.image"),
    ):
        answer = await _refused(
            http, f"{api.group}/deploy", {"template": {"name": "java-web", "parameters": parameters}}
        )
        assert answer["details"]["field"] == field, answer
        rendered = await _refused(http, "/api/v1/templates/java-web/render", {"parameters": parameters})
        assert rendered["details"]["field"] == field
    assert len((await http.get(f"{api.group}/versions")).json()) == 1

    # A second group from the same template version.
    await api.http.post(
        f"/api/v1/systems/{api.system}/apps/web/groups",
        json={"name": "canary", "environment": "prod", "cluster": "local"},
    )
    await api.act("deploy", {"template": {**JAVA, "version": 1}}, group="canary")

    # Template v2: the dry run shows each group's diff first and changes nothing.
    v1 = (await http.get("/api/v1/templates/java-web")).json()
    body = {**v1["body"], "env": {**v1["body"]["env"], "GC": "G1"}}
    made = await http.post(
        "/api/v1/templates/java-web/versions",
        json={"description": v1["description"], "parameters": v1["parameters"], "body": body},
    )
    assert (made.status_code, made.json()["version"]) == (201, 2), made.text
    adoption = (await http.get("/api/v1/templates/java-web/adoption")).json()
    assert adoption["template"] == "java-web@2"
    seen = {g["group"]: g for g in adoption["groups"]}
    assert set(seen) == {f"{api.system}/web/prod", f"{api.system}/web/canary"}
    changes = {c["field"]: (c["expected"], c["live"]) for c in seen[f"{api.system}/web/prod"]["changes"]}
    assert changes["env.GC"] == (None, "G1")
    assert set(changes) == {"env.GC", "template"}
    for group in ("prod", "canary"):
        assert len((await http.get(api.path(group) + "/versions")).json()) == 1  # nothing changed

    # prod adopts v2 through a normal deploy; canary stays on v1.
    await api.act("deploy", {"template": JAVA})
    diff = (await http.get(f"{api.group}/diff", params={"old": 1, "new": 2})).json()
    assert {c["field"] for c in diff["changes"]} == {"env.GC", "template"}
    canary = (await http.get(api.path("canary") + "/versions")).json()
    assert [v["spec"]["template"]["version"] for v in canary] == [1]
    after = (await http.get("/api/v1/templates/java-web/adoption")).json()
    assert {g["group"]: g["changes"] == [] for g in after["groups"]} == {
        f"{api.system}/web/prod": True,
        f"{api.system}/web/canary": False,
    }


@pytest.mark.both_databases
async def test_a_flavor_added_is_usable_at_once_and_one_in_use_cannot_shrink_or_go(api: Api, kube: KubeCluster) -> None:
    http = api.http
    made = await http.post("/api/v1/flavors", json={"name": "mini", "cpu_millis": 100, "memory_mib": 64})
    assert made.status_code == 201, made.text
    assert made.json()["label"] == "mini/0.1C64M"
    assert (
        await http.post("/api/v1/flavors", json={"name": "mini", "cpu_millis": 1, "memory_mib": 1})
    ).status_code == 409
    await api.act("deploy", {"spec": {**MINIMAL, "flavor": "mini"}})
    assert await _resources(kube, api.system) == {"cpu": "100m", "memory": "64Mi"}
    # The alert rules measure against the size the version recorded (read out of its JSON).
    metrics = (await http.get("/metrics")).text
    labels = f'app="web",group="prod",resource="cpu",system="{api.system}"'
    assert f"dockyard_group_flavor{{{labels}}} 0.1" in metrics

    group = f"{api.system}/web/prod"
    for response in (
        await http.put("/api/v1/flavors/mini", json={"cpu_millis": 50, "memory_mib": 64}),
        await http.put("/api/v1/flavors/mini", json={"cpu_millis": 100, "memory_mib": 64, "clusters": ["elsewhere"]}),
        await http.delete("/api/v1/flavors/mini"),
    ):
        assert response.status_code == 409, response.text
        assert response.json()["details"]["groups"] == [group]
        assert group in response.json()["message"]
    assert (await http.get("/api/v1/flavors/mini")).json()["cpu_millis"] == 100

    # Growing is allowed; the next version takes the new size, the old one keeps its own.
    grown = await http.put("/api/v1/flavors/mini", json={"cpu_millis": 200, "memory_mib": 128})
    assert grown.status_code == 200, grown.text
    await api.act("deploy", {"changes": {"image": "registry.local/shop/web:2"}})
    assert await _resources(kube, api.system) == {"cpu": "200m", "memory": "128Mi"}
    await api.act("rollback", {"version": 1})
    assert await _resources(kube, api.system) == {"cpu": "100m", "memory": "64Mi"}
    versions = (await http.get(f"{api.group}/versions")).json()
    assert [v["spec"]["size"]["cpu_millis"] for v in versions] == [100, 200]

    # A flavor offered only elsewhere is refused for a new version here.
    limited = {"name": "far", "cpu_millis": 100, "memory_mib": 64, "clusters": ["elsewhere"]}
    assert (await http.post("/api/v1/flavors", json=limited)).status_code == 201
    refused = await http.post(f"{api.group}/deploy", json={"changes": {"flavor": "far"}})
    assert refused.status_code == 422, refused.text
    assert refused.json()["details"]["field"] == "flavor"
    # Not in use: it goes.
    assert (await http.delete("/api/v1/flavors/far")).status_code == 204
    assert (await http.get("/api/v1/flavors/far")).status_code == 404
    names = [f["name"] for f in (await http.get("/api/v1/flavors")).json()]
    assert names[:1] == ["mini"]  # smallest first
    assert {"tiny", "small", "medium", "large", "xlarge"} <= set(names)


async def test_templates_and_flavors_are_authorized(passive_server: InProcess) -> None:
    http = passive_server.http
    await create_group(http, "acme", headers=ADMIN)
    await create_group(http, "other", headers=ADMIN)
    viewer = await user_with_token(http, "vera")
    owner = await user_with_token(http, "otto")
    outsider = await user_with_token(http, "oscar")
    for user, role in (("vera", "viewer"), ("otto", "owner")):
        granted = await http.put(f"/api/v1/systems/acme/members/{user}", json={"role": role}, headers=ADMIN)
        assert granted.status_code in (200, 201), granted.text
    own = {
        "parameters": [{"name": "image", "type": "image", "description": "the image"}],
        "body": {"image": "${image}", "flavor": "small", "instances": 1},
    }
    base = "/api/v1/systems/acme/templates/worker"

    # A system's owner adds its templates; a viewer reads them but may not add; others do not see them.
    made = await http.post(f"{base}/versions", json=own, headers=owner)
    assert (made.status_code, made.json()["system"]) == (201, "acme"), made.text
    assert (await http.post(f"{base}/versions", json=own, headers=viewer)).status_code == 403
    assert (await http.get(base, headers=viewer)).json()["version"] == 1
    for path in ("/api/v1/systems/acme/templates", base, f"{base}/adoption"):
        hidden = await http.get(path, headers=outsider)
        assert (hidden.status_code, hidden.json()["code"]) == (404, "not_found"), path
    assert (
        await http.post(f"{base}/render", json={"parameters": {"image": IMAGE}}, headers=outsider)
    ).status_code == 404

    # Platform templates and flavors: everyone reads, only platform admins change.
    assert (await http.get("/api/v1/templates", headers=outsider)).status_code == 200
    assert (await http.post("/api/v1/templates/mine/versions", json=own, headers=owner)).status_code == 403
    assert (await http.get("/api/v1/flavors", headers=viewer)).status_code == 200
    flavor = {"name": "big", "cpu_millis": 1000, "memory_mib": 1024}
    assert (await http.post("/api/v1/flavors", json=flavor, headers=owner)).status_code == 403
    assert (await http.put("/api/v1/flavors/small", json=flavor | {"name": "small"}, headers=owner)).status_code == 403
    assert (await http.delete("/api/v1/flavors/small", headers=owner)).status_code == 403

    # A viewer may not deploy from a template; a system's template is not another system's.
    group = "/api/v1/systems/acme/apps/web/groups/prod"
    deploy = {"template": {"name": "java-web", "parameters": {"image": IMAGE}}}
    assert (await http.post(f"{group}/deploy", json=deploy, headers=viewer)).status_code == 403
    foreign = {"template": {"name": "worker", "system": "acme", "parameters": {"image": IMAGE}}}
    other = await http.post("/api/v1/systems/other/apps/web/groups/prod/versions", json=foreign, headers=ADMIN)
    assert (other.status_code, other.json()["code"]) == (404, "not_found"), other.text
    mine = await http.post(f"{group}/versions", json=foreign, headers=owner)
    assert mine.status_code == 201, mine.text
    assert mine.json()["spec"]["template"]["owner"] == "acme"


@pytest.mark.both_databases
async def test_an_orchestration_makes_its_groups_all_or_nothing_and_deploys_them(api: Api, kube: KubeCluster) -> None:
    http = api.http
    body = {
        "orchestration": "web-worker-static",
        "repository": "registry.local/shop/site",
        "parameters": {"image": IMAGE, "worker_image": "registry.local/shop/worker:1", "instances": 1},
    }
    # Three groups, one of whose names is taken in the application: nothing of it is made.
    taken = {"name": "worker", "environment": "test", "cluster": "local"}
    assert (await http.post(f"/api/v1/systems/{api.system}/apps/web/groups", json=taken)).status_code == 201
    refused = await http.post(f"/api/v1/systems/{api.system}/apps/web/orchestrate", json=body)
    assert refused.status_code == 409, refused.text
    groups = (await http.get(f"/api/v1/systems/{api.system}/apps/web/groups")).json()
    assert sorted(g["name"] for g in groups) == ["prod", "worker"]
    assert len((await http.get(api.path("worker") + "/versions")).json()) == 0

    # A new application: made with its three groups, each deployed from its template.
    made = await http.post(f"/api/v1/systems/{api.system}/apps/site/orchestrate", json=body)
    assert made.status_code == 201, made.text
    for group in made.json()["groups"]:
        done = await api.wait({"id": group["operation"]})
        assert (done["status"], done["error"]) == ("succeeded", ""), done
    deployment = await kube.get("apps/v1", "Deployment", "site-worker", namespace=api.system)
    assert deployment["spec"]["replicas"] == 1
    version = (await http.get(api.path("static", app="site") + "/versions/1")).json()
    assert version["spec"]["template"]["name"] == "nginx-static"
