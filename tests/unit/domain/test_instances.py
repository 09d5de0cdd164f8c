"""One instance's views: which instance a name means, its events as rows, the log's tail bound."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.domain.instances import MAX_TAIL, InstanceEvent, check_tail, events, find
from dockyard.domain.model import GroupPath
from tests.unit.records import pod_record

WEB = GroupPath("shop", "web", "prod")


def test_find_picks_the_groups_instance_by_name_on_any_of_its_clusters() -> None:
    a, b = pod_record(name="web-prod-a"), pod_record(name="web-prod-b")
    assert find("web-prod-b", [("idc-a", a), ("idc-b", b)], WEB) == ("idc-b", b)


@pytest.mark.parametrize("name", ["web-prod-c", "", "../web-prod-a", "WEB-PROD-A"])
def test_a_name_that_is_not_one_of_the_groups_instances_is_not_found(name: str) -> None:
    with pytest.raises(NotFound, match="does not exist in group shop/web/prod"):
        find(name, [("local", pod_record(name="web-prod-a"))], WEB)


@pytest.mark.parametrize(
    ("tail", "ok"),
    [(1, True), (200, True), (MAX_TAIL, True), (0, False), (-5, False), (MAX_TAIL + 1, False), (True, False)],
)
def test_the_tail_is_bounded(tail: int, ok: bool) -> None:
    if ok:
        assert check_tail(tail) == tail
    else:
        with pytest.raises(InvalidInput) as e:
            check_tail(tail)
        assert e.value.field == "tail"


SCHEDULED: dict[str, Any] = {
    "type": "Normal",
    "reason": "Scheduled",
    "message": "Successfully assigned shop/web-prod-a to n1",
    "involvedObject": {"kind": "Pod", "name": "web-prod-a", "uid": "u1"},
    "eventTime": "2026-12-02T10:00:00.000000Z",
    "reportingComponent": "default-scheduler",
    "reportingInstance": "default-scheduler-host",
}
UNHEALTHY: dict[str, Any] = {
    "type": "Warning",
    "reason": "Unhealthy",
    "message": "Readiness probe failed: connection refused\n",
    "involvedObject": {"kind": "Pod", "name": "web-prod-a", "uid": "u1"},
    "firstTimestamp": "2026-12-02T10:00:05Z",
    "lastTimestamp": "2026-12-02T10:01:05Z",
    "count": 7,
    "source": {"component": "kubelet", "host": "n1"},
}
PULLED: dict[str, Any] = {
    "type": "Normal",
    "reason": "Pulled",
    "involvedObject": {"kind": "Pod", "name": "web-prod-a", "uid": "u1"},
    "series": {"count": 3, "lastObservedTime": "2026-12-02T10:00:30Z"},
    "eventTime": "2026-12-02T10:00:02Z",
    "note": "image pulled",
}
EARLIER_POD: dict[str, Any] = {**SCHEDULED, "involvedObject": {"kind": "Pod", "name": "web-prod-a", "uid": "u0"}}


def t(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


@pytest.mark.parametrize(
    ("raw", "uid", "want"),
    [
        ([], "u1", []),
        (
            [UNHEALTHY, SCHEDULED],
            "u1",
            [
                InstanceEvent(
                    "Normal",
                    "Scheduled",
                    "Successfully assigned shop/web-prod-a to n1",
                    1,
                    t("2026-12-02T10:00:00+00:00"),
                    t("2026-12-02T10:00:00+00:00"),
                    "default-scheduler default-scheduler-host",
                ),
                InstanceEvent(
                    "Warning",
                    "Unhealthy",
                    "Readiness probe failed: connection refused",
                    7,
                    t("2026-12-02T10:00:05+00:00"),
                    t("2026-12-02T10:01:05+00:00"),
                    "kubelet n1",
                ),
            ],
        ),
        (
            [PULLED],
            "",
            [
                InstanceEvent(
                    "Normal",
                    "Pulled",
                    "image pulled",
                    3,
                    t("2026-12-02T10:00:02+00:00"),
                    t("2026-12-02T10:00:30+00:00"),
                    "",
                )
            ],
        ),
        ([EARLIER_POD], "u1", []),  # about an earlier pod of the same name
        ([{"reason": "X", "eventTime": "not a time"}], "u1", [InstanceEvent("Normal", "X", "", 1, None, None, "")]),
    ],
)
def test_events_become_rows_oldest_first(raw: list[dict[str, Any]], uid: str, want: list[InstanceEvent]) -> None:
    assert events(raw, uid=uid) == want
