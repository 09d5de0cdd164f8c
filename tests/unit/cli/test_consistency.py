"""Commands behave alike: a failure is one `error:` line on stderr and a non-zero exit, targets are
checked the same way everywhere, a command group without a subcommand shows its help."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

GROUP = "/api/v1/systems/shop/apps/web/groups/prod"


def test_a_preview_that_does_not_fit_ends_with_one_error_line(api: FakeApi) -> None:
    cluster = {"cluster": "local", "fits": 8, "wanted": 11, "connected": True, "preempted": 0}
    api.answers[("POST", f"{GROUP}/preview")] = {
        "clusters": [{**cluster, "pending": 3, "message": "0/4 nodes are available: 4 Insufficient cpu."}],
        "pending": 3,
    }
    result = CliRunner().invoke(app, ["preview", "shop/web/prod", "--instances", "11"])
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "cluster local: 8 of 11 instances fit"
    assert result.stderr == "error: 3 instance(s) would not fit\n"


def test_gc_not_confirmed_says_nothing_was_deleted(api: FakeApi) -> None:
    leftover = {"kind": "Service", "namespace": "shop", "name": "web-old", "reason": "its group is gone"}
    api.answers[("GET", "/api/v1/gc")] = [{"cluster": "local", "reachable": True, "error": "", "leftovers": [leftover]}]
    result = CliRunner().invoke(app, ["gc", "--apply"], input="n\n")
    assert result.exit_code == 1
    assert result.stderr == "error: not confirmed: nothing deleted\n"
    assert [m for m, _, _ in api.sent] == ["GET"]


@pytest.mark.parametrize(
    "args",
    [
        ["location", "default", "shop"],
        ["location", "default", "shop/web/prod"],
        ["pool", "dedicate", "local", "pool-a", "shop/"],
        ["app", "show", "shop"],
        ["build", "list", "shop"],
    ],
)
def test_a_bad_system_app_is_the_same_error_everywhere(api: FakeApi, args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.stderr == f"error: {args[-1]!r} is not SYSTEM/APP\n"
    assert api.sent == []


@pytest.mark.parametrize("group", ["member", "token", "user", "system", "release", "build", "location", "sandbox"])
def test_a_command_group_alone_shows_its_help(group: str) -> None:
    result = CliRunner().invoke(app, [group])
    assert "Usage:" in result.output
    assert result.exit_code == 2


def test_a_mistyped_command_is_answered_with_the_closest_one() -> None:
    result = CliRunner().invoke(app, ["sytem", "list"])
    assert result.exit_code == 2
    assert "No such command 'sytem'. Did you mean 'system'?" in result.output
