import json
import os
from pathlib import Path
from typing import Any

import pytest

from dockyard.domain.model import Quota
from dockyard.domain.render import (
    DISRUPTION_BUDGET,
    GroupRef,
    baseline_groups,
    disruption_budget,
    namespace,
    pod_security,
    render,
    system_objects,
)
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
    kinds = ["ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service"]
    assert [o["kind"] for o in objects] == kinds
    app_labels = {
        "dockyard.io/system": "shop",
        "dockyard.io/app": "web",
        "dockyard.io/business-id": "b-1001",
        "app.kubernetes.io/managed-by": "dockyard",
    }
    for o in objects:
        assert o["metadata"]["namespace"] == "shop"
        labels = app_labels if o["kind"] == "ServiceAccount" else app_labels | {"dockyard.io/group": "prod"}
        assert o["metadata"]["labels"] | labels == o["metadata"]["labels"]
    assert "dockyard.io/group" not in objects[0]["metadata"]["labels"]  # it is the application's


def test_the_pods_run_as_the_application_service_account_without_a_token() -> None:
    objects = _by_kind(render(REF, 7, SPEC))
    assert objects["ServiceAccount"]["metadata"]["name"] == "app-web"
    assert objects["ServiceAccount"]["automountServiceAccountToken"] is False
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert (pod["serviceAccountName"], pod["automountServiceAccountToken"]) == ("app-web", False)
    other_group = render(GroupRef(system="shop", app="web", group="canary", business_id="b-1001"), 1, SPEC)
    assert other_group[0] == objects["ServiceAccount"]  # shared by the application's groups


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


GOLDEN = Path(__file__).parent / "golden" / "render"


def test_the_disruption_budget_matches_its_golden_render() -> None:
    """Rewrite with DOCKYARD_UPDATE_GOLDEN=1 after a deliberate change."""
    rendered = _by_kind(render(REF, 7, SPEC))["PodDisruptionBudget"]
    golden = GOLDEN / "pod-disruption-budget.json"
    if os.environ.get("DOCKYARD_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(rendered, indent=2, sort_keys=True) + "\n")
    assert rendered == json.loads(golden.read_text())


@pytest.mark.parametrize(
    ("group", "max_unavailable", "name", "selector"),
    [
        (REF, DISRUPTION_BUDGET, "web-prod", {"dockyard.io/app": "web", "dockyard.io/group": "prod"}),
        (GroupRef("shop", "api", "canary"), 1, "api-canary", {"dockyard.io/app": "api", "dockyard.io/group": "canary"}),
        (GroupRef("ops", "db", "main"), 2, "db-main", {"dockyard.io/app": "db", "dockyard.io/group": "main"}),
    ],
)
def test_the_disruption_budget_selects_the_whole_group(
    group: GroupRef, max_unavailable: int, name: str, selector: dict[str, str]
) -> None:
    budget = disruption_budget(group, max_unavailable)
    assert (budget["apiVersion"], budget["metadata"]["name"], budget["metadata"]["namespace"]) == (
        "policy/v1",
        name,
        group.system,
    )
    assert budget["spec"]["maxUnavailable"] == max_unavailable
    # The Deployment's selector: every version and track of the group, never another group's pods.
    assert budget["spec"]["selector"] == {"matchLabels": selector} == {"matchLabels": group.selector()}
    assert budget["metadata"]["labels"]["dockyard.io/group"] == group.group


def test_no_ports_no_service_and_rendering_is_deterministic() -> None:
    bare = SPEC.with_changes(ports=[], readiness=None, liveness=None)
    kinds = ["ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget"]
    assert [o["kind"] for o in render(REF, 1, bare)] == kinds
    assert render(REF, 7, SPEC) == render(REF, 7, SPEC)


RESTRICTED_CONTAINER = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
SECCOMP = {"seccompProfile": {"type": "RuntimeDefault"}}
SECURITY_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # id, spec changes, pod securityContext, container securityContext
    ("restricted by default", {}, {"runAsNonRoot": True, "runAsUser": 10001, **SECCOMP}, RESTRICTED_CONTAINER),
    (
        "restricted as a given user",
        {"run_as_user": 1000},
        {"runAsNonRoot": True, "runAsUser": 1000, **SECCOMP},
        RESTRICTED_CONTAINER,
    ),
    ("baseline: the image's user", {"security": "baseline"}, SECCOMP, {}),
    ("baseline as root", {"security": "baseline", "run_as_user": 0}, {"runAsUser": 0, **SECCOMP}, {}),
]


@pytest.mark.parametrize(
    ("changes", "pod", "container"), [c[1:] for c in SECURITY_CASES], ids=[c[0] for c in SECURITY_CASES]
)
def test_pod_security_follows_the_version_level(
    changes: dict[str, Any], pod: dict[str, Any], container: dict[str, Any]
) -> None:
    spec = SPEC.with_changes(**changes)
    assert pod_security(spec) == (pod, container)
    template = _by_kind(render(REF, 1, spec))["Deployment"]["spec"]["template"]["spec"]
    assert template["securityContext"] == pod
    assert template["containers"][0].get("securityContext", {}) == container


