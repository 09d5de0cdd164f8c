"""Whether a rollout has finished, from a Deployment as the cluster reports it (pure)."""

from __future__ import annotations

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
