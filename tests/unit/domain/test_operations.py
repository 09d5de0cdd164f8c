"""Operation parameters: each kind typed, stored as the same JSON as before the types, read back."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.operations import (
    DELETE_DEADLINE,
    CreateGroupParams,
    CreateVersionParams,
    DeleteGroupParams,
    DeployParams,
    NoParams,
    OperationParams,
    ReleaseParams,
    ScaleParams,
    deadline_seconds,
    parse_params,
    to_data,
)

# (action, typed parameters, their stored JSON): the JSON is what rows written before the types hold
STORED = [
    ("deploy", DeployParams(3, 300), {"version": 3, "deadline_seconds": 300}),
    ("rollback", DeployParams(1, 60), {"version": 1, "deadline_seconds": 60}),
    ("reconcile", DeployParams(2, 300), {"version": 2, "deadline_seconds": 300}),
    (
        "deploy",
        DeployParams(3, 300, split={"a": 2, "b": 1}, away={"c": "connection refused"}),
        {"version": 3, "deadline_seconds": 300, "split": {"a": 2, "b": 1}, "away": {"c": "connection refused"}},
    ),
    ("scale", ScaleParams(4, 120, instances=5), {"version": 4, "instances": 5, "deadline_seconds": 120}),
    (
        "release",
        ReleaseParams(7, "blue-green", 200, 200, 2, 60),
        {
            "version": 7,
            "strategy": "blue-green",
            "deadline_seconds": 200,
            "step_deadline_seconds": 200,
            "max_restarts": 2,
            "keep_seconds": 60,
        },
    ),
    ("delete-group", DeleteGroupParams(), {}),
    ("create-group", CreateGroupParams("prod", "local"), {"environment": "prod", "cluster": "local"}),
    ("create-version", CreateVersionParams(2), {"version": 2}),
    ("create-system", NoParams(), {}),
    ("set-location", NoParams(), {}),
]


@pytest.mark.parametrize(("action", "params", "data"), STORED)
def test_parameters_are_stored_as_before_and_read_back(
    action: str, params: OperationParams, data: dict[str, Any]
) -> None:
    assert to_data(params) == data
    assert parse_params(action, data) == params


@pytest.mark.parametrize(
    ("action", "data", "params"),
    [
        # rows written by older code: missing keys take the defaults the old readers used
        ("release", {"version": 2, "strategy": "gray"}, ReleaseParams(2, "gray", 300, 300, 3, 300)),
        ("deploy", {"version": 2}, DeployParams(2, 300)),
        # a number stored as text, a key no reader knows, a split without its away clusters
        ("scale", {"version": "4", "instances": "2", "note": "x"}, ScaleParams(4, instances=2)),
        ("deploy", {"version": 1, "split": {"a": "3"}}, DeployParams(1, split={"a": 3})),
        ("deploy", {"version": 1, "split": None, "away": {}}, DeployParams(1)),
        # no version at all: version 0, which the runner reports as a target that no longer exists
        ("deploy", {}, DeployParams(0)),
        ("delete-group", {"deadline_seconds": 5}, DeleteGroupParams()),
        ("something-new", {"x": 1}, NoParams()),
    ],
)
def test_stored_parameters_are_read_leniently(action: str, data: dict[str, Any], params: OperationParams) -> None:
    assert parse_params(action, data) == params


@pytest.mark.parametrize(
    ("params", "seconds"),
    [
        (DeployParams(1, 42), 42),
        (ScaleParams(1, 43, instances=2), 43),
        (ReleaseParams(1, deadline_seconds=44), 44),
        (DeleteGroupParams(), DELETE_DEADLINE),
        (NoParams(), 300),
    ],
)
def test_how_long_an_operation_may_take(params: OperationParams, seconds: int) -> None:
    assert deadline_seconds(params) == seconds
