import pytest

from dockyard.domain.clusters import validate_cluster
from dockyard.domain.errors import InvalidInput


@pytest.mark.parametrize(
    ("name", "kubeconfig", "labels", "field"),
    [
        ("Local", "/k", {}, "name"),
        ("-a", "/k", {}, "name"),
        ("a" * 64, "/k", {}, "name"),
        ("local", "", {}, "kubeconfig"),
        ("local", "/k", {"zone": "x"}, "labels.zone"),
        ("local", "/k", {"provider": "aws"}, "labels.provider"),
    ],
)
def test_invalid_cluster_names_the_field(name: str, kubeconfig: str, labels: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_cluster(name, kubeconfig, labels)
    assert info.value.field == field


def test_valid_cluster() -> None:
    cluster = validate_cluster("idc-a-1", "/etc/k", {"idc": "idc-a", "provider": "cloud", "region": "bj"})
    assert cluster.labels["provider"] == "cloud"
