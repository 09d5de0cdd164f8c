"""Bodies of a group's autoscale endpoints (docs/autoscaling.md)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.operations import OperationOut
from dockyard.services.autoscale import AutoscaleStatus

POLICY_DOC = (
    "An autoscale policy: min, max, signals [{signal: requests | cpu | memory | custom, baseline, series}], "
    "target (0-1], tolerance, scale_up / scale_down {step, window_seconds}."
)


class AutoscaleIn(BaseModel):
    policy: dict[str, Any] = Field(description=POLICY_DOC)
    reason: str = Field(default="", max_length=500)


class SignalOut(BaseModel):
    key: str
    unit: str
    load: float | None = Field(description="the group's total load now (all its instances, every version)")
    per_instance: float = Field(description="what one instance should carry: baseline × target")
    utilisation: float | None = Field(description="load / (instances × per_instance)")
    wanted: int | None
    problem: str


class DecisionOut(BaseModel):
    current: int
    desired: int
    action: str = Field(description="up, down, hold or freeze")
    reason: str
    signals: list[SignalOut]


class AutoscaleOut(BaseModel):
    version: int | None = Field(description="the running version, whose spec holds the policy")
    policy: dict[str, Any] | None
    instances: int = Field(description="the count that runs now (the release's total while one is under way)")
    decision: DecisionOut | None = Field(description="what the autoscaler would decide now")
    split: dict[str, int] = Field(description="that count over the group's clusters, as the preview computes it")
    note: str
    last: list[OperationOut] = Field(description="the autoscaler's last operations, newest first")

    @classmethod
    def of(cls, found: AutoscaleStatus) -> AutoscaleOut:
        decision = found.decision
        return cls(
            version=found.version,
            policy=asdict(found.policy) if found.policy else None,
            instances=found.current,
            decision=DecisionOut(
                current=decision.current,
                desired=decision.desired,
                action=decision.action,
                reason=decision.reason,
                signals=[SignalOut(**asdict(s)) for s in decision.signals],
            )
            if decision
            else None,
            split=dict(found.split),
            note=found.note,
            last=[OperationOut.of(op) for op in found.last],
        )
