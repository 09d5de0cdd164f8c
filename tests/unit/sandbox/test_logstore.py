"""The sandbox's VictoriaLogs: its command line (loopback only, the platform's retention, data in the
sandbox) and its place among the components."""

from __future__ import annotations

from pathlib import Path

from dockyard.sandbox import logstore
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.components import COMPONENTS, PORT_OF, components
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki


def test_argv_binds_loopback_and_sets_the_retention(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    assert logstore.argv(layout, Ports(logs=19428), Path("/bin/victoria-logs")) == [
        "/bin/victoria-logs",
        "-httpListenAddr=127.0.0.1:19428",
        f"-storageDataPath={tmp_path / 'victoria-logs'}",
        "-retentionPeriod=7d",
        "-loggerLevel=WARN",
        "-http.disableResponseCompression",
    ]
    assert logstore.url(Ports(logs=19428)) == "http://127.0.0.1:19428"


def test_it_is_a_component_started_last_on_its_port(tmp_path: Path) -> None:
    assert COMPONENTS[-1] == "victoria-logs"
    assert PORT_OF["victoria-logs"] == "logs"
    found = components(Layout(tmp_path), Ports(), Binaries.unbuilt(), Pki(tmp_path / "pki"))[-1]
    assert (found.name, found.port) == ("victoria-logs", 9428)
    assert "-retentionPeriod=7d" in found.argv
