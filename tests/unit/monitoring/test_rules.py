"""Dockyard's rule files: what ships is what the domain generates, Prometheus accepts it, and the
roll-ups add up on the fixture (``promtool test rules``, from Debian's prometheus package)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dockyard.domain.metrics import rollup_rules
from dockyard.monitoring import rules_dir

HERE = Path(__file__).parent
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is missing: install Debian's prometheus package (scripts/setup does)"
)


def test_the_shipped_rollup_file_is_the_generated_one() -> None:
    shipped = yaml.safe_load((rules_dir() / "rollup.yml").read_text())
    assert shipped == rollup_rules(), (
        "src/dockyard/monitoring/rules/rollup.yml differs from dockyard.domain.metrics.rollup_rules(): "
        "regenerate it (docs/metrics.md says how)"
    )


@needs_promtool
def test_prometheus_accepts_every_rule_file() -> None:
    files = sorted(str(p) for p in rules_dir().glob("*.yml"))
    done = subprocess.run([PROMTOOL or "", "check", "rules", *files], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_rollups_add_up_on_the_fixture() -> None:
    done = subprocess.run(
        [PROMTOOL or "", "test", "rules", "rollup.test.yml"], cwd=HERE, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
