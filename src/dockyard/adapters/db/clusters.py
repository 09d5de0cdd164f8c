"""Cluster rows: read all, register (insert or update by name)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.errors import DatabaseUnavailableError
from dockyard.adapters.db.tables import ClusterRow
from dockyard.domain.clusters import Cluster


class ClusterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[Cluster]:
        try:
            rows = (await self._session.scalars(select(ClusterRow).order_by(ClusterRow.name))).all()
        except SQLAlchemyError as e:
            raise DatabaseUnavailableError(f"reading clusters: {type(e).__name__}") from e
        return [Cluster(name=r.name, kubeconfig=r.kubeconfig, labels=dict(r.labels)) for r in rows]

    async def upsert(self, cluster: Cluster) -> bool:
        """Insert or update by name; True if the cluster is new. The caller commits."""
        try:
            row = await self._session.scalar(select(ClusterRow).where(ClusterRow.name == cluster.name))
            if row is None:
                self._session.add(ClusterRow(name=cluster.name, kubeconfig=cluster.kubeconfig, labels=cluster.labels))
                await self._session.flush()
                return True
            row.kubeconfig = cluster.kubeconfig
            row.labels = dict(cluster.labels)
            await self._session.flush()
        except SQLAlchemyError as e:
            raise DatabaseUnavailableError(f"writing cluster {cluster.name}: {type(e).__name__}") from e
        return False
