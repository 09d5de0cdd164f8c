"""Bodies of the audit endpoints: the trail, its pages and its verification."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from dockyard.domain.audit import AuditEntry, Verification


class AuditEntryOut(BaseModel):
    """One entry of the audit trail. ``changes`` names the body's fields (``spec.image``) and holds
    values only for harmless ones (names, image, flavor, replicas…); never secrets."""

    seq: int = Field(description="1, 2, 3… without gaps")
    at: dt.datetime
    actor: str = Field(description="the user; '' when unauthenticated")
    source_ip: str = Field(description="the peer's address (a proxy's X-Forwarded-For is not trusted)")
    request_id: str = Field(description="the X-Request-ID the response carried")
    method: str
    action: str = Field(description="the route's name (create_group), or the path when none matched")
    target: dict[str, str] = Field(description="the path's parameters: system, app, group…")
    system: str = Field(description="'' for platform-wide actions")
    outcome: Literal["allowed", "denied", "error"]
    status: int
    reason: str = Field(description="why it was denied or failed")
    changes: dict[str, Any] = Field(description="{fields: [paths], values: {path: value}}; {} without a body")
    prev_hash: str
    hash: str = Field(description="SHA-256 of the entry's canonical JSON with seq and prev_hash")

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryOut:
        r = e.record
        return cls(
            seq=e.seq,
            at=r.at,
            actor=r.actor,
            source_ip=r.source_ip,
            request_id=r.request_id,
            method=r.method,
            action=r.action,
            target=dict(r.target),
            system=r.system,
            outcome=r.outcome,
            status=r.status,
            reason=r.reason,
            changes=dict(r.changes),
            prev_hash=e.prev_hash,
            hash=e.hash,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut] = Field(description="newest first")
    next_cursor: int | None = Field(description="pass as cursor for the next (older) page; null at the end")


class AuditBreakOut(BaseModel):
    seq: int = Field(description="the first entry where the chain does not hold")
    reason: str


class AuditHeadOut(BaseModel):
    seq: int
    hash: str


class AuditVerifyOut(BaseModel):
    ok: bool
    checked: int = Field(description="entries found intact before the first break (all of them when ok)")
    first_bad: AuditBreakOut | None
    head: AuditHeadOut | None = Field(
        description="the last entry's seq and hash: keep a copy elsewhere to detect a rewritten trail"
    )

    @classmethod
    def of(cls, v: Verification) -> AuditVerifyOut:
        return cls(
            ok=v.ok,
            checked=v.checked,
            first_bad=AuditBreakOut(seq=v.first_bad.seq, reason=v.first_bad.reason) if v.first_bad else None,
            head=AuditHeadOut(seq=v.head.seq, hash=v.head.hash) if v.head else None,
        )
