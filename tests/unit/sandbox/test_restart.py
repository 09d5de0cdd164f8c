"""When `sandbox up` restarts a component that already runs."""

from __future__ import annotations

import sys
from pathlib import Path

from dockyard.sandbox import cluster, processes
from dockyard.sandbox.components import Component
from dockyard.sandbox.layout import Layout


def test_a_running_component_whose_command_line_changed_is_restarted(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "sandbox")
    layout.make_dirs()
    argv = [sys.executable, "-c", "import time; time.sleep(60)", str(layout.root), "--metric-resolution=15s"]
    processes.start(argv, pid_file=layout.pid_file("metrics-server"), log_file=layout.log("metrics-server"))
    try:
        same = Component("metrics-server", 1, argv, lambda: True)
        assert cluster._restart_reason(layout, same, set()) is None
        bigger = Component("metrics-server", 1, [*argv[:-1], "--metric-resolution=60s"], lambda: True)
        assert cluster._restart_reason(layout, bigger, set()) == "its command line changed"
    finally:
        processes.stop(layout.pid_file("metrics-server"), marker=str(layout.root))
