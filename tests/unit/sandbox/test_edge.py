"""The sandbox's Caddy: its start-up config and where it may write."""

from __future__ import annotations

from pathlib import Path

from dockyard.sandbox import edge
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.components import PORT_OF, components
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki


def test_the_start_up_config_keeps_the_admin_api_on_loopback_and_nothing_persisted(tmp_path: Path) -> None:
    layout, ports = Layout(tmp_path), Ports()
    made = edge.config(layout, ports)
    assert made["admin"] == {"listen": "127.0.0.1:2019", "config": {"persist": False}}
    http = made["apps"]["http"]
    assert http["metrics"] == {"per_host": True}
    server = http["servers"][edge.SERVER]
    assert server["listen"] == ["127.0.0.1:8480"]
    assert server["automatic_https"] == {"disable": True}
    assert server["routes"][0]["handle"][0]["status_code"] == 404
    assert made["storage"]["root"].startswith(str(tmp_path))
    assert all(v.startswith(str(tmp_path)) for k, v in edge.env(layout).items() if k != "PATH")


def test_caddy_is_a_component_started_from_its_config_in_the_sandbox(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    (caddy,) = [c for c in components(layout, Ports(), Binaries.unbuilt(), Pki(layout.pki)) if c.name == "caddy"]
    assert caddy.argv[1:] == ["run", "--config", str(tmp_path / "caddy.json")]
    assert caddy.port == 8480
    assert caddy.env is not None
    assert (PORT_OF["caddy"], PORT_OF["caddy admin"]) == ("edge", "edge_admin")
