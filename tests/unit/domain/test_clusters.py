from typing import Any

import pytest
import yaml

from dockyard.domain.clusters import IN_CLUSTER, MAX_KUBECONFIG_BYTES, check_kubeconfig, validate_cluster
from dockyard.domain.errors import InvalidInput

SECRET = "s3cret-token-value"


def kubeconfig(**changes: Any) -> dict[str, Any]:
    """A self-contained kubeconfig with two contexts; ``changes`` replace top-level keys."""
    data: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "prod",
        "contexts": [
            {"name": "prod", "context": {"cluster": "c1", "user": "u1", "namespace": "ops"}},
            {"name": "other", "context": {"cluster": "c2", "user": "u2"}},
        ],
        "clusters": [
            {"name": "c1", "cluster": {"server": "https://10.0.0.1:6443", "certificate-authority-data": "Q0E="}},
            {"name": "c2", "cluster": {"server": "https://10.0.0.2:6443"}},
        ],
        "users": [{"name": "u1", "user": {"token": SECRET}}, {"name": "u2", "user": {"token": "other-secret"}}],
    }
    data.update(changes)
    return data


def text(data: Any) -> str:
    return yaml.safe_dump(data)


def sealed(value: str) -> str:
    return "SEALED[" + value + "]"


def test_a_kubeconfig_is_reduced_to_its_current_context_and_sealed() -> None:
    cluster = validate_cluster("local", text(kubeconfig()), {"idc": "a"}, seal=sealed)
    assert cluster.kubeconfig_form == "sealed"
    assert cluster.kubeconfig.startswith("SEALED[")
    stored = yaml.safe_load(cluster.kubeconfig.removeprefix("SEALED[").removesuffix("]"))
    assert stored["current-context"] == "prod"
    assert [c["name"] for c in stored["contexts"]] == ["prod"]
    assert stored["clusters"] == [kubeconfig()["clusters"][0]]
    assert stored["users"] == [{"name": "u1", "user": {"token": SECRET}}]
    assert "other-secret" not in cluster.kubeconfig
    assert SECRET not in repr(cluster)


def test_in_cluster_is_kept_as_is_and_not_sealed() -> None:
    cluster = validate_cluster("here", IN_CLUSTER, {}, seal=sealed)
    assert (cluster.kubeconfig, cluster.kubeconfig_form) == (IN_CLUSTER, "in-cluster")


def test_a_context_without_user_is_accepted() -> None:
    data = kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "c1"}}])
    assert check_kubeconfig(text(data))["users"] == []


def _user(**user: Any) -> dict[str, Any]:
    return kubeconfig(users=[{"name": "u1", "user": {"token": SECRET, **user}}])


@pytest.mark.parametrize(
    ("name", "config", "labels", "field", "message"),
    [
        ("Local", text(kubeconfig()), {}, "name", "DNS label"),
        ("-a", text(kubeconfig()), {}, "name", "DNS label"),
        ("a" * 64, text(kubeconfig()), {}, "name", "DNS label"),
        ("local", "", {}, "kubeconfig", "content"),
        ("local", "/etc/kubernetes/admin.conf", {}, "kubeconfig", "YAML mapping"),
        ("local", "   \n", {}, "kubeconfig", "content"),
        ("local", text(kubeconfig()) + "# " + "x" * MAX_KUBECONFIG_BYTES, {}, "kubeconfig", "KiB"),
        ("local", f"users: [{{name: u, user: {{token: {SECRET}}}}}\nclusters: [", {}, "kubeconfig", "line 2"),
        ("local", f"a: &x {SECRET}\nb: *x\n", {}, "kubeconfig", "aliases"),
        ("local", text(kubeconfig(**{"current-context": None})), {}, "kubeconfig", "no current-context"),
        ("local", text(kubeconfig(**{"current-context": "nope"})), {}, "kubeconfig", "none of its contexts"),
        (
            "local",
            text(kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "zz", "user": "u1"}}])),
            {},
            "kubeconfig",
            "none of its clusters",
        ),
        (
            "local",
            text(kubeconfig(contexts=[{"name": "prod", "context": {"cluster": "c1", "user": "zz"}}])),
            {},
            "kubeconfig",
            "none of its users",
        ),
        (
            "local",
            text(kubeconfig(clusters=[{"name": "c1", "cluster": {"server": "10.0.0.1:6443"}}])),
            {},
            "kubeconfig",
            "needs a server",
        ),
        (
            "local",
            text(
                kubeconfig(
                    clusters=[{"name": "c1", "cluster": {"server": "https://a", "certificate-authority": "/etc/ca"}}]
                )
            ),
            {},
            "kubeconfig",
            "'certificate-authority'",
        ),
        ("local", text(_user(**{"client-key": "/etc/shadow"})), {}, "kubeconfig", "'client-key'"),
        ("local", text(_user(**{"client-certificate": "c.crt"})), {}, "kubeconfig", "'client-certificate'"),
        ("local", text(_user(tokenFile="/var/run/token")), {}, "kubeconfig", "'tokenFile'"),
        ("local", text(_user(exec={"command": "/bin/sh", "args": ["-c", "id"]})), {}, "kubeconfig", "'exec'"),
        ("local", text(_user(**{"auth-provider": {"name": "oidc"}})), {}, "kubeconfig", "'auth-provider'"),
        ("local", text(kubeconfig()), {"zone": "x"}, "labels.zone", "unknown cluster label"),
        ("local", text(kubeconfig()), {"provider": "aws"}, "labels.provider", "provider must be"),
    ],
)
def test_invalid_clusters_name_the_field_and_never_quote_the_kubeconfig(
    name: str, config: str, labels: dict[str, str], field: str, message: str
) -> None:
    seals: list[str] = []
    with pytest.raises(InvalidInput) as info:
        validate_cluster(name, config, labels, seal=lambda v: seals.append(v) or v)
    assert info.value.field == field
    assert message in str(info.value)
    assert SECRET not in str(info.value)
    assert seals == []  # nothing is sealed for invalid input


def test_valid_cluster_labels() -> None:
    cluster = validate_cluster(
        "idc-a-1", text(kubeconfig()), {"idc": "idc-a", "provider": "cloud", "region": "bj"}, seal=sealed
    )
    assert cluster.labels["provider"] == "cloud"
