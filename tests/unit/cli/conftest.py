"""A fake Dockyard server for CLI tests: answers by (method, path) from a table, records requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dockyard.cli import common

Answer = Any | Callable[[Any], Any]


class FakeApi:
    """Stands for :class:`dockyard.cli.client.Client`: ``answers[(METHOD, path)]`` is the JSON
    answered, or a function of the request body; :meth:`in_turn` gives several answers in turn."""

    def __init__(self) -> None:
        self.server = "http://fake"
        self.answers: dict[tuple[str, str], Answer] = {}
        self.turns: dict[tuple[str, str], list[Any]] = {}
        self.sent: list[tuple[str, str, Any]] = []

    def in_turn(self, method: str, path: str, *values: Any) -> None:
        """Answer ``values`` one after the other to (method, path); the last one repeats."""
        self.turns[(method, path)] = list(values)

    def request(self, method: str, path: str, body: Any = None) -> Any:
        self.sent.append((method, path, body))
        turns = self.turns.get((method, path))
        if turns:
            return turns.pop(0) if len(turns) > 1 else turns[0]
        answer = self.answers[(method, path)]
        return answer(body) if callable(answer) else answer

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def close(self) -> None:
        pass


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> FakeApi:
    fake = FakeApi()
    monkeypatch.setattr(common, "Client", lambda server, token: fake)
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    return fake
