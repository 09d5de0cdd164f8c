"""Tables as kubectl prints them: every cell whole when not on a terminal, `-o wide` for more."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app
from dockyard.cli.output import plain_table

if TYPE_CHECKING:
    from tests.unit.cli.conftest import FakeApi

LONG = "web-production-frontend-with-a-very-long-name-that-does-not-fit-in-eighty-columns"
GROUP = "/api/v1/systems/shop/apps/web/groups/prod"
HEADER = ["NAME", "STATUS", "READY", "RESTARTS", "POD", "IP", "HOST", "IP", "NODE", "VERSION", "AGE", "REASON"]
_NS = {"namespace": "shop", "name": "web-old", "reason": "its group is gone"}
NODE_ON = ["kwok-node-pool-a-000123", "17", "1h"]


@pytest.mark.parametrize(
    ("header", "rows", "lines"),
    [
        (["NAME", "READY"], [], ["NAME   READY"]),
        (["NAME", "READY"], [["a", "yes"], ["bbbb", "no"]], ["NAME   READY", "a      yes", "bbbb   no"]),
        (["A", "B"], [["x" * 200, ""]], ["A" + " " * 202 + "B", "x" * 200]),  # whole cells, no trailing spaces
        (None, [["NAME", "web"], ["DESCRIPTION", "the shop"]], ["NAME          web", "DESCRIPTION   the shop"]),
        (None, [], []),
    ],
)
def test_plain_table(header: list[str] | None, rows: list[list[str]], lines: list[str]) -> None:
    assert plain_table(header, rows) == lines


def _instance(name: str) -> dict[str, object]:
    return {
        "name": name,
        "phase": "Running",
        "ready": True,
        "restarts": 12345,
        "pod_ip": "10.244.123.234",
        "host_ip": "192.168.100.200",
        "node": "kwok-node-pool-a-000123",
        "version": "17",
        "created_at": "2026-12-02T06:00:00+00:00",
        "age_seconds": 4000,
        "reason": "",
        "deleting": False,
        "cluster": "idc-a",
    }


def test_a_piped_table_prints_every_name_whole(api: FakeApi) -> None:
    api.answers[("GET", f"{GROUP}/instances")] = {"stale": False, "items": [_instance(LONG)]}
    result = CliRunner().invoke(app, ["instances", "shop/web/prod"])
    assert result.exit_code == 0, result.output
    header, row = result.output.splitlines()
    assert header.split() == HEADER
    assert row.split() == [LONG, "Running", "yes", "12345", "10.244.123.234", "192.168.100.200", *NODE_ON]
    assert "…" not in result.output


def test_wide_adds_columns(api: FakeApi) -> None:
    api.answers[("GET", f"{GROUP}/instances")] = {"stale": False, "items": [_instance("web-1")]}
    table = CliRunner().invoke(app, ["instances", "shop/web/prod"]).output
    wide = CliRunner().invoke(app, ["instances", "shop/web/prod", "-o", "wide"]).output
    assert "CLUSTER" not in table
    assert wide.splitlines()[0].split()[-3:] == ["CONTAINER", "CLUSTER", "CREATED"]
    assert wide.splitlines()[1].split()[-3:] == ["-", "idc-a", "2026-12-02T06:00:00+00:00"]  # KWOK: no container


def test_wide_is_a_table_not_the_api_answer(api: FakeApi) -> None:
    api.answers[("GET", "/api/v1/systems/shop/apps/web/groups/prod/diff")] = {"old": 1, "new": 2, "changes": []}
    result = CliRunner().invoke(app, ["diff", "shop/web/prod", "1", "2", "-o", "wide"])
    assert result.output == "versions 1 and 2 are the same\n"


def test_a_stale_answer_is_said_on_stderr_not_in_the_table(api: FakeApi) -> None:
    api.answers[("GET", f"{GROUP}/instances")] = {"stale": True, "items": []}
    result = CliRunner().invoke(app, ["instances", "shop/web/prod"])
    assert result.stdout.split() == HEADER
    assert "the cluster is unreachable" in result.stderr


@pytest.mark.parametrize(
    ("args", "path", "answer"),
    [
        (
            ["system", "list"],
            "/api/v1/systems",
            [{"name": "s", "description": "", "quota": {"cpu_millis": 0, "memory_mib": 0}}],
        ),
        (["cluster", "list"], "/api/v1/clusters", [{"name": "c", "labels": {}, "connected": True, "detail": ""}]),
        (["app", "list", "shop"], "/api/v1/systems/shop/apps", []),
        (["group", "list", "shop/web"], "/api/v1/systems/shop/apps/web/groups", []),
        (["history", "shop"], "/api/v1/systems/shop/operations", []),
        (["release", "list", "shop/web/prod"], f"{GROUP}/releases", []),
        (["build", "list", "shop/web"], "/api/v1/systems/shop/apps/web/builds", []),
        (["token", "list"], "/api/v1/users/me/tokens", []),
        (["audit", "list"], "/api/v1/audit", {"items": [], "next_cursor": None}),
        (
            ["gc"],
            "/api/v1/gc",
            [{"cluster": "c", "reachable": True, "error": "", "leftovers": [{"kind": "Service"} | _NS]}],
        ),
    ],
)
def test_every_list_command_takes_wide(api: FakeApi, args: list[str], path: str, answer: object) -> None:
    api.answers[("GET", path)] = answer
    result = CliRunner().invoke(app, [*args, "-o", "wide"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[0].isupper()
