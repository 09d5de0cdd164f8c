"""The remediation policy (one row, with the lease of the server applying it) and each node's
remediation history (domain/remediation.py)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import RemediationActionRow, RemediationPolicyRow
from dockyard.domain.remediation import Mode, Policy, Record

POLICY_ID = 1


class Remediations:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def policy(self) -> Policy:
        """The policy as set; the default one (off) if never set."""
        row = await self._session.get(RemediationPolicyRow, POLICY_ID)
        if row is None:
            return Policy()
        return Policy(
            mode=cast(Mode, row.mode),
            paused=row.paused,
            max_share=row.max_share,
            quiet_seconds=row.quiet_seconds,
            changed_by=row.changed_by,
        )

    async def set_policy(self, policy: Policy, *, now: dt.datetime) -> None:
        row = await self._ensure()
        row.mode, row.paused, row.max_share = policy.mode, policy.paused, policy.max_share
        row.quiet_seconds, row.changed_by, row.changed_at = policy.quiet_seconds, policy.changed_by, now
        await self._session.flush()

    async def claim(self, runner: str, *, seconds: float, now: dt.datetime) -> bool:
        """Take or renew the lease of applying the policy; False if another runner holds it."""
        await self._ensure()
        result = await self._session.execute(
            update(RemediationPolicyRow)
            .where(
                RemediationPolicyRow.id == POLICY_ID,
                or_(
                    RemediationPolicyRow.lease_until.is_(None),
                    RemediationPolicyRow.lease_until < now,
                    RemediationPolicyRow.lease_owner == runner,
                ),
            )
            .values(lease_owner=runner, lease_until=now + dt.timedelta(seconds=seconds))
        )
        return bool(getattr(result, "rowcount", 0))

    async def record(
        self, cluster: str, node: str, *, kind: str, reason: str, mode: str, outcome: str, now: dt.datetime
    ) -> None:
        self._session.add(
            RemediationActionRow(
                cluster=cluster[:63],
                node=node[:253],
                kind=kind,
                reason=reason[:500],
                mode=mode,
                outcome=outcome[:500],
                at=now,
            )
        )
        await self._session.flush()

    async def history(self, *, cluster: str | None = None, node: str | None = None, limit: int = 200) -> list[Record]:
        """Newest first."""
        query = select(RemediationActionRow)
        if cluster is not None:
            query = query.where(RemediationActionRow.cluster == cluster)
        if node is not None:
            query = query.where(RemediationActionRow.node == node)
        rows = await self._session.scalars(query.order_by(RemediationActionRow.id.desc()).limit(limit))
        return [Record(r.id, r.cluster, r.node, r.kind, r.reason, r.mode, r.outcome, r.at) for r in rows]

    async def _ensure(self) -> RemediationPolicyRow:
        row = await self._session.get(RemediationPolicyRow, POLICY_ID)
        if row is None:
            default = Policy()
            row = RemediationPolicyRow(
                id=POLICY_ID,
                mode=default.mode,
                paused=default.paused,
                max_share=default.max_share,
                quiet_seconds=default.quiet_seconds,
                changed_by="",
                changed_at=None,
                lease_owner="",
                lease_until=None,
            )
            self._session.add(row)
            await self._session.flush()
        return row
