"""`dockyard apm`: the table's cells and columns, and `release start --analysis` (no server)."""

from __future__ import annotations

import pytest
import typer

from dockyard.cli.apm import _columns, _ms, _ratio
from dockyard.cli.release import _analysis

ROW = {"key": {"method": "GET", "route": "/api/orders"}, "rps": 30.0, "error_ratio": 0.0125, "p50": 0.03}


def test_cells() -> None:
    assert _ms(0.16667) == "166.7ms"
    assert _ms(None) == "-"
    assert _ratio(0.0125) == "1.25%"
    assert _ratio(None) == "-"


def test_columns_by_version_and_by_method() -> None:
    assert [title for title, _ in _columns("version")] == ["VERSION", "REQ/S", "ERRORS", "P50", "P90", "P99"]
    columns = _columns("method")
    assert [title for title, _ in columns][:2] == ["METHOD", "ROUTE"]
    assert [get(ROW | {"p90": None, "p99": None}) for _, get in columns] == [
        "GET",
        "/api/orders",
        "30.00",
        "1.25%",
        "30.0ms",
        "-",
        "-",
    ]


def test_analysis_options() -> None:
    assert _analysis(["interval_seconds=30", "p99_ratio=1.8"]) == {"interval_seconds": 30, "p99_ratio": 1.8}


@pytest.mark.parametrize("item", ["passes", "passes=many", "passes=inf"])
def test_bad_analysis_options_fail(item: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        _analysis([item])
    assert "--analysis takes FIELD=NUMBER" in capsys.readouterr().err
