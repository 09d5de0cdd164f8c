import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.model import AppPath, GroupPath, Operation, new_application, new_group, new_system


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


def test_a_group_path_reads_and_prints_as_system_app_group() -> None:
    path = GroupPath.parse("shop/web/prod")
    assert path == GroupPath("shop", "web", "prod")
    assert str(path) == "shop/web/prod"
    assert path.app_path == AppPath("shop", "web") == AppPath.parse("shop/web")
    assert str(path.app_path) == "shop/web"
    assert path.app_path.group("prod") == path
    assert (path.namespace, path.workload) == ("shop", "web-prod")
    assert new_group("shop", "web", "prod", environment="prod", cluster="local").path == path


@pytest.mark.parametrize("text", ["shop/web", "shop/web/prod/x", "shop//prod", "", "/web/prod"])
def test_a_malformed_group_path_names_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as e:
        GroupPath.parse(text, "target")
    assert e.value.field == "target"


def test_an_operation_on_a_system_has_no_group_path() -> None:
    deploy = Operation(id="1", action="deploy", actor="a", system="s", app="a", group="g")
    assert deploy.path == GroupPath("s", "a", "g")
    with pytest.raises(ValueError, match="not on a group"):
        _ = Operation(id="2", action="create-system", actor="a", system="s").path
