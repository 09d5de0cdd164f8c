from typing import Any

from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec

REF = GroupRef(system="shop", app="web", group="prod", business_id="b-1001")
SPEC = parse_spec(
    {
        "image": "registry.local/shop/web:1",
        "flavor": "small",
        "instances": 3,
        "ports": [{"name": "http", "port": 8080}],
        "env": {"MODE": "prod"},
        "config_files": {"app.yaml": "a: 1\n", "conf.d/extra.ini": "[x]\n"},
        "readiness": {"port": 8080, "path": "/healthz"},
        "liveness": {"port": 8080},
        "pre_stop": ["/bin/sh", "-c", "sleep 5"],
        "termination_grace_seconds": 45,
    }
)


def _by_kind(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objects}


def test_objects_live_in_the_system_namespace_with_the_group_labels() -> None:
    objects = render(REF, 7, SPEC)
    assert [o["kind"] for o in objects] == ["ConfigMap", "Deployment", "Service"]
    for o in objects:
        assert o["metadata"]["namespace"] == "shop"
        assert (
            o["metadata"]["labels"]
            | {
                "dockyard.io/system": "shop",
                "dockyard.io/app": "web",
                "dockyard.io/group": "prod",
                "dockyard.io/business-id": "b-1001",
                "app.kubernetes.io/managed-by": "dockyard",
            }
            == o["metadata"]["labels"]
        )


def test_the_config_map_is_per_version_and_mounted_by_path() -> None:
    objects = _by_kind(render(REF, 7, SPEC))
    config = objects["ConfigMap"]
    assert config["metadata"]["name"] == "web-prod-v7"
    assert config["immutable"] is True
    assert config["data"] == {"file-0": "a: 1\n", "file-1": "[x]\n"}
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["volumes"] == [
        {
            "name": "config",
            "configMap": {
                "name": "web-prod-v7",
                "items": [{"key": "file-0", "path": "app.yaml"}, {"key": "file-1", "path": "conf.d/extra.ini"}],
            },
        }
    ]
    assert pod["containers"][0]["volumeMounts"] == [
        {"name": "config", "mountPath": "/etc/dockyard/config", "readOnly": True}
    ]


def test_the_deployment_carries_the_version_but_selects_the_group() -> None:
    deployment = _by_kind(render(REF, 7, SPEC))["Deployment"]
    assert deployment["metadata"]["name"] == "web-prod"
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["selector"] == {"matchLabels": {"dockyard.io/app": "web", "dockyard.io/group": "prod"}}
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"]["dockyard.io/version"] == "7"
    assert template["spec"]["terminationGracePeriodSeconds"] == 45
    container = template["spec"]["containers"][0]
    assert container["image"] == "registry.local/shop/web:1"
    assert (
        container["resources"]["requests"] == container["resources"]["limits"] == {"cpu": "1000m", "memory": "1024Mi"}
    )
    assert container["env"] == [{"name": "MODE", "value": "prod"}]
    assert container["readinessProbe"] == {
        "httpGet": {"path": "/healthz", "port": 8080},
        "initialDelaySeconds": 0,
        "periodSeconds": 10,
    }
    assert container["livenessProbe"]["tcpSocket"] == {"port": 8080}
    assert container["lifecycle"] == {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 5"]}}}


def test_the_service_selects_every_version_of_the_group() -> None:
    service = _by_kind(render(REF, 7, SPEC))["Service"]
    assert service["spec"]["selector"] == {"dockyard.io/app": "web", "dockyard.io/group": "prod"}
    assert service["spec"]["ports"] == [{"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}]


def test_no_ports_no_service_and_rendering_is_deterministic() -> None:
    bare = SPEC.with_changes(ports=[], readiness=None, liveness=None)
    assert [o["kind"] for o in render(REF, 1, bare)] == ["ConfigMap", "Deployment"]
    assert render(REF, 7, SPEC) == render(REF, 7, SPEC)
