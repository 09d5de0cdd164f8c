"""What to deploy, as the deploy, preview and release commands send it: exactly one of version, spec
or changes (preview may send none: the latest as it is), else one error line naming the flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer

from dockyard.cli.targets import what_to_deploy


def test_one_of_them_is_sent_as_the_api_takes_it(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("image: registry.local/shop/web:1\ninstances: 2\n")
    assert what_to_deploy(3, None, {}, flags="--image") == {"version": 3}
    assert what_to_deploy(None, spec, {}, flags="--image") == {
        "spec": {"image": "registry.local/shop/web:1", "instances": 2}
    }
    assert what_to_deploy(None, None, {"instances": 4}, flags="--image") == {"changes": {"instances": 4}}
    assert what_to_deploy(None, None, {}, flags="--instances", required=False) == {"changes": {}}


@pytest.mark.parametrize(
    ("version", "spec", "changes", "required"),
    [
        (None, None, {}, True),
        (1, Path("spec.yaml"), {}, True),
        (1, None, {"image": "x"}, True),
        (None, Path("spec.yaml"), {"image": "x"}, False),
    ],
)
def test_none_or_several_is_one_error_line_naming_the_flags(
    capsys: pytest.CaptureFixture[str], version: int | None, spec: Path | None, changes: dict[str, Any], required: bool
) -> None:
    with pytest.raises(typer.Exit) as e:
        what_to_deploy(version, spec, changes, flags="--image, --build", required=required)
    assert e.value.exit_code == 1
    assert capsys.readouterr().err == "error: give --version, --spec, or changes (--image, --build)\n"
