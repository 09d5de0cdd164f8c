"""Bodies of the alert, channel and silence endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, Field

from dockyard.api.schemas.common import In
from dockyard.domain.alerts import Channel, Delivery
from dockyard.domain.silences import Silence
from dockyard.services.alerts import Told


class DeliveryOut(BaseModel):
    id: int
    channel: str
    kind: str = Field(description="firing | resolved | test")
    state: str = Field(description="pending | sent | failed")
    attempts: int
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            id=d.id, channel=d.channel, kind=d.kind, state=d.state, attempts=d.attempts, error=d.error,
            created_at=d.created_at, sent_at=d.sent_at,
        )  # fmt: skip


class AlertOut(BaseModel):
    id: int
    fingerprint: str
    name: str
    status: str = Field(description="firing | resolved")
    app: str
    group: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    received_at: dt.datetime
    updated_at: dt.datetime
    told: list[DeliveryOut] = Field(description="who was told what, and how it went")

    @classmethod
    def of(cls, t: Told) -> AlertOut:
        a = t.alert
        return cls(
            id=a.id, fingerprint=a.fingerprint, name=a.name, status=a.status, app=a.app, group=a.group,
            labels=a.labels, annotations=a.annotations, starts_at=a.starts_at, ends_at=a.ends_at,
            received_at=a.received_at, updated_at=a.updated_at, told=[DeliveryOut.of(d) for d in t.deliveries],
        )  # fmt: skip


class WebhookOut(BaseModel):
    queued: int = Field(description="notifications queued by this delivery")


class ChannelIn(In):
    name: str
    kind: str = Field(description="webhook | email")
    target: str = Field(description="the webhook's URL, or e-mail addresses (comma-separated)")
    secret: str | None = Field(default=None, description="webhook only: signs each body (HMAC-SHA256); never shown")


class ChannelOut(BaseModel):
    name: str
    kind: str
    target: str
    has_secret: bool
    created_by: str
    created_at: dt.datetime

    @classmethod
    def of(cls, c: Channel) -> ChannelOut:
        return cls(
            name=c.name, kind=c.kind, target=c.target, has_secret=bool(c.secret), created_by=c.created_by,
            created_at=c.created_at,
        )  # fmt: skip


class SilenceIn(In):
    matchers: list[dict[str, Any]] = Field(description="[{name, value, equal}]: alert labels; the system is added")
    duration_seconds: float | int = Field(description="how long, at most the platform's maximum")
    reason: str


class SilenceOut(BaseModel):
    id: str
    matchers: list[dict[str, Any]]
    starts_at: dt.datetime
    ends_at: dt.datetime
    owner: str
    reason: str
    state: str = Field(description="active | pending | expired")

    @classmethod
    def of(cls, s: Silence) -> SilenceOut:
        return cls(
            id=s.id, matchers=[{"name": m.name, "value": m.value, "equal": m.equal} for m in s.matchers],
            starts_at=s.starts_at, ends_at=s.ends_at, owner=s.owner, reason=s.reason, state=s.state,
        )  # fmt: skip
