"""Cluster rows: read all, register (insert or update by name)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ClusterRow
from dockyard.domain.clusters import Cluster


class ClusterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[Cluster]:
        rows = (await self._session.scalars(select(ClusterRow).order_by(ClusterRow.name))).all()
        return [Cluster(name=r.name, kubeconfig=r.kubeconfig, labels=dict(r.labels)) for r in rows]

    async def upsert(self, cluster: Cluster) -> bool:
        """Insert or update by name; True if the cluster is new. The unit of work commits and maps
        SQLAlchemy's errors (a concurrent insert of the same name becomes a conflict)."""
        row = await self._session.scalar(select(ClusterRow).where(ClusterRow.name == cluster.name))
        if row is None:
            self._session.add(ClusterRow(name=cluster.name, kubeconfig=cluster.kubeconfig, labels=cluster.labels))
            return True
        row.kubeconfig = cluster.kubeconfig
        row.labels = dict(cluster.labels)
        return False
