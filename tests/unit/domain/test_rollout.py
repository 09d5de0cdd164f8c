"""Readiness from Kubernetes JSON: a rollout's end, a Deployment's ready instances, why instances are not ready."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.domain.rollout import Rollout, ready_instances, rollout, why_not_ready


def deployment(
    *, generation: int = 2, observed: int | None = 2, wanted: int = 3, version: str = "7", **status: int
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "metadata": {"generation": generation},
        "spec": {"replicas": wanted, "template": {"metadata": {"labels": {"dockyard.io/version": version}}}},
        "status": dict(status),
    }
    if observed is not None:
        made["status"]["observedGeneration"] = observed
    return made


ALL = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        (None, Rollout(done=False, ready=0, wanted=0, version="")),
        (deployment(**ALL), Rollout(done=True, ready=3, wanted=3, version="7")),
        (deployment(observed=1, **ALL), Rollout(done=False, ready=3, wanted=3, version="7")),  # old spec's count
        (deployment(**{**ALL, "replicas": 4}), Rollout(done=False, ready=3, wanted=3, version="7")),  # an old pod left
        (deployment(**{**ALL, "updatedReplicas": 2}), Rollout(done=False, ready=3, wanted=3, version="7")),
        (deployment(**{**ALL, "availableReplicas": 2}), Rollout(done=False, ready=3, wanted=3, version="7")),
        (deployment(wanted=0, observed=2), Rollout(done=True, ready=0, wanted=0, version="7")),
        ({"metadata": {}, "spec": {}, "status": None}, Rollout(done=False, ready=0, wanted=1, version="")),
    ],
)
def test_rollout(live: dict[str, Any] | None, expected: Rollout) -> None:
    assert rollout(live) == expected


@pytest.mark.parametrize(
    ("live", "ready"),
    [
        (None, 0),
        (deployment(readyReplicas=2), 2),
        (deployment(observed=1, readyReplicas=2), 0),  # the controller has not seen the new count yet
        (deployment(observed=None, readyReplicas=2), 0),
        (deployment(generation=2, observed=3, readyReplicas=1), 1),
        (deployment(), 0),
        ({"metadata": {}, "status": None}, 0),
        ({"metadata": {}, "status": {"readyReplicas": 4}}, 4),
    ],
)
def test_ready_instances(live: dict[str, Any] | None, ready: int) -> None:
    assert ready_instances(live) == ready


QUOTA = {"status": {"conditions": [{"type": "ReplicaFailure", "status": "True", "message": "exceeded quota: cpu"}]}}
NO_FAILURE = {"status": {"conditions": [{"type": "ReplicaFailure", "status": "False", "message": "fine"}]}}
UNSCHEDULABLE = {
    "status": {"conditions": [{"type": "PodScheduled", "status": "False", "message": "0/3 nodes are available"}]}
}
UNSCHEDULABLE_BARE = {"status": {"conditions": [{"type": "PodScheduled", "status": "False"}]}}
PULLING = {"status": {"containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
RUNNING = {"status": {"containerStatuses": [{"state": {"running": {}}}], "conditions": [{"type": "Ready"}]}}


@pytest.mark.parametrize(
    ("live", "pods", "why"),
    [
        (None, [], ""),
        (None, [RUNNING, {}], ""),
        (QUOTA, [PULLING], "exceeded quota: cpu"),  # the Deployment's failure first
        (NO_FAILURE, [PULLING], "ImagePullBackOff"),
        (None, [RUNNING, UNSCHEDULABLE, PULLING], "0/3 nodes are available"),
        (None, [UNSCHEDULABLE_BARE], "Unschedulable"),
        (None, [PULLING, UNSCHEDULABLE], "ImagePullBackOff"),  # the first pod that says why
        ({"status": None}, [{"status": None}], ""),
    ],
)
def test_why_not_ready(live: dict[str, Any] | None, pods: list[dict[str, Any]], why: str) -> None:
    assert why_not_ready(live, pods) == why
