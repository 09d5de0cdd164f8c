"""Cluster rows: read all, register (insert or update by name), seal one registered by path."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ClusterRow
from dockyard.domain.clusters import Cluster


class ClusterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def all(self) -> list[Cluster]:
        rows = (await self._session.scalars(select(ClusterRow).order_by(ClusterRow.name))).all()
        return [
            Cluster(
                name=r.name,
                kubeconfig=r.kubeconfig,
                labels=dict(r.labels),
                kubeconfig_form=r.kubeconfig_form,  # type: ignore[arg-type]
            )
            for r in rows
        ]

    async def upsert(self, cluster: Cluster) -> bool:
        """Insert or update by name; True if the cluster is new. The unit of work commits and maps
        SQLAlchemy's errors (a concurrent insert of the same name becomes a conflict)."""
        row = await self._session.scalar(select(ClusterRow).where(ClusterRow.name == cluster.name))
        if row is None:
            self._session.add(
                ClusterRow(
                    name=cluster.name,
                    kubeconfig=cluster.kubeconfig,
                    kubeconfig_form=cluster.kubeconfig_form,
                    labels=cluster.labels,
                )
            )
            return True
        row.kubeconfig = cluster.kubeconfig
        row.kubeconfig_form = cluster.kubeconfig_form
        row.labels = dict(cluster.labels)
        return False

    async def replace_path(self, name: str, *, path: str, sealed: str) -> bool:
        """Store ``sealed`` for a cluster still registered by ``path``; False if it changed meanwhile."""
        result = await self._session.execute(
            update(ClusterRow)
            .where(ClusterRow.name == name, ClusterRow.kubeconfig_form == "path", ClusterRow.kubeconfig == path)
            .values(kubeconfig=sealed, kubeconfig_form="sealed")
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]
