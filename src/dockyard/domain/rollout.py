"""Readiness from Kubernetes objects as the cluster reports them (plain JSON dicts; pure): whether a
rollout has finished, how many instances of a Deployment are ready, and why instances are not."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rollout:
    done: bool
    ready: int
    wanted: int
    version: str  # the version label of the Deployment's pod template ("" if none)


def rollout(deployment: dict[str, Any] | None) -> Rollout:
    """Done when the controller has seen the latest spec and every wanted instance is updated and ready,
    and no instance of an older template is left."""
    if deployment is None:
        return Rollout(done=False, ready=0, wanted=0, version="")
    meta, spec, status = deployment.get("metadata", {}), deployment.get("spec", {}), deployment.get("status") or {}
    wanted = int(spec.get("replicas", 1))
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    ready = int(status.get("readyReplicas") or 0)
    observed = int(status.get("observedGeneration") or 0) >= int(meta.get("generation") or 0)
    done = (
        observed
        and int(status.get("updatedReplicas") or 0) == wanted
        and int(status.get("replicas") or 0) == wanted
        and ready == wanted
        and int(status.get("availableReplicas") or 0) == wanted
    )
    return Rollout(done=done, ready=ready, wanted=wanted, version=labels.get("dockyard.io/version", ""))


def ready_instances(deployment: dict[str, Any] | None) -> int:
    """The Deployment's ready instances; 0 when it is missing or its controller has not yet seen its
    latest spec (the count would be the old spec's)."""
    if deployment is None:
        return 0
    status = deployment.get("status") or {}
    if int(status.get("observedGeneration") or 0) < int((deployment.get("metadata") or {}).get("generation") or 0):
        return 0
    return int(status.get("readyReplicas") or 0)


def why_not_ready(deployment: dict[str, Any] | None, pods: Iterable[dict[str, Any]]) -> str:
    """The first reason the cluster gives for instances not being ready, "" if none: the Deployment's
    ``ReplicaFailure`` (e.g. a quota exceeded), else a pod that cannot be scheduled, else a container's
    waiting reason (``ImagePullBackOff``, ``CrashLoopBackOff``…)."""
    for condition in ((deployment or {}).get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return str(condition.get("message") or condition.get("reason"))
    for pod in pods:
        for condition in (pod.get("status") or {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                return str(condition.get("message") or condition.get("reason") or "Unschedulable")
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            if waiting.get("reason"):
                return str(waiting["reason"])
    return ""
