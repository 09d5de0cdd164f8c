"""Long commands wait by default and take `--no-wait`, the same on every one: deploy, scale, rollback,
reconcile, group delete, release start, build start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

GROUP = "/api/v1/systems/shop/apps/web/groups/prod"
APP = "/api/v1/systems/shop/apps/web"


def _release(
    status: str,
    *,
    step: int = 0,
    error: str = "",
    steps: tuple[str, ...] = ("gray 1", "pause", "100%"),
    share: Any = None,
) -> dict[str, Any]:
    return {
        "id": "r1",
        "status": status,
        "stable_version": 1,
        "new_version": 2,
        "steps": list(steps),
        "step": step,
        "error": error,
        "edge_share": share,
    }


def _build(status: str) -> dict[str, Any]:
    return {"id": "b1", "status": status, "reason": "", "image": "registry.local/shop/web@sha256:abc"}


@pytest.mark.parametrize(
    "args",
    [
        ["deploy", "shop/web/prod", "--image", "r/web:2"],
        ["scale", "shop/web/prod", "3"],
        ["rollback", "shop/web/prod", "1"],
        ["reconcile", "shop/web/prod"],
        ["group", "delete", "shop/web/prod"],
        ["release", "start", "shop/web/prod", "--image", "r/web:2"],
        ["build", "start", "shop/web", "--commit", "abc"],
    ],
)
def test_every_long_command_takes_no_wait(args: list[str]) -> None:
    help_text = CliRunner().invoke(
        app, [*args[:2], "--help"] if args[0] in ("group", "release", "build") else [args[0], "--help"]
    )
    assert "--no-wait" in help_text.output


def test_release_start_no_wait_returns_once_accepted(api: FakeApi) -> None:
    api.answers[("POST", f"{GROUP}/releases")] = _release("progressing")
    result = CliRunner().invoke(app, ["release", "start", "shop/web/prod", "--image", "r/web:2", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert result.output == "release r1 of shop/web/prod: version 1 → 2\n"
    assert [m for m, _, _ in api.sent] == ["POST"]


def test_release_start_waits_until_the_release_pauses_for_promote(api: FakeApi) -> None:
    api.answers[("POST", f"{GROUP}/releases")] = _release("progressing")
    api.in_turn(
        "GET", f"{GROUP}/releases/r1", _release("progressing"), _release("progressing"), _release("paused", step=1)
    )
    result = CliRunner().invoke(app, ["release", "start", "shop/web/prod", "--image", "r/web:2"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        "release r1 paused at step 2/3 (pause); requests to version 2 (load balancer): by instance counts; "
        "go on with `dockyard release promote shop/web/prod`"
    )
    assert len(api.sent) == 4


def test_release_start_sends_weight_steps_and_says_the_share_where_it_pauses(api: FakeApi) -> None:
    steps = ("gray 1", "pause", "weight 50%", "pause", "100%")
    api.answers[("POST", f"{GROUP}/releases")] = _release("progressing", steps=steps)
    api.answers[("GET", f"{GROUP}/releases/r1")] = _release("paused", step=3, steps=steps, share=50)
    args = ["release", "start", "shop/web/prod", "--image", "r/web:2", "--steps", "gray 1, pause,weight 50%,pause,100%"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert api.sent[0][2]["steps"] == list(steps)
    assert result.output.splitlines()[-1] == (
        "release r1 paused at step 4/5 (pause); requests to version 2 (load balancer): 50%; "
        "go on with `dockyard release promote shop/web/prod`"
    )


def test_release_start_exits_1_when_the_release_is_aborted(api: FakeApi) -> None:
    api.answers[("POST", f"{GROUP}/releases")] = _release("progressing")
    api.answers[("GET", f"{GROUP}/releases/r1")] = _release("aborted", error="instances not ready in 300s")
    result = CliRunner().invoke(app, ["release", "start", "shop/web/prod", "--image", "r/web:2"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "release r1 aborted: instances not ready in 300s"


def test_build_start_waits_until_the_build_ends(api: FakeApi) -> None:
    api.answers[("POST", f"{APP}/builds")] = _build("queued")
    api.in_turn("GET", f"{APP}/builds/b1", _build("building"), _build("succeeded"))
    result = CliRunner().invoke(app, ["build", "start", "shop/web", "--commit", "abc"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "build b1 of shop/web: queued",
        "build b1: succeeded",
        "image registry.local/shop/web@sha256:abc",
    ]


def test_build_start_exits_1_when_the_build_fails(api: FakeApi) -> None:
    api.answers[("POST", f"{APP}/builds")] = _build("queued")
    api.answers[("GET", f"{APP}/builds/b1")] = _build("failed")
    result = CliRunner().invoke(app, ["build", "start", "shop/web", "--commit", "abc"])
    assert result.exit_code == 1


def test_build_start_no_wait_returns_once_queued(api: FakeApi) -> None:
    api.answers[("POST", f"{APP}/builds")] = _build("queued")
    result = CliRunner().invoke(app, ["build", "start", "shop/web", "--commit", "abc", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert result.output == "build b1 of shop/web: queued\n"
    assert len(api.sent) == 1


@pytest.mark.parametrize(
    "command",
    [["release", "start", "shop/web/prod", "--image", "r:2"], ["build", "start", "shop/web", "--commit", "a"]],
)
def test_follow_and_no_wait_together_is_one_error_line(api: FakeApi, command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--follow", "--no-wait"])
    assert result.exit_code == 1
    assert result.output == "error: give --follow or --no-wait, not both\n"
    assert api.sent == []


def test_deploy_no_wait_says_the_operation_was_accepted(api: FakeApi) -> None:
    operation = {"id": "op1", "action": "deploy", "status": "pending", "params": {"version": 2}}
    api.answers[("POST", f"{GROUP}/deploy")] = operation
    result = CliRunner().invoke(app, ["deploy", "shop/web/prod", "--version", "2", "--no-wait"])
    assert result.exit_code == 0, result.output
    assert result.output == "deploy of shop/web/prod to version 2: accepted as operation op1\n"


def test_a_first_deploy_from_flags_is_sent_as_changes(api: FakeApi) -> None:
    """A new group's first version from --build, --instances and --flavor: the CLI sends the changes
    and leaves the rest (defaults, or a refusal) to the server."""
    operation = {"id": "op1", "action": "deploy", "status": "pending", "params": {}}
    api.answers[("POST", f"{GROUP}/deploy")] = operation
    args = ["deploy", "shop/web/prod", "--build", "b1", "--instances", "3", "--flavor", "small", "--no-wait"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert api.sent[0][2]["changes"] == {"build": "b1", "flavor": "small", "instances": 3}
