"""node-problem-detector's configuration in the sandbox: NPD's own kernel rules plus Dockyard's
``Ext4Error`` condition, each rule's pattern matching the kernel lines it is for, and the lines
the tests write parsing the way NPD's filelog plugin parses them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from dockyard.sandbox import problemdetector


def test_the_monitor_reads_the_sandbox_log_with_npds_rule_format(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    config = problemdetector.kernel_monitor(log)
    assert config["plugin"] == "filelog"
    assert config["logPath"] == str(log)
    assert config["pluginConfig"] == {
        "timestamp": "^.{15}",
        "message": r"kernel: \[.*\] (.*)",
        "timestampFormat": "Jan _2 15:04:05",
    }
    conditions = {c["type"] for c in config["conditions"]}
    assert conditions == {"KernelDeadlock", "ReadonlyFilesystem", "XfsShutdown", "Ext4Error"}
    for rule in config["rules"]:
        assert rule["type"] in ("temporary", "permanent")
        # NPD refuses a permanent rule whose condition it does not declare.
        assert (rule["type"] == "permanent") == ("condition" in rule)
        if "condition" in rule:
            assert rule["condition"] in conditions


@pytest.mark.parametrize(
    ("message", "matched"),
    [
        ("EXT4-fs error (device sda1): ext4_lookup:1234: inode #2: comm ls: deleted inode referenced: 12",
         {("temporary", "Ext4Error"), ("permanent", "Ext4HasErrors")}),
        ("EXT4-fs warning (device sda1): ext4_end_bio:323: I/O error 10", {("temporary", "Ext4Warning")}),
        ("Buffer I/O error on dev sda1, logical block 0, async page read", {("temporary", "IOError")}),
        ("EXT4-fs (sda1): Remounting filesystem read-only", {("permanent", "FilesystemIsReadOnly")}),
        ("XFS (dm-0): Corruption of in-memory data detected. Shutting down filesystem",
         {("permanent", "XfsHasShutdown")}),
        ("Killed process 1234 (java) total-vm:123456kB, anon-rss:1024kB, file-rss:0kB, shmem-rss:0kB",
         {("temporary", "OOMKilling")}),
        ("task jbd2/sda1-8:301 blocked for more than 120 seconds.", {("temporary", "TaskHung")}),
        ("task docker:7 blocked for more than 120 seconds.",
         {("temporary", "TaskHung"), ("permanent", "DockerHung")}),
        ("eth0: link up, 1000 Mbps", set()),
    ],
)  # fmt: skip
def test_each_kernel_problem_matches_its_rules(message: str, matched: set[tuple[str, str]]) -> None:
    rules = problemdetector.kernel_monitor(Path("/x"))["rules"]
    # NPD searches the buffered lines (joined) for the pattern anchored at the end: `pattern + \z`.
    hits = {(r["type"], r["reason"]) for r in rules if re.search(r["pattern"] + r"\Z", message)}
    assert hits == matched


def test_a_written_line_parses_as_npd_parses_it() -> None:
    at = time.mktime((2026, 12, 2, 9, 5, 7, 0, 0, -1))
    line = problemdetector.kernel_line("EXT4-fs error (device sda1): x", at=at, host="n1")
    assert line.startswith("Dec  2 09:05:07 n1 kernel: [")
    config = problemdetector.kernel_monitor(Path("/x"))["pluginConfig"]
    stamp = re.match(config["timestamp"], line)
    assert stamp is not None
    assert stamp.group(0) == "Dec  2 09:05:07"
    found = re.search(config["message"], line.rstrip("\n"))
    assert found is not None
    assert found.group(1) == "EXT4-fs error (device sda1): x"


def test_argv_names_the_node_its_monitor_and_the_sandbox_apiserver(tmp_path: Path) -> None:
    argv = problemdetector.argv(
        Path("/bin/npd"), node="idc-a-real-0000", config=tmp_path / "m.json", kubeconfig=tmp_path / "kc",
        apiserver_port=6443, port=20300,
    )  # fmt: skip
    assert argv[0] == "/bin/npd"
    assert "--hostname-override=idc-a-real-0000" in argv
    assert f"--config.system-log-monitor={tmp_path / 'm.json'}" in argv
    assert f"--apiserver-override=https://127.0.0.1:6443?inClusterConfig=false&auth={tmp_path / 'kc'}" in argv
    assert {"--address=127.0.0.1", "--port=20300", "--prometheus-port=0"} <= set(argv)


def test_rotating_the_log_starts_an_empty_one(tmp_path: Path) -> None:
    log = tmp_path / "kern.log"
    log.write_text("old\n")
    problemdetector.rotate_log(log)
    assert log.read_text() == ""
    assert (tmp_path / "kern.log.1").read_text() == "old\n"
