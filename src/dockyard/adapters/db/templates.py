"""Rows of component template versions (immutable), and the groups a template made.

Contract: lookups return ``None`` when absent; of two concurrent ``add`` calls of one version number
one gets a database conflict when the unit of work commits; :meth:`Templates.users` finds the groups
whose current version was made from a template by reading its name out of the versions' JSON.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db.tables import ApplicationRow, GroupRow, SystemRow, TemplateVersionRow, VersionRow
from dockyard.domain.model import GroupPath, Version
from dockyard.domain.templates import Parameter, Template
from dockyard.domain.versions import load_spec


class Templates:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def latest(self, owner: str) -> list[Template]:
        """The latest version of each of ``owner``'s templates ("": the platform's), by name."""
        newest = (
            select(TemplateVersionRow.name, func.max(TemplateVersionRow.version).label("version"))
            .where(TemplateVersionRow.owner == owner)
            .group_by(TemplateVersionRow.name)
            .subquery()
        )
        rows = await self._session.scalars(
            select(TemplateVersionRow)
            .join(
                newest,
                (newest.c.name == TemplateVersionRow.name) & (newest.c.version == TemplateVersionRow.version),
            )
            .where(TemplateVersionRow.owner == owner)
            .order_by(TemplateVersionRow.name)
        )
        return [_template(r) for r in rows]

    async def versions(self, owner: str, name: str) -> list[Template]:
        rows = await self._session.scalars(
            select(TemplateVersionRow)
            .where(TemplateVersionRow.owner == owner, TemplateVersionRow.name == name)
            .order_by(TemplateVersionRow.version)
        )
        return [_template(r) for r in rows]

    async def get(self, owner: str, name: str, version: int) -> Template | None:
        row = await self._session.scalar(
            select(TemplateVersionRow).where(
                TemplateVersionRow.owner == owner,
                TemplateVersionRow.name == name,
                TemplateVersionRow.version == version,
            )
        )
        return _template(row) if row else None

    async def add(self, template: Template, *, by: str) -> None:
        assert template.created_at is not None
        self._session.add(
            TemplateVersionRow(
                owner=template.owner,
                name=template.name,
                version=template.version,
                description=template.description,
                parameters=[p.to_data() for p in template.parameters],
                body=dict(template.body),
                created_by=by,
                created_at=template.created_at,
            )
        )
        await self._session.flush()

    async def users(self, owner: str, name: str) -> list[Version]:
        """The current version of every group made from ``owner``'s template ``name`` (any version)."""
        rows = await self._session.execute(
            select(SystemRow.name, ApplicationRow.name, GroupRow.name, VersionRow)
            .join(ApplicationRow, ApplicationRow.system_id == SystemRow.id)
            .join(GroupRow, GroupRow.application_id == ApplicationRow.id)
            .join(VersionRow, (VersionRow.group_id == GroupRow.id) & (VersionRow.number == GroupRow.current_version))
            .where(VersionRow.spec[("template", "name")].as_string() == name)
            .order_by(SystemRow.name, ApplicationRow.name, GroupRow.name)
        )
        found = []
        for system, app, group, row in rows.all():
            spec = load_spec(row.spec)
            if spec.template is not None and spec.template.owner == owner:
                path = GroupPath(system, app, group)
                found.append(
                    Version(
                        path.system, path.app, path.group, row.number, spec, row.created_by, row.created_at, row.reason
                    )
                )
        return found


def _template(row: TemplateVersionRow) -> Template:
    return Template(
        name=row.name,
        version=row.version,
        body=dict(row.body),
        parameters=tuple(Parameter.from_data(p) for p in row.parameters),
        description=row.description,
        owner=row.owner,
        created_by=row.created_by,
        created_at=row.created_at,
    )
