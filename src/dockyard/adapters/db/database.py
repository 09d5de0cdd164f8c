"""The database as services see it: units of work holding repositories; SQLAlchemy stays inside.

Contract: ``async with db.unit_of_work() as uow:`` commits when the block ends normally and rolls
back when it raises, so a failed use case leaves nothing half-written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.adapters.db import engine as db_engine
from dockyard.adapters.db import migrate
from dockyard.adapters.db.alert_rules import AlertRules
from dockyard.adapters.db.alerts import Alerts
from dockyard.adapters.db.applications import Applications
from dockyard.adapters.db.audit import AuditTrail
from dockyard.adapters.db.builds import Builds
from dockyard.adapters.db.clusters import ClusterRepository
from dockyard.adapters.db.errors import DatabaseConflictError, DatabaseUnavailableError
from dockyard.adapters.db.flavors import Flavors
from dockyard.adapters.db.groups import Groups
from dockyard.adapters.db.identity import Identities
from dockyard.adapters.db.inspections import Inspections
from dockyard.adapters.db.keys import KeyChecks
from dockyard.adapters.db.leases import Leases
from dockyard.adapters.db.locations import LocationGrants
from dockyard.adapters.db.members import Members
from dockyard.adapters.db.operations import OperationLog
from dockyard.adapters.db.placements import Placements
from dockyard.adapters.db.releases import Releases
from dockyard.adapters.db.remediation import Remediations
from dockyard.adapters.db.sessions import Sessions
from dockyard.adapters.db.sso import SsoSessions
from dockyard.adapters.db.statistics import Statistics
from dockyard.adapters.db.systems import Systems
from dockyard.adapters.db.tables import GenerationRow
from dockyard.adapters.db.templates import Templates
from dockyard.adapters.db.versions import Versions


class UnitOfWork:
    """One transaction's repositories, by topic: the application model (``systems``,
    ``applications``, ``groups``, ``versions``), ``operations`` and ``releases``, ``builds``, identity
    (``identities``, ``keys``, ``members``, ``sessions``, ``sso_sessions``), ``audit``, and where things run
    (``clusters``, ``placements``, ``locations``), alerting (``alert_rules``, ``alerts``), the flavor
    catalog (``flavors``), component templates (``templates``) and the nodes' health (``inspections``,
    ``remediations``), named ``leases``, resource ``statistics``."""

    def __init__(self, session: AsyncSession) -> None:
        self.clusters = ClusterRepository(session)
        self.systems = Systems(session)
        self.applications = Applications(session)
        self.groups = Groups(session)
        self.versions = Versions(session)
        self.operations = OperationLog(session)
        self.releases = Releases(session)
        self.builds = Builds(session)
        self.identities = Identities(session)
        self.keys = KeyChecks(session)
        self.members = Members(session)
        self.sessions = Sessions(session)
        self.sso_sessions = SsoSessions(session)
        self.audit = AuditTrail(session)
        self.placements = Placements(session)
        self.locations = LocationGrants(session)
        self.alert_rules = AlertRules(session)
        self.alerts = Alerts(session)
        self.flavors = Flavors(session)
        self.templates = Templates(session)
        self.inspections = Inspections(session)
        self.remediations = Remediations(session)
        self.leases = Leases(session)
        self.statistics = Statistics(session)


def unavailable(error: Exception) -> str:
    """What a failed call to the database says: the error's kind, and SQLite's own message (``database is
    locked``, ``disk I/O error``: names of tables and columns at most, never a value). PostgreSQL's
    messages are left out: they can quote the values of a row."""
    said = f"{type(error).__name__} while talking to the database"
    if isinstance(error, DBAPIError) and isinstance(error.orig, sqlite3.Error):
        said += f" (SQLite: {str(error.orig)[:200]})"
    return said


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = db_engine.make_engine(url)
        self._sessions = db_engine.session_factory(self._engine)
        self._generation = select(GenerationRow.value).where(GenerationRow.name == bindparam("name"))

    async def upgrade(self) -> None:
        await migrate.upgrade(self._engine)

    async def ping(self) -> str:
        return await db_engine.ping(self._engine)

    async def generation(self, name: str) -> int:
        """The counter ``name`` of the ``generations`` table (see :class:`~.tables.GenerationRow`), in
        one primary-key read outside any unit of work; :class:`DatabaseUnavailableError` on failure."""
        try:
            async with self._engine.connect() as conn:
                value = await conn.scalar(self._generation, {"name": name})
        except (SQLAlchemyError, OSError) as e:
            raise DatabaseUnavailableError(unavailable(e)) from e
        return int(value or 0)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        try:
            async with self._sessions() as session, session.begin():
                yield UnitOfWork(session)
        except IntegrityError as e:
            raise DatabaseConflictError(f"the change conflicts with existing data ({type(e.orig).__name__})") from e
        except (SQLAlchemyError, OSError) as e:
            raise DatabaseUnavailableError(unavailable(e)) from e

    async def dispose(self) -> None:
        await self._engine.dispose()
