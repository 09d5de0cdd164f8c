"""Bodies of the placement preview: where a version's instances would land."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ClusterFitOut(BaseModel):
    cluster: str
    connected: bool = Field(description="false: the caches are not synced, the numbers are not to be trusted")
    wanted: int
    fits: int
    pending: int
    nodes: dict[str, int] = Field(description="where the instances that fit would land: node → instances")
    message: str = Field(description="the scheduler's message for the instances that do not fit, empty if all fit")
    reasons: dict[str, int] = Field(description="reason → number of nodes, as counted in the message")
    preempted: int = Field(description="lower-priority pods the instances would preempt")


class PreviewOut(BaseModel):
    wanted: int
    fits: int
    pending: int
    clusters: list[ClusterFitOut]
