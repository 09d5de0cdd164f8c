"""Bad input to `dockyard sandbox up`: one clear line, a non-zero exit, and nothing started or written."""

import dataclasses
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockyard.cli import sandbox as sandbox_cli
from dockyard.cli.main import app
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.topology import default_topology


@pytest.fixture
def sandbox_dir(tmp_path: Path) -> Path:
    return tmp_path / "sandbox"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nodes", "0"], "error: --nodes must be at least 1 (got 0)"),
        (["--nodes", "-3"], "error: --nodes must be at least 1 (got -3)"),
        (["--nodes", "3", "--topology", "t.yaml"], "error: give either --nodes or --topology, not both"),
        (["--topology", "/nonexistent/t.yaml"], "error: cannot read topology file /nonexistent/t.yaml"),
        (["--apiserver-port", "70000"], "error: --apiserver-port must be between 1 and 65535 (got 70000)"),
        (["--apiserver-port", "2379"], "error: port 2379 is given to both etcd and apiserver"),
        (["--real-nodes", "-1"], "error: --real-nodes must be 0 or more (got -1)"),
        (["--real-nodes", "2"], "error: --real-nodes 2: at most 1 real node per machine is supported"),
    ],
)
def test_bad_input_is_one_error_line_and_nothing_is_written(sandbox_dir: Path, args: list[str], message: str) -> None:
    code, output = _run("sandbox", "up", "--dir", str(sandbox_dir), *args)
    assert code == 1
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(message)
    assert not sandbox_dir.exists()


def test_invalid_topology_file_names_the_field(sandbox_dir: Path, tmp_path: Path) -> None:
    topology = tmp_path / "bad.yaml"
    topology.write_text("pools:\n  - {name: a, count: 2, idc: x, cpuModel: y, capacity: {memory: lots}}\n")
    code, output = _run("sandbox", "up", "--dir", str(sandbox_dir), "--topology", str(topology))
    assert code == 1
    assert output.strip() == (
        f"error: {topology}: pools[0].capacity.memory: Value error, "
        "'lots' is not a Kubernetes quantity such as 32, 500m or 128Gi"
    )
    assert not sandbox_dir.exists()


def test_port_in_use_names_the_port_and_the_component(sandbox_dir: Path) -> None:
    """Every component gets a port picked here, so a sandbox already running on the default ports
    (a newcomer's, beside the tests) changes nothing: only the occupied scheduler port is named."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        ports = dataclasses.replace(_free_ports_except(port), scheduler=port)
        code, output = _run("sandbox", "up", "--dir", str(sandbox_dir), *ports.flags())
    assert code == 1
    assert output.strip() == (
        f"error: port {port} (kube-scheduler) is already in use; free it or choose another with --scheduler-port"
    )
    assert not sandbox_dir.exists()


def _free_ports_except(taken: int) -> Ports:
    """Free ports for every component, none of them ``taken``."""
    while True:
        ports = Ports.pick_free()
        if taken not in dataclasses.asdict(ports).values():
            return ports


def test_status_and_kubeconfig_of_a_missing_sandbox(sandbox_dir: Path) -> None:
    for command in ("status", "kubeconfig", "kubectl"):
        code, output = _run("sandbox", command, "--dir", str(sandbox_dir))
        assert code == 1
        assert output.strip() == f"error: no sandbox in {sandbox_dir}; start one with `dockyard sandbox up`"


def test_down_of_a_missing_sandbox_stops_nothing(sandbox_dir: Path) -> None:
    code, output = _run("sandbox", "down", "--dir", str(sandbox_dir))
    assert code == 0
    assert "nothing was running" in output


def test_no_go_toolchain_is_one_error_line(sandbox_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("GOROOT", raising=False)
    code, output = _run("sandbox", "up", "--dir", str(sandbox_dir), *Ports.pick_free().flags())
    assert code == 1
    assert output.strip().startswith("error: no Go toolchain found: install Go 1.26.4 or newer")
    assert len(output.strip().splitlines()) == 1
    assert not sandbox_dir.exists()


def test_failed_build_shows_the_tail_of_the_build_log(
    sandbox_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    go = bindir / "go"
    go.write_text(
        '#!/bin/sh\nif [ "$1" = env ]; then echo go1.26.8; exit 0; fi\n'
        "echo 'go: k8s.io/api@v0.0.0: reading proxy: 404 Not Found' >&2\nexit 1\n"
    )
    go.chmod(0o755)
    monkeypatch.setenv("DOCKYARD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{bindir}:/usr/bin:/bin")
    code, output = _run("sandbox", "up", "--dir", str(sandbox_dir), *Ports.pick_free().flags())
    assert code == 1
    lines = output.strip().splitlines()
    assert lines[0].startswith("building etcd ")  # progress, then the error and the log's tail
    assert lines[1].startswith("error: `")
    assert "failed (exit 1); log: " in lines[1]
    assert "--- last lines of the build log ---" in lines
    assert lines[-1] == "go: k8s.io/api@v0.0.0: reading proxy: 404 Not Found"
    assert not sandbox_dir.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Idc_A"], "error: sandbox name 'Idc_A' must be a DNS label"),
        (["--name", "idc-a", "--dir", "x"], "error: give either --name or --dir, not both"),
        (["--name", "idc-a", "--labels", "zone=a"], "error: --labels: 'zone=a' must be KEY=VALUE with KEY one of"),
        (["--name", "idc-a", "--labels", "idc"], "error: --labels: 'idc' must be KEY=VALUE"),
        (["--name", "idc-a", "--nodes", "0"], "error: --nodes must be at least 1 (got 0)"),
    ],
)
def test_bad_named_sandboxes_are_one_error_line_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.setenv("DOCKYARD_SANDBOXES_DIR", str(tmp_path / "many"))
    code, output = _run("sandbox", "up", *args)
    assert code == 1
    assert len(output.strip().splitlines()) == 1, output
    assert output.strip().startswith(message)
    assert not (tmp_path / "many").exists()


def test_sandbox_list_shows_the_named_ones_with_their_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_SANDBOXES_DIR", str(tmp_path / "many"))
    monkeypatch.setenv("DOCKYARD_SANDBOX_DIR", str(tmp_path / "default"))
    monkeypatch.setattr(sandbox_cli.console(), "width", 400)  # no cell cut short
    layout = Layout(tmp_path / "many" / "cloud-b")
    layout.make_dirs()
    state = {
        "ports": Ports.pick_free().__dict__,
        "topology": default_topology(6, idc="cloud-b").model_dump(by_alias=True),
    }
    layout.write_state({**state, "labels": {"provider": "cloud", "region": "south"}})
    code, output = _run("sandbox", "list")
    assert code == 0, output
    row = next(line for line in output.splitlines() if "cloud-b" in line)
    assert "down" in row
    assert "provider=cloud,region=south" in row
    assert " 6 " in row
