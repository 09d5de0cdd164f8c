import os
import signal
import socket
import sys
from pathlib import Path

from dockyard.sandbox import processes


def _sleeper(tmp_path: Path) -> list[str]:
    return [sys.executable, "-c", "import time; time.sleep(60)", str(tmp_path)]


def test_start_find_and_stop_by_pid_file(tmp_path: Path) -> None:
    pid_file = tmp_path / "run" / "x.pid"
    pid = processes.start(_sleeper(tmp_path), pid_file=pid_file, log_file=tmp_path / "x.log")
    running = processes.find(pid_file, marker=str(tmp_path))
    assert running is not None
    assert running.pid == pid
    assert processes.rss_bytes(pid) > 0
    assert processes.command_line(pid) == _sleeper(tmp_path)  # what `up` compares to restart a changed one
    assert processes.stop(pid_file, marker=str(tmp_path))
    assert processes.command_line(pid) == []
    assert processes.find(pid_file, marker=str(tmp_path)) is None
    assert not pid_file.exists()
    assert "starting:" in (tmp_path / "x.log").read_text()


def test_a_process_without_our_marker_is_never_stopped(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    pid_file = tmp_path / "x.pid"
    pid = processes.start(_sleeper(other), pid_file=pid_file, log_file=tmp_path / "x.log")
    try:
        # The pid file names a live process, but it is not the sandbox in tmp_path/"mine".
        assert processes.find(pid_file, marker=str(tmp_path / "mine")) is None
        assert not processes.stop(pid_file, marker=str(tmp_path / "mine"))
        assert Path(f"/proc/{pid}").exists()
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def test_port_in_use_sees_a_listener() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert processes.port_in_use(port)
    assert not processes.port_in_use(port)
