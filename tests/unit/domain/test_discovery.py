"""Global names: which instances answer, in which order, under which name, in which records file."""

from __future__ import annotations

import dataclasses

import pytest

from dockyard.domain.discovery import (
    ALL_IDCS,
    Endpoint,
    endpoints,
    global_name,
    hosts_file,
    merge,
    ordered,
    record_files,
    records_file,
)
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from tests.unit.records import pod_record

PROD = GroupPath("shop", "web", "prod")
BASE = pod_record()


def pod(**changes: object) -> PodRecord:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_global_name_is_group_app_system_under_the_zone() -> None:
    assert global_name(PROD) == "prod.web.shop.dockyard.internal"
    assert global_name(GroupPath("s-1", "a", "g2")) == "g2.a.s-1.dockyard.internal"


@pytest.mark.parametrize(
    ("idc", "file"),
    [
        ("a", "idc-a.hosts"),
        ("idc-b", "idc-idc-b.hosts"),
        ("", ALL_IDCS),
        ("../etc", ALL_IDCS),  # never a path
        ("A", ALL_IDCS),
        ("x" * 64, ALL_IDCS),
    ],
)
def test_records_file_of_an_idc(idc: str, file: str) -> None:
    assert records_file(idc) == file


@pytest.mark.parametrize(
    ("record", "answers"),
    [
        (pod(), True),
        (pod(ready=False), False),  # not ready
        (pod(deleting=True), False),  # terminating, even while still ready
        (pod(phase="Pending", ready=False), False),
        (pod(phase="Succeeded"), False),
        (pod(pod_ip=""), False),  # no IP yet
        (pod(pod_ip="not-an-ip"), False),
        (pod(pod_ip="fd00::5"), True),
        (pod(group="Prod"), False),  # labels made by hand that are no DNS labels
        (pod(app="a.b"), False),
    ],
)
def test_which_instances_answer(record: PodRecord, answers: bool) -> None:
    found = endpoints("c1", "a", [record])
    assert bool(found) is answers
    if answers:
        group = GroupPath(record.namespace, record.app, record.group)
        assert found[group] == [Endpoint("a", "c1", record.pod_ip)]


def test_endpoints_by_group() -> None:
    found = endpoints(
        "c1",
        "a",
        [pod(name="p1"), pod(name="p2", pod_ip="10.128.0.6"), pod(name="q", group="canary", pod_ip="10.1.1.1")],
    )
    assert found == {
        PROD: [Endpoint("a", "c1", "10.128.0.5"), Endpoint("a", "c1", "10.128.0.6")],
        GroupPath("shop", "web", "canary"): [Endpoint("a", "c1", "10.1.1.1")],
    }


A1, A2 = Endpoint("a", "ca", "10.0.0.9"), Endpoint("a", "ca", "10.0.0.10")
A3 = Endpoint("a", "ca2", "10.0.0.1")
B1 = Endpoint("b", "cb", "10.1.0.1")
C1 = Endpoint("c", "cc", "10.2.0.1")
NONE = Endpoint("", "cx", "10.3.0.1")


@pytest.mark.parametrize(
    ("caller", "found", "expected"),
    [
        ("a", [B1, A2, C1, A1], [A1, A2, B1, C1]),  # own IDC first; addresses numerically (9 < 10)
        ("b", [A1, B1, C1], [B1, A1, C1]),
        ("c", [A1, B1, C1], [C1, A1, B1]),
        ("", [C1, B1, A1], [A1, B1, C1]),  # outside every IDC: IDCs by name
        ("z", [C1, B1, A1], [A1, B1, C1]),  # an IDC without instances: the same
        ("b", [NONE, A1, B1], [B1, A1, NONE]),  # clusters without an IDC last
        ("a", [A3, A1], [A1, A3]),  # within an IDC by cluster, then address
        ("a", [], []),
    ],
)
def test_answer_order(caller: str, found: list[Endpoint], expected: list[Endpoint]) -> None:
    assert ordered(found, caller_idc=caller) == expected


def test_an_address_seen_on_two_clusters_is_answered_once_at_its_first_place() -> None:
    twin = Endpoint("b", "cb", A1.ip)
    assert ordered([twin, A1, B1], caller_idc="b") == [twin, B1]
    assert ordered([twin, A1, B1], caller_idc="a") == [A1, B1]


def test_hosts_file_lists_each_name_in_answer_order() -> None:
    canary = GroupPath("shop", "web", "canary")
    text = hosts_file({PROD: [A1, B1], canary: [B1]}, caller_idc="b")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == [
        "10.1.0.1 canary.web.shop.dockyard.internal",
        "10.1.0.1 prod.web.shop.dockyard.internal",
        "10.0.0.9 prod.web.shop.dockyard.internal",
    ]


def test_record_files_one_per_idc_and_one_for_no_idc() -> None:
    files = record_files({PROD: [A1, B1]}, idcs=["b", "a", "a", "", "Not A Label"])
    assert sorted(files) == [ALL_IDCS, "idc-a.hosts", "idc-b.hosts"]
    assert files["idc-b.hosts"] == hosts_file({PROD: [A1, B1]}, caller_idc="b")
    assert files[ALL_IDCS] == hosts_file({PROD: [A1, B1]}, caller_idc="")


def test_a_group_without_ready_instances_has_no_record() -> None:
    files = record_files(merge([endpoints("c1", "a", [pod(ready=False)])]), idcs=["a"])
    assert all("dockyard.internal\n" not in text for text in files.values())


def test_merge_keeps_every_cluster() -> None:
    assert merge([{PROD: [A1]}, {PROD: [B1]}, {}]) == {PROD: [A1, B1]}


def test_the_content_does_not_depend_on_the_order_instances_were_seen() -> None:
    one = record_files(merge([{PROD: [A1, A2]}, {PROD: [B1]}]), idcs=["a", "b"])
    two = record_files(merge([{PROD: [B1]}, {PROD: [A2, A1]}]), idcs=["b", "a"])
    assert one == two
