"""Bodies of the alert-rule endpoints: the catalogue, overrides and their revisions, resolved rules."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.alert_rules import BuiltinRule, Effective, Override


class OverrideIn(In):
    threshold: float | int | None = Field(default=None, description="the rule's threshold; null: inherited")
    enabled: bool | None = Field(default=None, description="false: the rule never fires here; null: inherited")
    reason: str = ""


class RuleOut(BaseModel):
    rule: str
    alert: str
    summary: str
    unit: str
    threshold: float = Field(description="the default")
    minimum: float
    maximum: float

    @classmethod
    def of(cls, r: BuiltinRule) -> RuleOut:
        return cls(
            rule=r.key, alert=r.alert, summary=r.summary, unit=r.unit, threshold=r.threshold, minimum=r.minimum,
            maximum=r.maximum,
        )  # fmt: skip


class OverrideOut(BaseModel):
    system: str
    app: str
    group: str | None = Field(description="null: the whole application")
    rule: str
    threshold: float | None
    enabled: bool | None
    revision: int
    cleared: bool = Field(description="this revision removed the override")
    changed_by: str
    changed_at: dt.datetime
    reason: str

    @classmethod
    def of(cls, o: Override) -> OverrideOut:
        return cls(
            system=o.system, app=o.app, group=o.group, rule=o.rule, threshold=o.threshold, enabled=o.enabled,
            revision=o.revision, cleared=o.cleared, changed_by=o.by, changed_at=o.at, reason=o.reason,
        )  # fmt: skip


class EffectiveOut(BaseModel):
    app: str
    group: str
    rule: str
    threshold: float
    enabled: bool
    source: str = Field(description="where the threshold comes from: default | app | group")

    @classmethod
    def of(cls, e: Effective) -> EffectiveOut:
        return cls(app=e.app, group=e.group, rule=e.rule, threshold=e.threshold, enabled=e.enabled, source=e.source)


class SystemRulesOut(BaseModel):
    rules: list[RuleOut] = Field(description="the built-in rules and their defaults")
    overrides: list[OverrideOut] = Field(description="the overrides in force")
    effective: list[EffectiveOut] = Field(description="every group's rules as they hold")
