"""Release steps: parsing, refusals naming the step, and the split of instances at each step."""

from __future__ import annotations

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.release import Step, final_step, new_instances, parse_steps, split

STEPS = parse_steps(["gray 2", "pause", "50%", "pause 5m", "100%"])
WEIGHTED = parse_steps(["gray 1", "pause", "weight 50%", "pause", "100%"])


def test_parse_steps() -> None:
    assert (
        Step("instances", 2),
        Step("pause", None),
        Step("percent", 50),
        Step("pause", 300),
        Step("percent", 100),
    ) == STEPS
    assert parse_steps([" Gray  1 ", "PAUSE 2h", "100%"])[1] == Step("pause", 7200)
    assert [str(s) for s in STEPS] == ["gray 2", "pause", "50%", "pause 300s", "100%"]


def test_weight_steps_parse_and_read_back() -> None:
    assert WEIGHTED[2] == Step("weight", 50)
    steps = parse_steps(["gray 1", "weight 0%", "pause 30s", " WEIGHT  10% ", "weight 100%", "weight 5%", "100%"])
    assert [s.value for s in steps if s.kind == "weight"] == [0, 10, 100, 5]  # 0 holds, down is allowed
    assert [str(s) for s in steps] == [
        "gray 1",
        "weight 0%",
        "pause 30s",
        "weight 10%",
        "weight 100%",
        "weight 5%",
        "100%",
    ]
    assert parse_steps([str(s) for s in steps]) == steps
    assert parse_steps(["gray 1", "weight 007%", "100%"])[1] == Step("weight", 7)


@pytest.mark.parametrize(
    "raw",
    [
        ["gray 2", "pause", "50%", "pause 5m", "100%"],
        ["gray 1", "pause", "weight 50%", "pause", "100%"],
        ["10%", "weight 0%", "pause 2h", "weight 25%", "pause 90m", "weight 100%", "pause", "100%"],
        ["100%", "pause", "100%"],
    ],
)
def test_steps_round_trip_through_their_text(raw: list[str]) -> None:
    steps = parse_steps(raw)
    assert parse_steps([str(s) for s in steps]) == steps


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ([], "steps", "non-empty list"),
        ("gray 1", "steps", "non-empty list"),
        (["gray 1"], "steps", "must be '100%'"),
        (["100%", "gray 2"], "steps", "must be '100%'"),
        (["gray 0", "100%"], "steps[0]", "at least 1"),
        (["0%", "100%"], "steps[0]", "1% to 100%"),
        (["150%"], "steps[0]", "1% to 100%"),
        (["50%", "25%", "100%"], "steps[1]", "may not lower"),
        (["gray 1", "pause 0s", "100%"], "steps[1]", "1s to 7 days"),
        (["gray 1", "pause 8d", "100%"], "steps[1]", "unknown step"),
        (["gray 1", "pause 169h", "100%"], "steps[1]", "1s to 7 days"),
        (["100%", "pause"], "steps[1]", "cannot end with a pause"),
        (["canary 5", "100%"], "steps[0]", "unknown step"),
        ([5, "100%"], "steps[0]", "a step is text"),
        (["gray 1"] * 20 + ["100%"], "steps", "at most 20"),
        # weights: 0% to 100% of the requests, after new instances exist, before the last 100%
        (["gray 1", "weight 101%", "100%"], "steps[1]", "0% to 100% of the requests"),
        (["gray 1", "weight 1000%", "100%"], "steps[1]", "unknown step"),
        (["gray 1", "weight -5%", "100%"], "steps[1]", "unknown step"),
        (["gray 1", "weight 50", "100%"], "steps[1]", "unknown step"),
        (["gray 1", "weight", "100%"], "steps[1]", "unknown step"),
        (["gray 1", "weight 5.5%", "100%"], "steps[1]", "unknown step"),
        (["weight 10%", "gray 1", "100%"], "steps[0]", "needs new instances"),
        (["pause", "weight 10%", "100%"], "steps[1]", "needs new instances"),
        (["gray 1", "100%", "weight 50%"], "steps[2]", "after the last '100%' never runs"),
        (["gray 1", "100%", "pause", "weight 50%", "100%"], "", ""),  # accepted: 100% again after it
        (["gray 1", "weight 10%"], "steps", "must be '100%'"),
        (["weight 100%"], "steps", "must be '100%'"),  # a weight sets no instances
        (["gray 1", "weight 50%", "25%", "100%"], "", ""),  # weights do not count as instance shares
        (["50%", "weight 10%", "25%", "100%"], "steps[2]", "may not lower"),
    ],
)
def test_bad_steps_name_the_step(raw: object, field: str, message: str) -> None:
    if not message:
        parse_steps(raw)  # accepted
        return
    with pytest.raises(InvalidInput, match=message) as raised:
        parse_steps(raw)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("step", "total", "new"),
    [
        (Step("instances", 2), 10, 2),
        (Step("instances", 20), 10, 10),
        (Step("percent", 50), 10, 5),
        (Step("percent", 25), 10, 3),  # rounded up: a share never rounds to no instance at all
        (Step("percent", 1), 3, 1),
        (Step("percent", 100), 7, 7),
        (Step("percent", 50), 0, 0),
    ],
)
def test_new_instances(step: Step, total: int, new: int) -> None:
    assert new_instances(step, total) == new


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, (2, 8)), (1, (2, 8)), (2, (5, 5)), (3, (5, 5)), (4, (10, 0))],
)
def test_split_at_each_step(index: int, expected: tuple[int, int]) -> None:
    assert split(STEPS, index, 10) == expected


@pytest.mark.parametrize(
    ("index", "expected"),
    [(0, (1, 9)), (1, (1, 9)), (2, (1, 9)), (3, (1, 9)), (4, (10, 0))],
)
def test_a_weight_step_keeps_the_split(index: int, expected: tuple[int, int]) -> None:
    assert split(WEIGHTED, index, 10) == expected
    assert final_step(WEIGHTED) == 4


def test_a_weight_sets_no_instances() -> None:
    with pytest.raises(ValueError, match="a weight step sets no instances"):
        new_instances(Step("weight", 50), 10)


def test_a_leading_pause_keeps_everything_stable_and_full_goes_to_the_last_instance_step() -> None:
    steps = parse_steps(["pause", "100%"])
    assert split(steps, 0, 4) == (0, 4)
    assert final_step(steps) == 1
    assert final_step(STEPS) == 4


def test_the_canary_is_the_versions_deployment_under_its_own_name_and_selector() -> None:
    from dockyard.domain.render import GroupRef, canary, deployment
    from dockyard.domain.versions import parse_spec

    ref = GroupRef("shop", "web", "prod")
    spec = parse_spec({"image": "r/web:2", "flavor": "small", "instances": 10, "ports": [{"name": "http", "port": 80}]})
    made = canary(ref, 2, spec, 3)
    stable = deployment(ref, 2, spec)
    assert made["metadata"]["name"] == "web-prod-canary"
    assert made["spec"]["replicas"] == 3
    assert made["spec"]["selector"]["matchLabels"] == {**ref.selector(), "dockyard.io/track": "canary"}
    labels = made["spec"]["template"]["metadata"]["labels"]
    assert labels["dockyard.io/version"] == "2"
    # The group's Service selects the group: it reaches the canary's pods too.
    assert ref.selector().items() <= labels.items()
    assert made["spec"]["template"]["spec"]["containers"] == stable["spec"]["template"]["spec"]["containers"]
