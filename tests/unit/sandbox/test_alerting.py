"""The sandbox Alertmanager's configuration: accepted by Alertmanager's own checker, and every routing
case (``alertmanager_routes.yaml``) checked with ``amtool config routes test``."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from dockyard.sandbox import alerting
from dockyard.sandbox.errors import SandboxError
from dockyard.sandbox.layout import Layout, Ports

ROUTES = yaml.safe_load((Path(__file__).parent / "alertmanager_routes.yaml").read_text())
needs_amtool = pytest.mark.skipif(
    not os.access(alerting.AMTOOL_BINARY, os.X_OK),
    reason=f"{alerting.AMTOOL_BINARY} is absent (Debian's prometheus-alertmanager, installed by scripts/setup)",
)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path)
    alerting.write_config(layout)
    return layout


def test_the_webhook_credential_is_generated_once_and_private(layout: Layout) -> None:
    token = alerting.webhook_token(layout)
    assert len(token) >= 40
    assert stat.S_IMODE(alerting.token_file(layout).stat().st_mode) == 0o600
    alerting.write_config(layout)
    assert alerting.webhook_token(layout) == token
    # The configuration refers to the file; the credential itself is in no configuration.
    assert token not in alerting.config_file(layout).read_text()


def test_the_receiver_is_dockyard_webhook_with_resolved_alerts(layout: Layout) -> None:
    config = yaml.safe_load(alerting.config_file(layout).read_text())
    (hook,) = next(r for r in config["receivers"] if r["name"] == "dockyard")["webhook_configs"]
    assert hook["url"] == alerting.DEFAULT_WEBHOOK_URL
    assert hook["send_resolved"] is True
    assert hook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": str(alerting.token_file(layout)),
    }
    assert config["route"]["group_wait"] == "5s"


def test_gossip_is_off_and_only_loopback_is_listened_on(tmp_path: Path) -> None:
    argv = alerting.argv(Layout(tmp_path), Ports(alertmanager=19093))
    assert "--cluster.listen-address=" in argv
    assert "--web.listen-address=127.0.0.1:19093" in argv
    assert any(str(tmp_path) in a for a in argv)  # processes.find recognises it by the sandbox directory


def test_pointing_the_webhook_elsewhere_refuses_a_non_http_url(layout: Layout) -> None:
    with pytest.raises(SandboxError, match="must start with http"):
        alerting.point_webhook(layout, Ports(), "file:///etc/passwd")


@needs_amtool
def test_alertmanager_accepts_the_configuration(layout: Layout) -> None:
    result = subprocess.run(
        [alerting.AMTOOL_BINARY, "check-config", str(alerting.config_file(layout))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@needs_amtool
@pytest.mark.parametrize("case", ROUTES, ids=[c["name"] for c in ROUTES])
def test_routes(layout: Layout, case: dict[str, object]) -> None:
    labels = case["labels"]
    assert isinstance(labels, dict)
    result = subprocess.run(
        [
            alerting.AMTOOL_BINARY,
            "config",
            "routes",
            "test",
            f"--config.file={alerting.config_file(layout)}",
            f"--verify.receivers={case['receivers']}",
            *(f"{k}={v}" for k, v in labels.items()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
