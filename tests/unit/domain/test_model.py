import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.model import new_application, new_group, new_system


@pytest.mark.parametrize("name", ["prod-x", "Prod", "", "a" * 31, "gray_1"])
def test_group_names_are_letters_and_digits_so_workload_names_never_collide(name: str) -> None:
    with pytest.raises(InvalidInput) as info:
        new_group("shop", "web", name, environment="prod", cluster="local")
    assert info.value.field == "name"


def test_group_checks_environment_and_cluster() -> None:
    assert new_group("shop", "web", "gray1", environment="test", cluster="local").environment == "test"
    for environment, cluster, field in [("staging", "local", "environment"), ("prod", "Local", "cluster")]:
        with pytest.raises(InvalidInput) as info:
            new_group("shop", "web", "prod", environment=environment, cluster=cluster)
        assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "1web", "repository": "r.local/web"}, "name"),
        ({"name": "web", "repository": "R.local/web"}, "repository"),
        ({"name": "web", "repository": "r.local/web:1"}, "repository"),
        ({"name": "web", "repository": "r.local/web", "business_id": "B 1"}, "business_id"),
        ({"name": "web", "repository": "r.local/web", "owners": ("",)}, "owners[0]"),
    ],
)
def test_invalid_applications_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        new_application("shop", **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "kube-system"}, "name"),
        ({"name": "shop", "cpu_millis": -1}, "quota.cpu_millis"),
        ({"name": "shop", "description": "x" * 1001}, "description"),
    ],
)
def test_invalid_systems_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        new_system(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
