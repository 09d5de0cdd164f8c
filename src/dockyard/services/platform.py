"""The running platform as services see it: the ports one Dockyard process shares, and the values of
the settings use cases need. Built by :mod:`dockyard.bootstrap` (the only place adapters are
built); services take it as their first argument and never build an adapter themselves."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.domain.access import Principal
from dockyard.domain.inspection import Limits
from dockyard.domain.model import Group
from dockyard.domain.sso import RoleMap
from dockyard.domain.versions import SealedValue
from dockyard.services import ports
from dockyard.services.generations import GenerationCache
from dockyard.services.recent import Recent


@dataclass(frozen=True)
class BuildConfig:
    """What the build use cases read of the settings: the work directory, how many at once, the
    longest time, which sources may be built, and every secret a build log must never show."""

    work_dir: Path  # the builds' private work directories are made under it
    concurrency: int = 2
    timeout: int = 1800  # seconds: a build's default and longest time
    source_roots: tuple[str, ...] = ()  # directories file:// sources may come from (none: no file://)
    blocked_networks: tuple[str, ...] = ("10.96.0.0/12",)
    secrets: tuple[str, ...] = ()  # registry and git credentials: redacted from every log line


@dataclass(frozen=True)
class AlertConfig:
    """What the alerting use cases read: the SHA-256 of the credential Alertmanager presents to the
    webhook ("": none configured, every call is refused), the longest silence and the internal networks
    channels may reach."""

    webhook_token_sha256: str = ""
    silence_max_seconds: float = 7 * 24 * 3600.0
    # Internal networks webhook channels may still reach (domain/egress.py); none: only global addresses.
    channel_allowed_networks: tuple[str, ...] = ()


@dataclass(frozen=True)
class AutoscaleConfig:
    """What the autoscaler reads (services/autoscale.py): how often it decides, how long a group's
    lease lasts, the step of its Prometheus reads, when a signal is stale (the count then freezes),
    and the counter series of the ``requests`` signal."""

    every: float = 15.0
    lease: float = 45.0
    step: float = 15.0
    stale_seconds: float = 60.0
    requests_series: str = "dockyard_requests_total"


@dataclass(frozen=True)
class StatisticsConfig:
    """What the statistics sampler reads (services/statistics.py): its step (seconds, dividing a day)
    and how long its lease lasts."""

    step: int = 60
    lease: float = 180.0


@dataclass(frozen=True)
class SsoConfig:
    """Single sign-on through an OpenID Connect provider (services/sso.py, api/routes/sso.py): where
    it is, Dockyard's client there (and the command line's public one), which claims name the person
    and the groups, what groups map to, and how long a console session lasts."""

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str = ""
    cli_client_id: str = ""  # the public client `dockyard login --sso` uses (PKCE, no secret); "": none
    scopes: str = "openid profile email"
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"
    role_map: RoleMap = field(default_factory=RoleMap)
    session_seconds: float = 12 * 3600.0
    secure_cookies: bool = True


@dataclass(frozen=True)
class LogShipConfig:
    """What the log shipper reads (services/logship.py): whether this process ships, how long its
    lease lasts, how many lines a write holds at most and how long a line waits to be written."""

    ship: bool = True
    lease: float = 30.0
    batch: int = 5000
    every: float = 0.25


@dataclass(frozen=True)
class Config:
    builds: BuildConfig
    alerts: AlertConfig = field(default_factory=AlertConfig)
    autoscale: AutoscaleConfig = field(default_factory=AutoscaleConfig)
    statistics: StatisticsConfig = field(default_factory=StatisticsConfig)
    cluster_health_timeout: float = 3.0  # seconds, per cluster, for readiness
    image_keep: int = 5  # registry gc's default: versions kept per group
    inspection: Limits = field(default_factory=Limits)  # the inspection checks' thresholds
    logship: LogShipConfig = field(default_factory=LogShipConfig)


async def _nothing() -> None:
    return None


@dataclass
class Platform:
    db: ports.Database
    clusters: ports.ClusterClients
    live: ports.LiveView
    box: ports.SecretBox  # seals and opens secrets at rest (kubeconfigs, secret env values)
    registries: ports.Registries
    builder: ports.Builder
    sources: ports.Sources
    config: Config
    edge: ports.EdgeBalancer | None = None  # the edge load balancer, when one is configured
    # The global names' records (None: not published, see services/discovery.py).
    dns: ports.DnsRecords | None = None
    # Alerting: sends notifications out; Alertmanager's silences (None: no Alertmanager configured).
    notifier: ports.Notifier | None = None
    silencer: ports.Silencer | None = None
    # Closes what bootstrap opened (the watches, the cluster clients, the database's engine).
    close: Callable[[], Awaitable[None]] = _nothing
    # The metrics store (Prometheus' HTTP API) the charts read; None: not configured.
    metrics: ports.Metrics | None = None
    # The read-only bearer token Prometheus scrapes /metrics with (see api/export.py).
    scrape_token: str = field(default="", repr=False)
    # What the inspection reads of each cluster's control plane (None: control planes not inspected).
    control_plane: ports.ControlPlaneReader | None = None
    # Instances' logs through each cluster's apiserver (None: not wired, e.g. in unit tests).
    logs: ports.PodLogs | None = None
    # Single sign-on (None: off) and the provider whose bearer tokens it accepts.
    sso: SsoConfig | None = None
    idp: ports.IdentityProvider | None = None
    # The log store the shipper writes and the log search reads (None: no history, no search).
    logstore: ports.LogStore | None = None
    # Reads kept while the database's generations are unchanged (see services/generations.py):
    # who holds which bearer token, and groups by (system, application, name).
    principals: GenerationCache[Principal] = field(default_factory=GenerationCache)
    groups: GenerationCache[Group] = field(default_factory=GenerationCache)
    # Groups a chart found a moment ago (services/metrics.py): a chart polled every few seconds does
    # not read the model's generation each time.
    charted_groups: Recent = field(default_factory=Recent)
    # Set when an operation is recorded, so this process's executor starts it at once, not at its next poll.
    operations_added: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a release is given a command, so this process's release runners act at once.
    releases_steered: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a build is queued or asked to cancel, so this process's build runner looks at once.
    builds_added: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when a group's edge entry changes, so this process's edge sync reloads it at once.
    edge_changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when notifications are queued, so this process's notifier sends them at once.
    notifications_added: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the remediation policy changes, so this process's remediation acts at once (pause: stops).
    remediation_changed: asyncio.Event = field(default_factory=asyncio.Event)

    def seal_value(self, value: str) -> SealedValue:
        """A secret env value as version specs hold it: sealed, with its keyed fingerprint."""
        return SealedValue(token=self.box.seal(value), fingerprint=self.box.fingerprint(value))

    async def watch(self) -> None:
        """Start (or bring up to date) the watch caches of every registered cluster."""
        async with self.db.unit_of_work() as uow:
            clusters = await uow.clusters.all()
        await self.live.sync(clusters)

    async def stop(self) -> None:
        await self.close()
