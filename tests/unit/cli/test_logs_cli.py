"""`dockyard logs`: what it asks and prints, and following by resume points (no server)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner

from dockyard.cli.logs import line_text
from dockyard.cli.main import app
from tests.unit.cli.conftest import FakeApi

PATH = "/api/v1/systems/shop/apps/web/groups/prod/logs"


def _line(text: str, instance: str = "web-a") -> dict[str, Any]:
    return {
        "time": "2026-12-02T14:00:00.000000001Z",
        "cluster": "local",
        "instance": instance,
        "version": "3",
        "text": text,
    }


def test_a_line_prints_with_its_time_instance_version_and_cluster() -> None:
    assert line_text(_line("GET / 200")) == "2026-12-02T14:00:00.000000001Z web-a [v3 @local] GET / 200"


def test_logs_asks_with_the_filters_and_prints_the_lines(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []
    monkeypatch.setattr(api, "get", lambda path, **params: asked.append(params) or api.request("GET", path))
    api.answers[("GET", PATH)] = {"lines": [_line("one"), _line("two", "web-b")], "cursor": "local/web-a@1.1"}
    done = CliRunner().invoke(
        app, ["logs", "shop/web/prod", "--grep", '{app="x"} | .*', "--instance", "web-a", "--since", "15m"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [line_text(_line("one")), line_text(_line("two", "web-b"))]
    assert asked == [{"instance": ["web-a"], "version": None, "since": "15m", "tail": None, "text": '{app="x"} | .*'}]


def test_no_line_says_so_on_stderr_and_succeeds(api: FakeApi) -> None:
    api.answers[("GET", PATH)] = {"lines": [], "cursor": ""}
    done = CliRunner().invoke(app, ["logs", "shop/web/prod"])
    assert done.exit_code == 0
    assert done.stdout == ""
    assert done.stderr == "no log lines of shop/web/prod (its instances have written none that match)\n"


def test_follow_asks_again_from_each_resume_point_until_ctrl_c(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []
    monkeypatch.setattr(api, "get", lambda path, **params: asked.append(params) or api.request("GET", path))
    api.in_turn(
        "GET",
        PATH,
        {"lines": [_line("one")], "cursor": "c1"},
        {"lines": [], "cursor": "c1"},
        {"lines": [_line("two")], "cursor": "c2"},
    )
    sleeps = iter([None, None, KeyboardInterrupt()])

    def sleep(_seconds: float) -> None:
        raised = next(sleeps)
        if raised is not None:
            raise raised

    monkeypatch.setattr("time.sleep", sleep)
    done = CliRunner().invoke(app, ["logs", "shop/web/prod", "-f", "--tail", "5"])
    assert done.exit_code == 0, done.output
    assert [x.split("] ")[1] for x in done.output.splitlines()] == ["one", "two"]
    assert [a.get("after") for a in asked] == [None, "c1", "c1"]
    assert asked[0]["tail"] == 5
    assert asked[1]["tail"] is None


def test_history_searches_the_store_with_the_same_filters(api: FakeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(api, "get", lambda path, **params: asked.append((path, params)) or api.request("GET", path))
    api.answers[("GET", PATH + "/search")] = {"lines": [{**_line("boom"), "level": "error"}], "more": True}
    done = CliRunner().invoke(
        app,
        ["logs", "shop/web/prod", "--history", "--grep", '"x" | stats', "--level", "error", "--since", "2d"],
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == [line_text(_line("boom"))]
    assert "older lines match too" in done.stderr
    assert asked == [
        (
            PATH + "/search",
            {
                "q": '"x" | stats',
                "instance": None,
                "version": None,
                "level": ["error"],
                "since": "2d",
                "until": None,
                "limit": None,
            },
        )
    ]


@pytest.mark.parametrize(
    "args",
    [["--history", "-f"], ["--history", "--tail", "5"], ["--level", "error"], ["--until", "1h"], ["--limit", "3"]],
)
def test_history_options_go_together(api: FakeApi, args: list[str]) -> None:
    done = CliRunner().invoke(app, ["logs", "shop/web/prod", *args])
    assert done.exit_code == 1
    assert done.stderr.startswith("error: ")


def test_history_without_matches_says_so(api: FakeApi) -> None:
    api.answers[("GET", PATH + "/search")] = {"lines": [], "more": False}
    done = CliRunner().invoke(app, ["logs", "shop/web/prod", "--history"])
    assert done.exit_code == 0
    assert done.stderr == "no stored log lines of shop/web/prod match\n"
