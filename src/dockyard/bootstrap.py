"""The composition root: the one place that reads the settings and builds the adapters.

:func:`start` builds every adapter once — the secret box, the database, the cluster clients, the
watch caches, the registry clients' factory, the image builder, the git checkouts, the edge load
balancer's admin client and the DNS records directory — and hands the services a
:class:`~dockyard.services.platform.Platform` of ports (:mod:`dockyard.services.ports`); :func:`server`
is what the API server runs inside (start, the first admin, the watches, the edge sync, the global
names' follower when ``dns_records_dir`` is set and, with ``executor``, the operation executor and the
build runner). Services never build an adapter, nor
read a setting; the API and the CLI reach adapters only through here (import contracts say so).

Layers: ``cli → api → bootstrap → services → domain``, ``bootstrap → adapters → domain``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from dockyard.adapters import git
from dockyard.adapters.alertmanager import Alertmanager
from dockyard.adapters.builder import Buildah
from dockyard.adapters.db.database import Database
from dockyard.adapters.dns import RecordsDirectory
from dockyard.adapters.edge.haproxy import HAProxyEdge
from dockyard.adapters.kube.errors import KubeError
from dockyard.adapters.kube.inspecting import ControlPlaneReader
from dockyard.adapters.kube.live import LiveState
from dockyard.adapters.kube.logs import PodLogReader
from dockyard.adapters.kube.pool import ClusterPool, KubeconfigOf
from dockyard.adapters.logstore import VictoriaLogs
from dockyard.adapters.notify import Notifier, SmtpSettings
from dockyard.adapters.oidc import Provider
from dockyard.adapters.prometheus import Prometheus
from dockyard.adapters.registry import Registry
from dockyard.adapters.secretbox import SecretBox, SecretBoxError
from dockyard.domain.clusters import IN_CLUSTER, Cluster
from dockyard.domain.errors import DomainError, InvalidInput
from dockyard.domain.images import RegistryAuth, split_reference
from dockyard.domain.logsearch import STREAM_FIELDS
from dockyard.domain.sso import parse_role_map
from dockyard.services import credentials, discovery, keys
from dockyard.services import identity as identity_service
from dockyard.services.autoscale import run_autoscaler
from dockyard.services.build_runner import run_builds
from dockyard.services.edge import run_edge
from dockyard.services.executor import run_executor
from dockyard.services.inspection import run_inspection_schedule
from dockyard.services.logship import RENEW, run_shipper
from dockyard.services.notifications import run_notifier
from dockyard.services.platform import (
    AlertConfig,
    AutoscaleConfig,
    BuildConfig,
    Config,
    LogShipConfig,
    Platform,
    SsoConfig,
    StatisticsConfig,
)
from dockyard.services.ports import OnLine
from dockyard.services.remediation import run_remediation
from dockyard.services.statistics import run_sampler
from dockyard.settings import Settings

log = logging.getLogger(__name__)
SCRAPE_TOKEN_PREFIX = "dym_"  # noqa: S105 - a metrics scrape token: not an API token (dy_), never a user's
KEEP_WATCHING = 30.0  # seconds between looks for clusters registered meanwhile (by another replica too)


# --- Settings, grouped as the services read them ----------------------------------------------------


def config(settings: Settings) -> Config:
    """The values of the settings that use cases read (no credential but the build logs' redactions)."""
    secrets = [s.get_secret_value() for s in (settings.registry_password, settings.git_password) if s is not None]
    token = settings.alertmanager_webhook_token
    webhook_token = token.get_secret_value() if token is not None else ""
    return Config(
        builds=BuildConfig(
            work_dir=settings.build_dir / "work",
            concurrency=settings.build_concurrency,
            timeout=settings.build_timeout,
            source_roots=tuple(settings.build_source_roots),
            blocked_networks=tuple(settings.build_blocked_networks),
            secrets=tuple(s for s in secrets if s),
        ),
        cluster_health_timeout=settings.cluster_health_timeout,
        image_keep=settings.image_keep,
        alerts=AlertConfig(
            webhook_token_sha256=hashlib.sha256(webhook_token.encode()).hexdigest() if webhook_token else "",
            silence_max_seconds=settings.silence_max_hours * 3600.0,
            channel_allowed_networks=tuple(settings.channel_allowed_networks),
        ),
        autoscale=AutoscaleConfig(
            every=settings.autoscale_every,
            lease=max(settings.lease_seconds, 3 * settings.autoscale_every),
            step=settings.autoscale_step,
            stale_seconds=settings.autoscale_stale_seconds,
            requests_series=settings.autoscale_requests_series,
        ),
        statistics=StatisticsConfig(
            step=settings.statistics_step, lease=max(settings.lease_seconds, 3.0 * settings.statistics_step)
        ),
        logship=LogShipConfig(ship=settings.logs_ship, lease=max(settings.lease_seconds, 3 * RENEW)),
    )


# --- The secret box ---------------------------------------------------------------------------------


def ensure_secret_key(settings: Settings) -> bool:
    """Write a new key to ``secret_key_file`` unless a key is set or the file exists; True if written.

    For entry points (the server, ``dockyard up``, ``dockyard db upgrade``): mode 0600, put in place
    atomically, never over an existing file, never logged. Losing that file loses every sealed value:
    back it up with the database, or set ``DOCKYARD_SECRET_KEY`` (several replicas must share one key).
    """
    if settings.secret_key is not None or settings.secret_key_file.exists():
        return False
    return _create_private(settings.secret_key_file, SecretBox.generate_key() + "\n")


def open_box(settings: Settings) -> SecretBox:
    """The box of the configured keys (``secret_key``, else the content of ``secret_key_file``; the
    ``secret_key_old`` ones still open what they sealed); :class:`InvalidInput` (``secret_key``) if
    there is none or one is malformed. Messages never hold a key."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
    else:
        try:
            key = settings.secret_key_file.read_text()
        except FileNotFoundError:
            raise InvalidInput(
                "secret_key",
                f"no secret key: set DOCKYARD_SECRET_KEY, or start the server once to generate "
                f"{settings.secret_key_file}",
            ) from None
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidInput(
                "secret_key", f"cannot read the secret key file {settings.secret_key_file}: {type(e).__name__}"
            ) from None
    try:
        return SecretBox(key, old_keys=[k.get_secret_value() for k in settings.secret_key_old])
    except SecretBoxError as e:
        raise InvalidInput("secret_key", str(e)) from None


def scrape_token(settings: Settings) -> str:
    """The read-only token Prometheus scrapes ``/metrics`` with: ``metrics_token``, else the content of
    ``metrics_token_file``, generated there (mode 0600) on the first start. Never logged."""
    if settings.metrics_token is not None:
        return settings.metrics_token.get_secret_value()
    _create_private(settings.metrics_token_file, SCRAPE_TOKEN_PREFIX + secrets.token_urlsafe(32) + "\n")
    return settings.metrics_token_file.read_text().strip()


def _create_private(path: Path, content: str) -> bool:
    """Create ``path`` holding ``content``, readable by its owner only; False if it already exists.

    Written to a new temporary file first, then linked into place: the file appears whole or not at
    all, and an existing one (another process's new key) is never replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.link(fresh, path)
    except FileExistsError:
        return False
    finally:
        fresh.unlink(missing_ok=True)
    return True


def kubeconfig_reader(box: SecretBox) -> KubeconfigOf:
    """What the cluster pool and the watches call for a cluster's kubeconfig: its content opened from
    the seal, or :data:`IN_CLUSTER`; :class:`KubeError` (naming no credential) if it cannot be used."""

    def kubeconfig_of(cluster: Cluster) -> str:
        if cluster.kubeconfig_form == "in-cluster":
            return IN_CLUSTER
        if cluster.kubeconfig_form == "path":
            raise KubeError(
                "it was registered by a path on the server, which Dockyard no longer reads: "
                "register it again with the kubeconfig's content"
            )
        try:
            return box.open(cluster.kubeconfig)
        except SecretBoxError:
            raise KubeError("its kubeconfig was sealed with a secret key that is not configured") from None

    return kubeconfig_of


# --- Registries and sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class Registries:
    """Registry clients with the configured credentials: loopback hosts and ``plain_http`` ones over
    plain HTTP, the others over HTTPS (:class:`~dockyard.services.ports.Registries`)."""

    username: str = ""
    password: str = ""
    plain_http: tuple[str, ...] = ()

    def open(self, repository: str) -> tuple[Registry, str]:
        host, _, path = repository.partition("/")
        plain = host.startswith(("127.0.0.1:", "localhost:", "[::1]:")) or host in self.plain_http
        return Registry(host, username=self.username, password=self.password, plain_http=plain), path

    def auth(self, repository: str) -> list[RegistryAuth]:
        if not self.username or not self.password:
            return []
        return [
            RegistryAuth(host=split_reference(repository + ":x")[0], username=self.username, password=self.password)
        ]


@dataclass(frozen=True)
class Sources:
    """git checkouts with the configured credentials (a password alone goes as a token of
    ``x-access-token``) (:class:`~dockyard.services.ports.Sources`)."""

    username: str = ""
    password: str = ""

    async def checkout(self, url: str, *, ref_kind: str, ref: str, into: Path, on_line: OnLine) -> str:
        return await git.checkout(
            url,
            ref_kind=ref_kind,
            ref=ref,
            into=into,
            on_line=on_line,
            username=self.username or ("x-access-token" if self.password else ""),
            password=self.password,
        )


# --- The platform -----------------------------------------------------------------------------------


def sso_config(settings: Settings) -> SsoConfig | None:
    """Single sign-on from the settings; None when no issuer is set. Refuses (``InvalidInput`` naming
    the setting) a half configuration and a role map it cannot read."""
    if not settings.oidc_issuer:
        return None
    for name in ("oidc_client_id", "oidc_redirect_url"):
        if not getattr(settings, name):
            raise InvalidInput(name, f"{name} must be set when oidc_issuer is (single sign-on)")
    if settings.oidc_client_secret is None:
        raise InvalidInput("oidc_client_secret", "oidc_client_secret must be set when oidc_issuer is")
    return SsoConfig(
        issuer=settings.oidc_issuer,
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value(),
        redirect_url=settings.oidc_redirect_url,
        cli_client_id=settings.oidc_cli_client_id,
        scopes=settings.oidc_scopes,
        groups_claim=settings.oidc_groups_claim,
        username_claim=settings.oidc_username_claim,
        role_map=parse_role_map(settings.oidc_role_map, admin_groups=settings.oidc_admin_groups),
        session_seconds=settings.oidc_session_hours * 3600.0,
        secure_cookies=settings.oidc_secure_cookies,
    )


async def start(settings: Settings) -> Platform:
    """Open the secret box (its key must exist: see :func:`ensure_secret_key`) and the database
    (migrating it if ``auto_migrate``), check the key is the database's and seal the kubeconfigs
    still registered by path; then an empty cluster pool and no watches (``Platform.watch`` starts
    them)."""
    box = open_box(settings)
    sso = sso_config(settings)
    db = Database(settings.database_url)
    try:
        if settings.auto_migrate:
            await db.upgrade()
        await keys.check_database_key(db, box)
        await credentials.seal_path_kubeconfigs(db, box)
    except BaseException:
        await db.dispose()
        raise
    kubeconfig_of = kubeconfig_reader(box)
    clusters, live = ClusterPool(kubeconfig_of), LiveState(kubeconfig_of)
    edge = HAProxyEdge(settings.edge_runtime) if settings.edge_runtime else None
    prometheus = Prometheus(settings.prometheus_url, timeout=settings.prometheus_timeout)
    idp = (
        Provider(sso.issuer, audience=[settings.oidc_audience or sso.client_id, *filter(None, [sso.cli_client_id])])
        if sso
        else None
    )
    logstore = (
        VictoriaLogs(settings.logstore_url, stream_fields=STREAM_FIELDS, timeout=settings.logstore_timeout)
        if settings.logstore_url
        else None
    )

    async def close() -> None:
        if idp is not None:
            await idp.aclose()
        if edge is not None:
            await edge.aclose()
        await live.aclose()
        await clusters.aclose()
        await prometheus.aclose()
        if logstore is not None:
            await logstore.aclose()
        await db.dispose()

    registry_password = settings.registry_password.get_secret_value() if settings.registry_password else ""
    git_password = settings.git_password.get_secret_value() if settings.git_password else ""
    return Platform(
        db=db,
        clusters=clusters,
        live=live,
        box=box,
        registries=Registries(settings.registry_username, registry_password, tuple(settings.registry_plain_http)),
        builder=Buildah(settings.build_dir / "buildah", insecure_hosts=settings.registry_plain_http),
        sources=Sources(settings.git_username, git_password),
        config=config(settings),
        edge=edge,
        dns=RecordsDirectory(settings.dns_records_dir) if settings.dns_records_dir else None,
        notifier=Notifier(smtp_settings(settings)),
        silencer=Alertmanager(settings.alertmanager_url) if settings.alertmanager_url else None,
        close=close,
        metrics=prometheus,
        scrape_token=scrape_token(settings),
        control_plane=ControlPlaneReader(clusters, timeout=settings.cluster_health_timeout),
        logs=PodLogReader(clusters),
        sso=sso,
        idp=idp,
        logstore=logstore,
    )


def smtp_settings(settings: Settings) -> SmtpSettings:
    """Where e-mail channels send from (``smtp_host`` empty: e-mail is off)."""
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=settings.smtp_password.get_secret_value() if settings.smtp_password else "",
        starttls=settings.smtp_starttls,
    )


# --- The API server's life --------------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    """What the API application is given: the platform's life (``running()``: start, then stop when
    the block ends) and where the built web console is (None: the source tree's)."""

    running: Callable[[], AbstractAsyncContextManager[Platform]]
    console_dir: Path | None = None


def server(settings: Settings) -> Server:
    """The API server's :class:`Server` from the settings."""
    return Server(running=lambda: _running(settings), console_dir=settings.console_dir)


@asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[Platform]:
    """Generate the secret key on a first start, start the platform, create the first admin on an
    empty database, watch the clusters (again every :data:`KEEP_WATCHING` seconds), keep the edge load
    balancer's routes in step (when one is configured) and, with ``executor``, run the operation
    executor and the build runner; stop all of it at the end."""
    if ensure_secret_key(settings):
        log.warning("generated the secret key sealing secrets at rest in %s: back it up", settings.secret_key_file)
    platform = await start(settings)
    try:
        await _first_admin(platform, settings)
        await platform.watch()
    except BaseException:
        await platform.stop()
        raise
    tasks = [asyncio.create_task(_keep_watching(platform)), asyncio.create_task(run_edge(platform))]
    if platform.dns is not None:
        tasks.append(asyncio.create_task(discovery.follow(platform, platform.dns)))
    if settings.executor:
        lease = settings.lease_seconds
        tasks += [
            asyncio.create_task(run_executor(platform, lease=lease)),
            asyncio.create_task(run_builds(platform, lease=lease)),
            asyncio.create_task(run_notifier(platform)),
            asyncio.create_task(run_inspection_schedule(platform)),
            asyncio.create_task(run_remediation(platform, poll=settings.remediation_every)),
            asyncio.create_task(run_remediation(platform)),
            asyncio.create_task(run_shipper(platform)),
        ]
    if settings.executor and settings.autoscale:
        tasks.append(asyncio.create_task(run_autoscaler(platform)))
    if settings.executor and settings.statistics:
        tasks.append(asyncio.create_task(run_sampler(platform)))
    try:
        yield platform
    finally:
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await platform.stop()


async def _keep_watching(platform: Platform, every: float = KEEP_WATCHING) -> None:
    """Watch clusters registered meanwhile (by another replica too) and retry unusable ones."""
    while True:
        await asyncio.sleep(every)
        try:
            await platform.watch()
        except DomainError as e:
            log.warning("cannot refresh the cluster watches: %s", e)


async def _first_admin(platform: Platform, settings: Settings) -> None:
    """The first admin on an empty database; where to find its generated secrets goes to the log,
    never the secrets."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else None
    password = settings.admin_password.get_secret_value() if settings.admin_password else None
    created = await identity_service.bootstrap(
        platform,
        token=token,
        token_file=settings.admin_token_file,
        password=password,
        password_file=settings.admin_password_file,
    )
    if created:
        where = [f"its API token is in {settings.admin_token_file}"] if token is None else []
        where += [f"its password is in {settings.admin_password_file}"] if password is None else []
        log.warning("created the platform admin 'admin'%s", "; " + ", ".join(where) if where else "")
