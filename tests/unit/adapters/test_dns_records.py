"""The records directory: whole files put in place at once, only when their content changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.adapters.dns import DnsError, RecordsDirectory
from dockyard.domain.failures import DnsFailure


def test_writes_new_files_and_makes_the_directory(tmp_path: Path) -> None:
    records = RecordsDirectory(tmp_path / "records")
    assert records.write({"b.hosts": "10.0.0.1 x\n", "a.hosts": ""}) == ["a.hosts", "b.hosts"]
    assert (tmp_path / "records" / "b.hosts").read_text() == "10.0.0.1 x\n"
    assert oct((tmp_path / "records" / "b.hosts").stat().st_mode & 0o777) == oct(0o644)


def test_unchanged_files_are_not_touched(tmp_path: Path) -> None:
    records = RecordsDirectory(tmp_path)
    records.write({"a.hosts": "1\n", "b.hosts": "2\n"})
    os.utime(tmp_path / "a.hosts", (1, 1))
    assert records.write({"a.hosts": "1\n", "b.hosts": "3\n"}) == ["b.hosts"]
    assert (tmp_path / "a.hosts").stat().st_mtime == 1
    assert (tmp_path / "b.hosts").read_text() == "3\n"


def test_a_file_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    records = RecordsDirectory(tmp_path)
    records.write({"a.hosts": "old\n"})
    before = (tmp_path / "a.hosts").stat().st_ino
    records.write({"a.hosts": "new\n"})
    assert (tmp_path / "a.hosts").stat().st_ino != before  # a reader holding the old file sees it whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.hosts"]  # no temporary file left


def test_files_it_is_not_given_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "other.hosts").write_text("keep\n")
    RecordsDirectory(tmp_path).write({"a.hosts": ""})
    assert (tmp_path / "other.hosts").read_text() == "keep\n"


@pytest.mark.parametrize("name", ["../x.hosts", "sub/x.hosts", "", ".hidden"])
def test_names_must_be_plain_file_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(DnsError, match="plain file name"):
        RecordsDirectory(tmp_path / "d").write({name: ""})
    assert not (tmp_path / "x.hosts").exists()


def test_an_unwritable_directory_is_its_own_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(DnsFailure, match="cannot write the DNS records"):
        RecordsDirectory(blocker / "records").write({"a.hosts": ""})