NAMESPACE_CASES: list[tuple[str, set[str], str, dict[str, str]]] = [
    # id, groups that need baseline, enforced level, annotations
    ("no group needs baseline", set(), "restricted", {}),
    ("one does", {"web-legacy"}, "baseline", {"dockyard.io/baseline-groups": "web-legacy"}),
    (
        "two do, recorded sorted",
        {"web-old", "batch-prod"},
        "baseline",
        {"dockyard.io/baseline-groups": "batch-prod,web-old"},
    ),
]


@pytest.mark.parametrize(
    ("groups", "level", "annotations"), [c[1:] for c in NAMESPACE_CASES], ids=[c[0] for c in NAMESPACE_CASES]
)
def test_the_namespace_enforces_the_loosest_level_its_groups_need(
    groups: set[str], level: str, annotations: dict[str, str]
) -> None:
    ns = namespace(REF, groups)
    assert ns["metadata"]["name"] == "shop"
    assert ns["metadata"]["labels"] == {
        "dockyard.io/system": "shop",
        "app.kubernetes.io/managed-by": "dockyard",
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": "latest",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    }
    assert ns["metadata"].get("annotations", {}) == annotations
    assert baseline_groups(ns) == groups  # read back from what was written


@pytest.mark.parametrize(
    ("live", "groups"),
    [
        (None, set()),
        ({"metadata": {"name": "shop"}}, set()),
        ({"metadata": {"annotations": None}}, set()),
        ({"metadata": {"annotations": {"dockyard.io/baseline-groups": ""}}}, set()),
        ({"metadata": {"annotations": {"dockyard.io/baseline-groups": " web-a, ,web-b,"}}}, {"web-a", "web-b"}),
    ],
)
def test_baseline_groups_are_read_from_the_live_namespace(live: dict[str, Any] | None, groups: set[str]) -> None:
    assert baseline_groups(live) == groups


def test_system_objects_bound_containers_and_isolate_the_namespace() -> None:
    objects = system_objects(REF, Quota())
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("LimitRange", "dockyard-system"),
        ("NetworkPolicy", "dockyard-default-deny"),
        ("NetworkPolicy", "dockyard-allow-dns"),
        ("NetworkPolicy", "dockyard-allow-same-system"),
    ]
    assert all(o["metadata"]["namespace"] == "shop" for o in objects)
    policies = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "NetworkPolicy"}
    assert policies["dockyard-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    assert policies["dockyard-allow-dns"] == {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        ],
    }
    assert policies["dockyard-allow-same-system"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"podSelector": {}}]}],
        "egress": [{"to": [{"podSelector": {}}]}],
    }


@pytest.mark.parametrize(
    ("quota", "hard"),
    [
        (Quota(), None),
        (Quota(cpu_millis=4000), {"requests.cpu": "4000m", "limits.cpu": "4000m"}),
        (
            Quota(cpu_millis=500, memory_mib=2048),
            {"requests.cpu": "500m", "limits.cpu": "500m", "requests.memory": "2048Mi", "limits.memory": "2048Mi"},
        ),
    ],
)
def test_a_resource_quota_only_when_the_system_has_one(quota: Quota, hard: dict[str, str] | None) -> None:
    quotas = [o for o in system_objects(REF, quota) if o["kind"] == "ResourceQuota"]
    assert [q["spec"]["hard"] for q in quotas] == ([hard] if hard else [])


DRAIN_CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = [
    # id, spec changes (from SPEC, which has ports and an exec pre_stop), the container's lifecycle
    ("own pre_stop command kept", {}, {"preStop": {"exec": {"command": ["/bin/sh", "-c", "sleep 5"]}}}),
    ("ports: a preStop sleep for the edge to drop it", {"pre_stop": []}, {"preStop": {"sleep": {"seconds": 5}}}),
    (
        "short grace: the sleep fits in it",
        {"pre_stop": [], "termination_grace_seconds": 3},
        {"preStop": {"sleep": {"seconds": 2}}},
    ),
    ("grace 1: no time to drain", {"pre_stop": [], "termination_grace_seconds": 1}, None),
    ("no ports: nothing to drain", {"pre_stop": [], "ports": [], "readiness": None, "liveness": None}, None),
]


@pytest.mark.parametrize(("changes", "lifecycle"), [c[1:] for c in DRAIN_CASES], ids=[c[0] for c in DRAIN_CASES])
def test_instances_with_ports_drain_before_stopping(changes: dict[str, Any], lifecycle: dict[str, Any] | None) -> None:
    container = _by_kind(render(REF, 1, SPEC.with_changes(**changes)))["Deployment"]["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container.get("lifecycle") == lifecycle
