"""group_state: a table of cases."""

from __future__ import annotations

import pytest

from dockyard.domain.status import InstanceView, group_state

R1 = InstanceView("1", ready=True)
N1 = InstanceView("1", ready=False)
R2 = InstanceView("2", ready=True)
GONE = InstanceView("1", ready=True, deleting=True)

CASES = [
    # current, wanted, instances, busy, drifted, connected, state
    (None, 0, [], False, False, True, "not-deployed"),
    (None, 0, [], True, False, True, "progressing"),
    (1, 3, [R1, R1, R1], True, False, True, "progressing"),
    (1, 3, [R1, R1, R1], False, False, True, "healthy"),
    (1, 3, [R1, R1, R1, GONE], False, False, True, "healthy"),
    (1, 3, [R1, R1, N1], False, False, True, "degraded"),
    (1, 3, [R1, R1], False, False, True, "degraded"),
    (1, 2, [R1, R1, R2], False, False, True, "degraded"),
    (2, 2, [R1, R1], False, False, True, "degraded"),
    (1, 3, [R1, R1, R1], False, True, True, "drifted"),
    (1, 3, [], False, False, False, "unknown"),
    (1, 3, [R1, R1, R1], False, False, False, "healthy"),
    (1, 0, [], False, False, True, "healthy"),
]


@pytest.mark.parametrize(("current", "wanted", "instances", "busy", "drifted", "connected", "state"), CASES)
def test_group_state(
    current: int | None,
    wanted: int,
    instances: list[InstanceView],
    busy: bool,
    drifted: bool,
    connected: bool,
    state: str,
) -> None:
    got = group_state(
        current_version=current, wanted=wanted, instances=instances, busy=busy, drifted=drifted, connected=connected
    )
    assert got == state
