"""`dockyard top` and `dockyard metrics`: paths, quantities and top's rows (no server)."""

from __future__ import annotations

import pytest
import typer

from dockyard.cli.metrics import metrics_path, quantity, series_name, top_rows


@pytest.mark.parametrize(
    ("target", "path", "names"),
    [
        ("shop", "/api/v1/systems/shop/metrics", 1),
        ("shop/web", "/api/v1/systems/shop/apps/web/metrics", 2),
        ("shop/web/prod", "/api/v1/systems/shop/apps/web/groups/prod/metrics", 3),
        ("a b/c%", "/api/v1/systems/a%20b/apps/c%25/metrics", 2),
    ],
)
def test_targets_become_api_paths(target: str, path: str, names: int) -> None:
    assert metrics_path(target) == (path, names)


@pytest.mark.parametrize("target", ["", "shop//prod", "a/b/c/d"])
def test_bad_targets_fail_with_one_line(target: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(typer.Exit):
        metrics_path(target)
    assert "is not SYSTEM, SYSTEM/APP or SYSTEM/APP/GROUP" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.25, "cores", "0.250"),
        (512, "bytes", "512B"),
        (3 * 1024 * 1024, "bytes", "3.0MiB"),
        (2048, "bytes/s", "2.0KiB/s"),
        (12.5, "packets/s", "12.50/s"),
    ],
)
def test_quantities(value: float, unit: str, text: str) -> None:
    assert quantity(value, unit) == text


def test_series_are_named_by_their_level() -> None:
    assert series_name({"pod": "web-1", "cluster": "local"}, "instance") == "web-1 (local)"
    assert series_name({"system": "shop", "app": "web", "group": "prod"}, "group") == "prod"
    assert series_name({"idc": "a"}, "idc") == "a"


def test_top_has_a_row_per_series_and_a_dash_where_a_metric_is_missing() -> None:
    def chart(unit: str, values: dict[str, float]) -> dict[str, object]:
        return {
            "unit": unit,
            "series": [{"labels": {"group": g}, "points": [[1.0, 0.0], [2.0, v]]} for g, v in values.items()],
        }

    charts = {
        "cpu": chart("cores", {"prod": 1.5, "gray": 0.5}),
        "memory_rss": chart("bytes", {"prod": 1024}),
        "memory_cache": chart("bytes", {}),
        "memory_working_set": chart("bytes", {}),
        "network_receive_bytes": chart("bytes/s", {}),
        "network_transmit_bytes": chart("bytes/s", {}),
    }
    assert top_rows(charts, "group") == [
        ["gray", "0.500", "-", "-", "-", "-", "-"],
        ["prod", "1.500", "1.0KiB", "-", "-", "-", "-"],
    ]
