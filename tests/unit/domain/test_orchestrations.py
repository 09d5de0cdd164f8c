"""Orchestration templates' plans (domain/orchestrations.py): parameters checked on their path,
placeholders filled, each group's name, environment and cluster checked, no name twice."""

from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.flavors import CATALOG
from dockyard.domain.orchestrations import BUILTIN_ORCHESTRATIONS, Orchestration, Recipe, plan
from dockyard.domain.templates import Parameter

STACK = BUILTIN_ORCHESTRATIONS[0]
GIVEN = {"image": "registry.local/shop/web:1", "worker_image": "registry.local/shop/worker:1"}


def test_the_built_in_stack_plans_three_groups_with_their_templates_parameters() -> None:
    groups = plan(STACK, {**GIVEN, "environment": "prod", "instances": 3}, flavors=CATALOG)
    assert [(g.name, g.environment, g.cluster, g.template) for g in groups] == [
        ("web", "prod", "local", "java-web"),
        ("worker", "prod", "local", "python-worker"),
        ("static", "prod", "local", "nginx-static"),
    ]
    assert groups[0].parameters == {"image": GIVEN["image"], "instances": 3, "flavor": "small"}
    assert groups[1].parameters == {"image": GIVEN["worker_image"], "instances": 3}


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({**GIVEN, "environment": "staging"}, "parameters.environment"),
        ({**GIVEN, "instances": "2"}, "parameters.instances"),
        ({"image": GIVEN["image"]}, "parameters.worker_image"),
        ({**GIVEN, "cluster": "Not A Label"}, "groups[0].cluster"),
        ({**GIVEN, "extra": 1}, "parameters.extra"),
    ],
)
def test_bad_parameters_are_refused_on_their_path(given: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        plan(STACK, given, flavors=CATALOG)
    assert e.value.field == field


def test_a_name_planned_twice_or_a_bad_one_is_refused_on_the_group() -> None:
    twice = Orchestration(
        "x",
        "",
        (Parameter("n", "string", "", "web"),),
        (Recipe("${n}", "java-web", "test", "local"), Recipe("web", "x", "test", "local")),
    )
    with pytest.raises(InvalidInput) as e:
        plan(twice, {}, flavors=CATALOG)
    assert e.value.field == "groups[1].name"
    bad = Orchestration("x", "", (), (Recipe("web-1", "java-web", environment="test", cluster="local"),))
    with pytest.raises(InvalidInput) as e:
        plan(bad, {}, flavors=CATALOG)
    assert e.value.field == "groups[0].name"


def test_a_placeholder_no_parameter_declares_is_refused_on_its_path() -> None:
    undeclared = Orchestration("x", "", (), (Recipe("web", "java-web", parameters={"image": "${image}"}),))
    with pytest.raises(InvalidInput) as e:
        plan(undeclared, {}, flavors=CATALOG)
    assert e.value.field == "groups[0].environment"
