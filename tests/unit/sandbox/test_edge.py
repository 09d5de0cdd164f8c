"""The sandbox's HAProxy: its configuration (checked by HAProxy itself when installed), its maps and
its place among the components."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from dockyard.sandbox import edge
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.components import PORT_OF, components
from dockyard.sandbox.errors import ComponentError
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki


def test_the_config_routes_by_the_hosts_map_over_a_pool_of_checked_backends(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    text = edge.config(layout, Ports(), slots=3)
    assert f"stats socket {tmp_path / 'haproxy.sock'} mode 600 level admin" in text
    assert "bind 127.0.0.1:8480" in text
    assert "bind 127.0.0.1:2019" in text  # the Prometheus exporter, loopback only
    assert "http-request use-service prometheus-exporter if { path /metrics }" in text
    assert f"var(txn.host),map({tmp_path / 'hosts.map'})" in text
    assert "http-request return status 404" in text
    assert [line for line in text.splitlines() if line.startswith("backend ")] == [
        "backend edge_0 from pool",
        "backend edge_1 from pool",
        "backend edge_2 from pool",
    ]
    assert text.count(f'uri-lf "%[be_name,map({tmp_path / "health.map"},/)]"') == 1  # in `defaults pool`
    for wanted in ("hdr Retry-After 1", "if { nbsrv eq 0 }", "retries 3", "option redispatch 1"):
        assert wanted in text
    assert "expose-fd" not in text  # nothing here ever reloads HAProxy


def test_write_config_empties_both_maps(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    edge.hosts_map(layout).write_text("prod.web.shop.dockyard.internal edge_0\n")
    edge.write_config(layout, Ports())
    assert edge.hosts_map(layout).read_text() == edge.health_map(layout).read_text() == ""
    assert edge.config_path(layout).read_text() == edge.config(layout, Ports())


@pytest.mark.skipif(shutil.which("haproxy", path="/usr/sbin:/usr/bin") is None, reason="no haproxy installed")
def test_haproxy_accepts_the_config(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    edge.write_config(layout, Ports())
    done = subprocess.run(
        [edge.BINARY, "-c", "-q", "-f", str(edge.config_path(layout))], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_haproxy_is_a_component_started_in_the_foreground_from_its_config(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    (haproxy,) = [c for c in components(layout, Ports(), Binaries.unbuilt(), Pki(layout.pki)) if c.name == "haproxy"]
    assert haproxy.argv == ["/usr/sbin/haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")]
    assert haproxy.port == 8480
    assert (PORT_OF["haproxy"], PORT_OF["haproxy metrics"]) == ("edge", "edge_admin")


def test_a_missing_haproxy_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ComponentError, match="apt-get install -y --no-install-recommends haproxy"):
        edge.check_installed(str(tmp_path / "haproxy"))
