"""Drift between the Deployment Dockyard rendered and the live one: tables of cases."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import pytest

from dockyard.domain.drift import drift, workload_drift
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec

SPEC = parse_spec(
    {
        "image": "registry.local/shop/web:3",
        "flavor": "small",  # 1000m / 1024Mi: the apiserver serves them as 1 / 1Gi
        "instances": 3,
        "ports": [{"name": "http", "port": 8080}],
        "env": {"MODE": "prod", "EMPTY": ""},
        "config_files": {"app.yaml": "greeting: hello\n"},
        "readiness": {"port": 8080, "path": "/healthz"},
    }
)
RENDERED: dict[str, Any] = next(
    o for o in render(GroupRef(system="shop", app="web", group="prod"), 3, SPEC) if o["kind"] == "Deployment"
)["spec"]

DELETE = object()
Edit = tuple[tuple[str | int, ...], Any]  # a path of keys and list indices, and the value to put there
APP = ("template", "spec", "containers", 0)
ENV = (*APP, "env")
APP_PATH = "template.spec.containers[app]"

# What the apiserver does to the rendered spec: defaults filled in, quantities canonical, zeros left out.
SERVED_EDITS: list[Edit] = [
    (("strategy",), {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
    (("revisionHistoryLimit",), 10),
    (("progressDeadlineSeconds",), 600),
    (("template", "spec", "restartPolicy"), "Always"),
    (("template", "spec", "dnsPolicy"), "ClusterFirst"),
    (("template", "spec", "schedulerName"), "default-scheduler"),
    (("template", "spec", "serviceAccount"), "app-web"),  # the deprecated alias of serviceAccountName
    ((*APP, "imagePullPolicy"), "IfNotPresent"),
    ((*APP, "terminationMessagePath"), "/dev/termination-log"),
    ((*APP, "terminationMessagePolicy"), "File"),
    ((*APP, "resources"), {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}),
    ((*ENV, 0, "value"), DELETE),
    ((*APP, "readinessProbe", "initialDelaySeconds"), DELETE),
    ((*APP, "readinessProbe", "httpGet", "scheme"), "HTTP"),
    ((*APP, "readinessProbe", "timeoutSeconds"), 1),
    ((*APP, "readinessProbe", "successThreshold"), 1),
    ((*APP, "readinessProbe", "failureThreshold"), 3),
    (("template", "spec", "volumes", 0, "configMap", "defaultMode"), 420),
]

RENDERED_ENV = [{"name": "EMPTY", "value": ""}, {"name": "MODE", "value": "prod"}]
SERVED_ENV = [{"name": "EMPTY"}, {"name": "MODE", "value": "prod"}]
ANY = ...  # in an expected result: "this path, whatever the values"


def _edited(spec: dict[str, Any], edits: list[Edit]) -> dict[str, Any]:
    out = copy.deepcopy(spec)
    for path, value in edits:
        parent: Any = out
        for step in path[:-1]:
            parent = parent[step]
        if value is DELETE:
            del parent[path[-1]]
        elif isinstance(parent, list) and path[-1] == len(parent):
            parent.append(value)
        else:
            parent[path[-1]] = value
    return out


SERVED = _edited(RENDERED, SERVED_EDITS)


class Case(NamedTuple):
    id: str
    edits: list[Edit]  # applied to SERVED (the live object of an untouched deploy)
    expected: dict[str, Any]


DEPLOYMENT_CASES = [
    Case("untouched", [], {}),
    Case("replicas changed", [(("replicas",), 5)], {"replicas": (3, 5)}),
    Case(
        "image changed",
        [((*APP, "image"), "registry.local/shop/web:4")],
        {f"{APP_PATH}.image": ("registry.local/shop/web:3", "registry.local/shop/web:4")},
    ),
    Case(
        "env var added by hand",
        [((*ENV, 2), {"name": "DEBUG", "value": "1"})],
        {f"{APP_PATH}.env": (RENDERED_ENV, [*SERVED_ENV, {"name": "DEBUG", "value": "1"}])},
    ),
    Case("env var changed", [((*ENV, 1, "value"), "dev")], {f"{APP_PATH}.env[MODE].value": ("prod", "dev")}),
    Case(
        "env var renamed",
        [((*ENV, 1, "name"), "MODUS")],
        {f"{APP_PATH}.env": (RENDERED_ENV, [{"name": "EMPTY"}, {"name": "MODUS", "value": "prod"}])},
    ),
    Case("every env var removed", [(ENV, DELETE)], {f"{APP_PATH}.env": (RENDERED_ENV, None)}),
    Case("env in another order", [(ENV, SERVED_ENV[::-1])], {}),
    Case("resources in the rendered unit", [((*APP, "resources", "limits", "cpu"), "1000m")], {}),
    Case("resources in bytes", [((*APP, "resources", "limits", "memory"), "1073741824")], {}),
    Case(
        "resources changed",
        [((*APP, "resources", "limits", "cpu"), "2")],
        {f"{APP_PATH}.resources.limits.cpu": ("1000m", "2")},
    ),
    Case("label added by hand on the template", [(("template", "metadata", "labels", "team"), "blue")], {}),
    Case(
        "annotation added by kubectl rollout restart",
        [(("template", "metadata", "annotations"), {"kubectl.kubernetes.io/restartedAt": "2026-11-23T00:00:00Z"})],
        {},
    ),
    Case(
        "label Dockyard set, changed",
        [(("template", "metadata", "labels", "dockyard.io/version"), "4")],
        {"template.metadata.labels.dockyard.io/version": ("3", "4")},
    ),
    Case(
        "label Dockyard set, removed",
        [(("template", "metadata", "labels", "dockyard.io/app"), DELETE)],
        {"template.metadata.labels.dockyard.io/app": ("web", None)},
    ),
    Case("probe port given as a string", [((*APP, "readinessProbe", "httpGet", "port"), "8080")], {}),
    Case(
        "probe port changed",
        [((*APP, "readinessProbe", "httpGet", "port"), 9090)],
        {f"{APP_PATH}.readinessProbe.httpGet.port": (8080, 9090)},
    ),
    Case("probe removed", [((*APP, "readinessProbe"), DELETE)], {f"{APP_PATH}.readinessProbe": ANY}),
    Case(
        "probe delay set by hand where Dockyard left the default",
        [((*APP, "readinessProbe", "initialDelaySeconds"), 5)],
        {f"{APP_PATH}.readinessProbe.initialDelaySeconds": (0, 5)},
    ),
    Case(
        "sidecar added", [(("template", "spec", "containers", 1), {"name": "proxy"})], {"template.spec.containers": ANY}
    ),
    Case(
        "port added",
        [((*APP, "ports", 1), {"name": "metrics", "containerPort": 9100, "protocol": "TCP"})],
        {f"{APP_PATH}.ports": ANY},
    ),
    Case(
        "mount made writable",
        [((*APP, "volumeMounts", 0, "readOnly"), DELETE)],
        {f"{APP_PATH}.volumeMounts[config].readOnly": (True, None)},
    ),
    Case(
        "config file mounted elsewhere",
        [(("template", "spec", "volumes", 0, "configMap", "items", 0, "path"), "other.yaml")],
        {"template.spec.volumes[config].configMap.items[0].path": ("app.yaml", "other.yaml")},
    ),
    Case(
        "volume added",
        [(("template", "spec", "volumes", 1), {"name": "x", "emptyDir": {}})],
        {"template.spec.volumes": ANY},
    ),
    Case("node selector added by hand", [(("template", "spec", "nodeSelector"), {"disk": "ssd"})], {}),
    Case(
        "run as root by hand",
        [(("template", "spec", "securityContext", "runAsUser"), 0)],
        {"template.spec.securityContext.runAsUser": (10001, 0)},
    ),
    Case(
        "capability added by hand",
        [((*APP, "securityContext", "capabilities", "add"), ["NET_ADMIN"])],
        {f"{APP_PATH}.securityContext.capabilities.add": ([], ["NET_ADMIN"])},
    ),
    Case(
        "security context removed",
        [((*APP, "securityContext"), DELETE)],
        {f"{APP_PATH}.securityContext": ANY},
    ),
    Case(
        "service account changed",
        [(("template", "spec", "serviceAccountName"), "default")],
        {"template.spec.serviceAccountName": ("app-web", "default")},
    ),
    Case(
        "token mounted by hand",
        [(("template", "spec", "automountServiceAccountToken"), True)],
        {"template.spec.automountServiceAccountToken": (False, True)},
    ),
    Case(
        "two changes, in the rendered order",
        [(("template", "spec", "terminationGracePeriodSeconds"), 5), (("replicas",), 1)],
        {"replicas": (3, 1), "template.spec.terminationGracePeriodSeconds": (30, 5)},
    ),
]


def _check(found: dict[str, tuple[Any, Any]], expected: dict[str, Any]) -> None:
    assert list(found) == list(expected)
    for path, values in expected.items():
        if values is not ANY:
            assert found[path] == values, path


def test_the_rendered_object_has_no_drift_from_itself() -> None:
    assert drift(RENDERED, copy.deepcopy(RENDERED)) == {}


@pytest.mark.parametrize("case", DEPLOYMENT_CASES, ids=[c.id for c in DEPLOYMENT_CASES])
def test_drift_of_a_deployment(case: Case) -> None:
    _check(drift(RENDERED, _edited(SERVED, case.edits)), case.expected)


def test_a_whole_object_missing_shows_once_with_both_values() -> None:
    found = drift(RENDERED, _edited(SERVED, [((*APP, "readinessProbe"), DELETE)]))
    assert found == {
        f"{APP_PATH}.readinessProbe": (RENDERED["template"]["spec"]["containers"][0]["readinessProbe"], None)
    }


RULE_CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # id, expected, live, drift
    ("absent list = empty list", {"env": []}, {}, {}),
    ("absent map = empty map", {"labels": {}}, {}, {}),
    ("absent zero values", {"n": 0, "b": False, "s": ""}, {}, {}),
    ("null asks for nothing", {"replicas": None}, {"replicas": 1}, {}),
    ("empty list, filled by hand", {"env": []}, {"env": [{"name": "X"}]}, {"env": ([], [{"name": "X"}])}),
    ("owned list left out, filled by hand", {}, {"env": [{"name": "X"}]}, {"env": ([], [{"name": "X"}])}),
    ("other list left out, filled by server", {}, {"tolerations": [{"key": "k"}]}, {}),
    ("scalar list by index", {"command": ["a", "b"]}, {"command": ["a", "c"]}, {"command[1]": ("b", "c")}),
    (
        "duplicate names: by index",
        {"l": [{"name": "a", "v": 1}, {"name": "a"}]},
        {"l": [{"name": "a", "v": 2}, {"name": "a"}]},
        {"l[0].v": (1, 2)},
    ),
    ("object became a scalar", {"a": {"b": 1}}, {"a": "x"}, {"a": ({"b": 1}, "x")}),
    ("list became a scalar", {"a": [1]}, {"a": 1}, {"a": ([1], 1)}),
    ("a boolean is not a number", {"a": True}, {"a": 1}, {"a": (True, 1)}),
    ("a number is a number", {"a": 1}, {"a": 1.0}, {}),
    ("zero is not missing when asked", {"a": 1}, {}, {"a": (1, None)}),
    ("int-or-string port", {"port": 8080}, {"port": "8080"}, {}),
    ("named port is another port", {"port": 8080}, {"port": "http"}, {"port": (8080, "http")}),
    (
        "only int-or-string fields",
        {"containerPort": 8080},
        {"containerPort": "8080"},
        {"containerPort": (8080, "8080")},
    ),
    ("quantities only under resources", {"value": "1000m"}, {"value": "1"}, {"value": ("1000m", "1")}),
]
QUANTITIES_EQUAL = [
    ("500m", "0.5"),
    ("1e3", "1k"),
    ("1Gi", "1073741824"),
    ("1.5Gi", "1536Mi"),
    ("100m", "0.1"),
    ("2", 2),
    ("1E", "1000P"),
]
QUANTITIES_DIFFERENT = [("1Gi", "1G"), ("1m", "1M"), ("1", "bogus"), ("1", "1Xi")]


@pytest.mark.parametrize(("expected", "live", "found"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_drift_rules(expected: dict[str, Any], live: dict[str, Any], found: dict[str, Any]) -> None:
    assert drift(expected, live) == found


@pytest.mark.parametrize(("a", "b"), QUANTITIES_EQUAL)
def test_quantities_in_another_unit_are_equal(a: Any, b: Any) -> None:
    assert drift({"resources": {"limits": {"cpu": a}}}, {"resources": {"limits": {"cpu": b}}}) == {}


@pytest.mark.parametrize(("a", "b"), QUANTITIES_DIFFERENT)
def test_different_quantities_are_drift(a: Any, b: Any) -> None:
    assert drift({"resources": {"requests": {"x": a}}}, {"resources": {"requests": {"x": b}}}) == {
        "resources.requests.x": (a, b)
    }


def test_workload_drift_of_the_rendered_deployment_is_nothing_and_a_missing_one_is_drift() -> None:
    ref = GroupRef("shop", "web", "prod")
    spec = parse_spec({"image": "r.local/web:1", "flavor": "small", "instances": 2})
    live = next(o for o in render(ref, 1, spec) if o["kind"] == "Deployment")["spec"]
    assert workload_drift(ref, 1, spec, live) == {}
    assert workload_drift(ref, 1, spec, None) == {"deployment": ("web-prod", None)}
    assert set(workload_drift(ref, 2, spec, live)) == {
        "template.metadata.labels.dockyard.io/version",
        "template.spec.volumes[config].configMap.name",
    }
