"""SQLAlchemy table models. Only this package imports SQLAlchemy."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps in UTC, timezone-aware, on every backend (SQLite otherwise reads back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ClusterRow(Base):
    __tablename__ = "clusters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    # The kubeconfig sealed with the platform's key (form "sealed"), "in-cluster", or, for a row
    # registered by path before migration 0006 whose file could not be sealed yet, that path ("path").
    kubeconfig: Mapped[str] = mapped_column(Text)
    kubeconfig_form: Mapped[str] = mapped_column(String(16), server_default="path")
    labels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now(), onupdate=func.now())


class KeyCheckRow(Base):
    """A known text sealed with the platform's master key at the first start: a later start whose
    keys cannot open it stops, rather than seal secrets that other replicas cannot open."""

    __tablename__ = "key_checks"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    token: Mapped[str] = mapped_column(Text)


class SystemRow(Base):
    __tablename__ = "systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    quota_cpu_millis: Mapped[int] = mapped_column(BigInteger, default=0)
    quota_memory_mib: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class ApplicationRow(Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    repository: Mapped[str] = mapped_column(String(255))
    business_id: Mapped[str] = mapped_column(String(63), default="")
    owners: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    # The default location of its groups (domain/location.py), None: each group's home cluster.
    location: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class GroupRow(Base):
    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("application_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="RESTRICT"), index=True)
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    environment: Mapped[str] = mapped_column(String(16))
    current_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    # The edge load balancer's entry: NULL none, else the port name it serves ("": the default port).
    edge_port: Mapped[str | None] = mapped_column(String(15), nullable=True)


class GroupClusterRow(Base):
    """Where a group runs: one row per cluster it spans, with its instance count and version there.
    ``groups.cluster_id`` stays the group's home cluster (its location when none is given)."""

    __tablename__ = "group_clusters"
    __table_args__ = (UniqueConstraint("group_id", "cluster_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    cluster_id: Mapped[int] = mapped_column(ForeignKey("clusters.id", ondelete="RESTRICT"))
    instances: Mapped[int] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LocationGrantRow(Base):
    """A location a system asked for (``requested``), a platform admin ``approved`` or ``revoked``."""

    __tablename__ = "location_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    location: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    requested_by: Mapped[str] = mapped_column(String(100))
    decided_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class VersionRow(Base):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


_ACTIVE = "status IN ('pending', 'running') AND \"group\" != ''"


class OperationRow(Base):
    __tablename__ = "operations"
    # At most one unfinished operation per group: of two concurrent deploys one insert fails (409).
    __table_args__ = (
        Index(
            "uq_operations_active_group",
            "system",
            "app",
            "group",
            unique=True,
            sqlite_where=text(_ACTIVE),
            postgresql_where=text(_ACTIVE),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    system: Mapped[str] = mapped_column(String(63), index=True)
    app: Mapped[str] = mapped_column(String(63), default="")
    group: Mapped[str] = mapped_column(String(63), default="")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    error: Mapped[str] = mapped_column(String(4000), default="")
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())
    # Which executor drives it, until when (renewed while it runs): see OperationLog.claim.
    runner: Mapped[str] = mapped_column(String(100), default="", server_default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    admin: Mapped[bool] = mapped_column(default=False)
    # argon2id (pwdlib); NULL for users who sign in with API tokens (or OIDC) only.
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class TokenRow(Base):
    """A personal API token; only its SHA-256 is stored (the token itself is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RoleBindingRow(Base):
    """A user's role in a system (``scope`` '') or in one of its applications (``scope`` = its name)."""

    __tablename__ = "role_bindings"
    __table_args__ = (UniqueConstraint("user_id", "system_id", "scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(63), default="")
    # Set for application bindings, so they go with their application (never outlive it and apply
    # again to a new application of the same name).
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), nullable=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class SessionRow(Base):
    """A login session: its refresh token's SHA-256. A refresh replaces the token (``replaced_at``);
    presenting a replaced token again revokes the whole session (it was copied)."""

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(36), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SsoSessionRow(Base):
    """A console session of someone signed in through the identity provider: the cookie's SHA-256,
    the name and the groups the provider gave (the cookie holds neither)."""

    __tablename__ = "sso_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user: Mapped[str] = mapped_column(String(100))
    groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoginFailureRow(Base):
    """Failed logins of one key (``user:NAME`` or ``source:ADDRESS``) in the current window."""

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    since: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditEntryRow(Base):
    """One entry of the audit trail (see ``domain.audit``): appended, never updated or deleted."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    source_ip: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(200))
    target: Mapped[dict[str, Any]] = mapped_column(JSON)
    system: Mapped[str] = mapped_column(String(63), index=True)
    outcome: Mapped[str] = mapped_column(String(8))
    status: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(1000))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """The audit trail's one head row (id 1): the last entry's seq and hash. Appenders lock it first,
    so concurrent appends line up; :func:`domain.audit.verify` finds a trail cut short by it."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class ReleaseRow(Base):
    """A release's state; its ``id`` is the id of the ``release`` operation that drives it (and holds
    the group's one-unfinished-operation lock and the executor's lease)."""

    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(ForeignKey("operations.id", ondelete="CASCADE"), primary_key=True)
    system: Mapped[str] = mapped_column(String(63))
    app: Mapped[str] = mapped_column(String(63))
    group: Mapped[str] = mapped_column(String(63))
    strategy: Mapped[str] = mapped_column(String(16))
    stable_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    new_version: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[str]] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="progressing")
    paused: Mapped[bool] = mapped_column(default=False)
    # The last command not yet taken by the runner: '', 'promote', 'full' or 'abort'.
    command: Mapped[str] = mapped_column(String(16), default="")
    pause_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ledger: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str] = mapped_column(String(4000), default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # A group on several clusters releases cluster by cluster: [{cluster, instances}] in order, and
    # the index of the cluster under way (its steps are ``step``; ``total`` is that cluster's count).
    clusters: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default="[]")
    cluster_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_releases_group", "system", "app", "group"),)


class BuildRow(Base):
    """A build job: its request, where it is, and (succeeded) the image it made, by digest. The
    runner holding ``lease_until`` drives it; see services/builds.py."""

    __tablename__ = "builds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    system: Mapped[str] = mapped_column(String(63))
    app: Mapped[str] = mapped_column(String(63))
    source: Mapped[str] = mapped_column(String(2000))
    ref_kind: Mapped[str] = mapped_column(String(8))
    ref: Mapped[str] = mapped_column(String(200))
    dockerfile: Mapped[str] = mapped_column(String(255))
    build_args: Mapped[list[list[str]]] = mapped_column(JSON, default=list)
    force: Mapped[bool] = mapped_column(default=False)
    timeout_seconds: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    commit: Mapped[str] = mapped_column(String(40), default="")
    image: Mapped[str] = mapped_column(String(400), default="")
    tag: Mapped[str] = mapped_column(String(128), default="")
    reason: Mapped[str] = mapped_column(String(4000), default="")
    reused_from: Mapped[str] = mapped_column(String(36), default="")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    runner: Mapped[str] = mapped_column(String(100), default="")
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_builds_app", "system", "app", "created_at"), Index("ix_builds_status", "status"))


class BuildLogRow(Base):
    """One line of a build's log, numbered from 1 (``seq``), credentials already redacted."""

    __tablename__ = "build_logs"

    build_id: Mapped[str] = mapped_column(ForeignKey("builds.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[str] = mapped_column(Text)


class DedicatedPoolRow(Base):
    """A node pool of a cluster dedicated to one application (its nodes tainted and labelled)."""

    __tablename__ = "dedicated_pools"

    cluster: Mapped[str] = mapped_column(String(63), primary_key=True)
    pool: Mapped[str] = mapped_column(String(63), primary_key=True)
    system: Mapped[str] = mapped_column(String(63))
    app: Mapped[str] = mapped_column(String(63))
    dedicated_by: Mapped[str] = mapped_column(String(100))
    dedicated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class AppCpuModelRow(Base):
    """The CPU model Dockyard chose for an application whose placement says ``cpu_model: auto``."""

    __tablename__ = "app_cpu_models"

    system: Mapped[str] = mapped_column(String(63), primary_key=True)
    app: Mapped[str] = mapped_column(String(63), primary_key=True)
    cpu_model: Mapped[str] = mapped_column(String(63))
    chosen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class GenerationRow(Base):
    """A counter bumped by database triggers, within the writing transaction, whenever a table it
    covers changes (migration 0014): ``identity`` for users, API tokens and role bindings, ``model``
    for systems, applications, groups, where they run and clusters. A process that cached what it
    read at generation N knows it is still current while the counter reads N."""

    __tablename__ = "generations"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class AlertRuleRevisionRow(Base):
    """One change of a system owner's setting of a built-in alert rule for an application (``group``
    "") or a group: revisions are only added; the highest of a setting is its current state
    (``cleared``: the override was removed). Two concurrent changes of one setting collide on the
    unique revision number."""

    __tablename__ = "alert_rule_revisions"
    __table_args__ = (UniqueConstraint("system_id", "app", "group_name", "rule", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    app: Mapped[str] = mapped_column(String(63))
    group_name: Mapped[str] = mapped_column(String(63))
    rule: Mapped[str] = mapped_column(String(63))
    revision: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    cleared: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(String(1000))
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AlertRow(Base):
    """An alert episode received from Alertmanager (its fingerprint and start), by the system its
    ``system`` label names ("" for the platform's own); ``told`` lists the kinds already queued."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("fingerprint", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    system: Mapped[str] = mapped_column(String(63), index=True)
    app: Mapped[str] = mapped_column(String(63))
    group_name: Mapped[str] = mapped_column(String(63))
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]] = mapped_column(JSON)
    annotations: Mapped[dict[str, Any]] = mapped_column(JSON)
    told: Mapped[list[str]] = mapped_column(JSON)
    ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChannelRow(Base):
    """A system's notification channel; ``secret`` is sealed with the platform's key (webhooks)."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("system_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("systems.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class NotificationRow(Base):
    """One notification to send (a persisted job, leased by one server at a time and retried): an
    alert episode's ``firing`` or ``resolved`` to one channel, at most once each (the unique key), or
    a ``test`` (no alert)."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("alert_id", "channel_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), nullable=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FlavorRow(Base):
    """A flavor of the platform's catalog (seeded with the built-in ones by migration 0019)."""

    __tablename__ = "flavors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    cpu_millis: Mapped[int] = mapped_column(Integer)
    memory_mib: Mapped[int] = mapped_column(Integer)
    extended: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    clusters: Mapped[list[str]] = mapped_column(JSON, default=list)
    pools: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, server_default=func.now())


class TemplateVersionRow(Base):
    """One version of a component template, immutable: the platform's (``owner`` "") or a system's."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("owner", "name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(63), index=True)
    name: Mapped[str] = mapped_column(String(63))
    version: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(1000), default="")
    parameters: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class InspectionRunRow(Base):
    """An inspection run and its report (domain/inspection.py): findings and changes as JSON lists."""

    __tablename__ = "inspection_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    trigger: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(100))
    clusters: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    findings: Mapped[list[Any]] = mapped_column(JSON)
    changes: Mapped[list[Any]] = mapped_column(JSON)
    previous_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text)


class InspectionScheduleRow(Base):
    """The platform's inspection schedule (one row, id 1); ``next_at`` is moved on by the one server
    that takes a due run (a conditional update: of several servers exactly one wins each slot)."""

    __tablename__ = "inspection_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    cron: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean)
    notify_system: Mapped[str] = mapped_column(String(63))
    next_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RemediationPolicyRow(Base):
    """The platform's remediation policy (one row, id 1) and the lease of the server applying it."""

    __tablename__ = "remediation_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    paused: Mapped[bool] = mapped_column(Boolean)
    max_share: Mapped[float] = mapped_column(Float)
    quiet_seconds: Mapped[float] = mapped_column(Float)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RemediationActionRow(Base):
    """What remediation did (or, in dry-run, would have done, or held back) to a node: its history."""

    __tablename__ = "remediation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cluster: Mapped[str] = mapped_column(String(63), index=True)
    node: Mapped[str] = mapped_column(String(253))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    mode: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(500))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LeaseRow(Base):
    """A named lease (``autoscale:<system>/<app>/<group>``): which server holds it until when, so one
    replica at a time decides for a group (adapters/db/leases.py)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(250), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class _StatAmounts:
    """The amounts of domain/statistics.py ``Amounts``, exact integers (milli-core-seconds, byte-seconds)."""

    cpu_requested: Mapped[int] = mapped_column(BigInteger)
    cpu_used: Mapped[int] = mapped_column(BigInteger)
    cpu_billed: Mapped[int] = mapped_column(BigInteger)
    memory_requested: Mapped[int] = mapped_column(BigInteger)
    memory_used: Mapped[int] = mapped_column(BigInteger)
    memory_billed: Mapped[int] = mapped_column(BigInteger)
    seconds: Mapped[int] = mapped_column(BigInteger)
    unmeasured: Mapped[int] = mapped_column(BigInteger)


class StatTickRow(Base):
    """A statistics step that was sampled (its start, Unix seconds): its row makes a step count once
    across replicas."""

    __tablename__ = "stat_ticks"

    at: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    step: Mapped[int] = mapped_column(Integer)
    instances: Mapped[int] = mapped_column(Integer)
    measured: Mapped[bool] = mapped_column(Boolean)
    runner: Mapped[str] = mapped_column(String(100))


class StatInstanceDayRow(_StatAmounts, Base):
    """One instance's amounts of one day (UTC) in one cluster."""

    __tablename__ = "stat_instance_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(63), primary_key=True)
    system: Mapped[str] = mapped_column(String(63), primary_key=True)
    instance: Mapped[str] = mapped_column(String(253), primary_key=True)
    app: Mapped[str] = mapped_column(String(63))
    group: Mapped[str] = mapped_column(String(63))
    idc: Mapped[str] = mapped_column(String(63))


class StatGroupDayRow(_StatAmounts, Base):
    """One group's amounts of one day (UTC) in one cluster: the sum of its instances' rows, kept
    in the same transaction (what reports read)."""

    __tablename__ = "stat_group_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    cluster: Mapped[str] = mapped_column(String(63), primary_key=True)
    system: Mapped[str] = mapped_column(String(63), primary_key=True)
    app: Mapped[str] = mapped_column(String(63), primary_key=True)
    group: Mapped[str] = mapped_column(String(63), primary_key=True)
    idc: Mapped[str] = mapped_column(String(63))


class ClusterPriceRow(Base):
    """A cluster's prices from a day on (decimal text, per core-hour and per GiB-hour)."""

    __tablename__ = "cluster_prices"

    cluster: Mapped[str] = mapped_column(String(63), primary_key=True)
    since: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    core_hour: Mapped[str] = mapped_column(String(40))
    gib_hour: Mapped[str] = mapped_column(String(40))
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
