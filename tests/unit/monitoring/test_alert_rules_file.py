"""The shipped alert rules (``dockyard/monitoring/rules/alerts.yml``): valid for Prometheus, one per built-in
rule of the catalogue, and behaving as ``alerts.test.yml`` says under ``promtool test rules``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from dockyard.domain.alert_rules import RULES
from dockyard.monitoring import rules_dir

PROMTOOL = "/usr/bin/promtool"
RULE_FILE = rules_dir() / "alerts.yml"
HERE = Path(__file__).parent
needs_promtool = pytest.mark.skipif(
    not os.access(PROMTOOL, os.X_OK), reason=f"{PROMTOOL} is absent (Debian's prometheus, installed by scripts/setup)"
)


def test_one_alert_per_builtin_rule_joined_with_its_threshold() -> None:
    (group,) = yaml.safe_load(RULE_FILE.read_text())["groups"]
    alerts = {r["alert"]: r for r in group["rules"]}
    assert sorted(alerts) == sorted(r.alert for r in RULES.values())
    for key, builtin in RULES.items():
        found = alerts[builtin.alert]
        assert found["labels"]["dockyard_rule"] == key
        assert f'dockyard_alert_threshold{{rule="{key}"}}' in found["expr"]


@needs_promtool
def test_prometheus_accepts_the_rules() -> None:
    result = subprocess.run([PROMTOOL, "check", "rules", str(RULE_FILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_rules_against_fixtures() -> None:
    result = subprocess.run(
        [PROMTOOL, "test", "rules", "alerts.test.yml"], cwd=HERE, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
