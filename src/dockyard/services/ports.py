"""Ports: what services ask of the systems outside them, as narrow protocols.

Services import these, never ``dockyard.adapters`` (an import contract says so); the adapters
implement them structurally and :mod:`dockyard.bootstrap` builds each adapter once and hands the
services a :class:`~dockyard.services.platform.Platform` of ports. Unit tests give services fakes of
the few methods a use case calls.

The failures a port raises are the domain's (:mod:`dockyard.domain.failures`): a cluster's
:class:`~dockyard.domain.failures.ClusterUnavailable`, ``ClusterNotFound``, ``ClusterConflict``; the
database's ``DatabaseConflict`` and ``DatabaseUnavailable``; ``RegistryFailure``, ``BuilderFailure``,
``SourceFailure``, ``EdgeFailure``, ``SealFailure`` and ``DnsFailure``; each adapter's own errors
subclass them.

- Database: :class:`Database` opens a :class:`UnitOfWork` holding one repository per topic.
- Clusters: :class:`ClusterClients` (one open :class:`ClusterClient` per registered cluster),
  :class:`LiveView` (the watch caches: connections, instances, Deployments, capacity) and
  :class:`PodLogs` (instances' logs through ``pods/log``).
- The edge: :class:`EdgeBalancer` (the load balancer's routes, one per group with an edge entry).
- Images and builds: :class:`Registries` (a :class:`Registry` client per repository),
  :class:`Builder` (build, run a script, push, forget) and :class:`Sources` (git checkouts).
- Secrets: :class:`SecretBox` (seal, open, derive, fingerprint).
- DNS: :class:`DnsRecords` (the global names' records files).
- Alerting: :class:`Notifier` (webhook POSTs, e-mail) and :class:`Silencer` (Alertmanager's silences).
- Inspection: :class:`ControlPlaneReader` (a cluster's control plane through its apiserver).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

from dockyard.domain.access import Binding, Principal
from dockyard.domain.alert_rules import GroupFacts, Override
from dockyard.domain.alerts import Alert, Channel, ChannelKind, Delivery, Received, Status
from dockyard.domain.audit import AuditEntry, AuditQuery, Head
from dockyard.domain.builds import Build
from dockyard.domain.clusters import Cluster
from dockyard.domain.edge import EdgeRoute, EdgeWrite
from dockyard.domain.flavors import Flavor
from dockyard.domain.images import Manifest, RegistryAuth
from dockyard.domain.inspection import Change, ControlPlane, Finding, Run
from dockyard.domain.inspection_schedule import Schedule
from dockyard.domain.live import Capacity, Connection, DeploymentRecord, PlacedInstance, PodRecord, WatchHealth
from dockyard.domain.location import Grant, Location
from dockyard.domain.login import Failures, SessionRecord, TokenRecord, UserRecord
from dockyard.domain.metrics import Series, Target
from dockyard.domain.model import (
    Application,
    AppPath,
    Dedication,
    Group,
    GroupPath,
    Operation,
    OperationStatus,
    System,
    Version,
)
from dockyard.domain.operations import OperationParams
from dockyard.domain.release import Release
from dockyard.domain.remediation import Policy, Record
from dockyard.domain.silences import Matcher
from dockyard.domain.statistics import Price, Row
from dockyard.domain.templates import Template
from dockyard.domain.versions import VersionSpec

OnLine = Callable[[str], None]  # told each line a tool prints

# --- Clusters ---------------------------------------------------------------------------------------


class ClusterClient(Protocol):
    """One cluster's apiserver. Manifests and answers are plain JSON data; a 404 is
    ``ClusterNotFound``, a 409 ``ClusterConflict``, an unreachable apiserver ``ClusterUnavailable``."""

    async def apply(self, manifest: dict[str, Any], *, remember: bool = False) -> dict[str, Any]:
        """Server-side apply ``manifest`` (forcing ownership of its fields); returns the result. With
        ``remember``, :meth:`ensure` and :meth:`remembered` know it afterwards."""

    async def ensure(self, manifest: dict[str, Any]) -> bool:
        """Apply ``manifest`` unless this client applied the very same content a short while ago;
        True if it was written."""

    async def ensure_absent(self, api_version: str, kind: str, name: str, *, namespace: str) -> bool:
        """Delete one object unless this client deleted it, or found it absent, a short while ago;
        True if a delete was sent."""

    def remembered(self, api_version: str, kind: str, name: str, *, namespace: str = "") -> dict[str, Any] | None:
        """The manifest this client last applied with ``remember`` as that object, if recent (no I/O)."""

    def serialized(self, namespace: str) -> asyncio.Lock:
        """A lock of this client for ``namespace``: writers of its shared objects take turns."""

    async def replace(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Replace the whole object (PUT); with ``metadata.resourceVersion`` set, a concurrent change is
        a ``ClusterConflict``."""

    async def create(self, manifest: dict[str, Any]) -> bool:
        """Create ``manifest`` as given; False if it already existed."""

    async def evict(self, name: str, *, namespace: str) -> bool:
        """Evict a pod through the Eviction API; False when a disruption budget refuses it now."""

    async def delete(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> bool:
        """Delete one object; False if it was already gone."""

    async def list(
        self, api_version: str, kind: str, *, namespace: str | None = None, labels: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """List objects (request paths read the :class:`LiveView` instead)."""

    async def get(self, api_version: str, kind: str, name: str, *, namespace: str | None = None) -> dict[str, Any]:
        """One object; ``ClusterNotFound`` if it does not exist."""

    async def pod_log_tail(self, namespace: str, name: str, *, tail_lines: int, previous: bool = False) -> str:
        """The last ``tail_lines`` lines of a pod's (first) container's log, or of its previous run."""

    async def pod_events(self, namespace: str, name: str) -> tuple[dict[str, Any], ...]:
        """The Events whose object is the pod ``name`` (any uid), as JSON."""


class Health(Protocol):
    """An apiserver's readiness, and why not (never a credential)."""

    @property
    def ok(self) -> bool: ...

    @property
    def detail(self) -> str: ...


class ClusterClients(Protocol):
    """One open :class:`ClusterClient` per registered cluster, reopened when its kubeconfig changes."""

    async def client(self, cluster: Cluster) -> ClusterClient:
        """The open client of ``cluster``; a ``ClusterFailure`` if its kubeconfig cannot be used."""

    def get(self, name: str) -> ClusterClient | None:
        """The client opened for cluster ``name`` already, if any (opens nothing)."""

    def problem(self, name: str) -> str:
        """Why the cluster's client could not be opened at the last try ("" if it was)."""

    async def health(self, clusters: list[Cluster], *, timeout: float) -> Mapping[str, Health]:
        """Each cluster's apiserver readiness, all asked at once, each bounded by ``timeout`` seconds."""


class PodLogs(Protocol):
    """Instances' logs through their cluster's apiserver (``pods/log``); a pod that is gone is
    ``ClusterNotFound``, a log the node cannot serve ``ClusterRefused``, an apiserver away
    ``ClusterUnavailable``."""

    def read(
        self,
        cluster: Cluster,
        namespace: str,
        pod: str,
        *,
        container: str,
        follow: bool,
        since_time: str | None = None,
        tail_lines: int | None = None,
    ) -> AbstractAsyncContextManager[AsyncIterator[str]]:
        """One container's log lines, each ``<RFC3339Nano> <text>``, from ``since_time`` (RFC 3339,
        whole seconds) or its last ``tail_lines``; with ``follow`` until the container stops."""


class LogStore(Protocol):
    """The log store (VictoriaLogs): the shipper's records in, LogsQL queries out (the queries are
    made by :mod:`dockyard.domain.logsearch`); errors are ``LogStoreFailure``, unreachable
    ``LogStoreUnavailable``."""

    async def insert(self, records: Sequence[Mapping[str, str]]) -> None:
        """Store ``records`` (``_time``, ``_msg`` and fields); returns once all were accepted."""

    async def query(self, logsql: str, *, params: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        """The rows of ``logsql`` (``params``: ``start``/``end``), each a mapping of field to text."""

    async def flush(self) -> None:
        """Make every record stored so far searchable at once."""


class LiveView(Protocol):
    """The watch caches of every registered cluster; reads never block nor call an apiserver."""

    async def sync(self, clusters: list[Cluster]) -> None:
        """Watch ``clusters`` (start new ones, restart changed ones, stop the others)."""

    def connection(self, cluster: str) -> Connection:
        """Whether the cluster's watches are live."""

    def pods(self, cluster: str, group: GroupPath) -> list[PodRecord]:
        """The group's instances on ``cluster`` as last seen."""

    def deployment(self, cluster: str, namespace: str, name: str) -> DeploymentRecord | None:
        """A Deployment as last seen; None if not seen."""

    def service_exists(self, cluster: str, namespace: str, name: str) -> bool | None:
        """Whether Dockyard's Service ``name`` exists in ``namespace`` as last seen; None while the
        cluster's Service cache cannot tell."""

    def capacity(self, cluster: str) -> Capacity:
        """The cluster's nodes and its pods' usage as last seen."""

    def instances(self, cluster: str) -> list[PodRecord]:
        """Every instance (of every group) on ``cluster`` as last seen."""

    def revision(self, cluster: str) -> int:
        """A number that changes whenever :meth:`instances` of ``cluster`` may have (never repeats in
        this process), so a follower can skip looking when it has not changed; 0 until the cluster's
        instances have been listed once (before that, :meth:`instances` knows none of them)."""

    def placed_instances(self) -> list[PlacedInstance]:
        """Every instance of every watched cluster as last seen, with its cluster and IDC."""

    def watch_health(self) -> list[WatchHealth]:
        """Each watched cluster's watches: connected or not, and how long since they last heard anything."""


class ControlPlaneReader(Protocol):
    """What the inspection reads of a cluster's control plane through its apiserver; never raises:
    what could not be read is ``None`` in the answer with a detail saying why."""

    async def control_plane(self, cluster: Cluster) -> ControlPlane: ...


# --- DNS --------------------------------------------------------------------------------------------


class DnsRecords(Protocol):
    """The records the DNS server answers the global names from; ``DnsFailure`` when they cannot be
    written."""

    def write(self, files: Mapping[str, str]) -> list[str]:
        """Put each records file (name → whole content) in place at once, skipping unchanged ones;
        the names written."""


class EdgeBalancer(Protocol):
    """The edge load balancer; ``EdgeFailure`` (``EdgeUnavailable`` when it cannot be reached) when it
    does not take the routes."""

    async def apply(self, routes: Sequence[EdgeRoute]) -> EdgeWrite:
        """Make the balancer hold exactly ``routes`` (one per group), writing only what differs from
        what it holds; idempotent."""


# --- Metrics ---------------------------------------------------------------------------------------


class Metrics(Protocol):
    """The metrics store's HTTP API (Prometheus); ``MetricsUnavailable`` when it cannot answer,
    another ``MetricsFailure`` when it refuses a query."""

    async def query(self, promql: str, *, at: float) -> list[Series]:
        """An instant query at Unix time ``at``."""

    async def query_range(self, promql: str, *, start: float, end: float, step: float) -> list[Series]:
        """A range query."""

    async def targets(self) -> list[Target]:
        """The active scrape targets."""

    async def recorded(self) -> set[str]:
        """The names of the loaded recording rules."""


# --- Images and builds ------------------------------------------------------------------------------


class Registry(Protocol):
    """One registry host's HTTP API; ``RegistryUnavailable``, ``RegistryNotFound`` or another
    ``RegistryFailure`` when it cannot answer as asked. Used as ``async with``."""

    async def __aenter__(self) -> Registry: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def tags(self, repository: str) -> list[str]:
        """The repository's tags."""

    async def manifest(self, repository: str, reference: str) -> Manifest:
        """The digest and size of a tag's (or digest's) manifest."""

    async def exists(self, repository: str, digest: str) -> bool:
        """Whether the manifest ``digest`` is there."""

    async def delete(self, repository: str, digest: str) -> None:
        """Delete the manifest ``digest``."""


class Registries(Protocol):
    """A client of the registry holding a repository, with the platform's registry credentials."""

    def open(self, repository: str) -> tuple[Registry, str]:
        """A client of the registry holding ``repository`` (``host[:port]/path``), and the path in it."""

    def auth(self, repository: str) -> list[RegistryAuth]:
        """The credentials a builder needs to push to ``repository`` (none if none are configured)."""


class Builder(Protocol):
    """Image builds; cancelling the awaiting task kills the tool. ``BuildStepFailed`` when a step
    exits non-zero, another ``BuilderFailure`` when the tool cannot run."""

    async def build(
        self,
        *,
        context: Path,
        dockerfile: Path,
        tag: str,
        build_args: Sequence[tuple[str, str]],
        workdir: Path,
        auth: Sequence[RegistryAuth],
        on_line: OnLine,
    ) -> None:
        """Build ``context`` with ``dockerfile`` into the local image ``tag``."""

    async def run_script(
        self, *, image: str, context: Path, script: str, workdir: Path, auth: Sequence[RegistryAuth], on_line: OnLine
    ) -> None:
        """Run ``script`` of ``context`` in a container of ``image`` (the checkout mounted read-write)."""

    async def push(self, *, tag: str, workdir: Path, auth: Sequence[RegistryAuth], on_line: OnLine) -> str:
        """Push the local image ``tag``; returns its digest."""

    async def forget(self, tag: str) -> None:
        """Remove the local image ``tag`` (never raises)."""


class Sources(Protocol):
    """Source checkouts, with the platform's git credentials; ``SourceFailure`` when one fails."""

    async def checkout(self, url: str, *, ref_kind: str, ref: str, into: Path, on_line: OnLine) -> str:
        """Clone ``url`` into ``into`` (a new directory) and check out ``ref``; the full commit sha."""


# --- Secrets ----------------------------------------------------------------------------------------


class SecretBox(Protocol):
    """Secrets at rest under the platform's master key; ``SealFailure`` for a token no key opens."""

    def seal(self, plaintext: str) -> str: ...

    def open(self, token: str) -> str: ...

    def derive(self, purpose: str) -> bytes:
        """A key of its own for ``purpose``, derived from the current master key."""

    def fingerprint(self, plaintext: str) -> str:
        """A keyed fingerprint of ``plaintext`` (tells equal values apart without holding them)."""


# --- Database ---------------------------------------------------------------------------------------


class Database(Protocol):
    """Units of work: ``async with db.unit_of_work() as uow:`` commits when the block ends normally
    and rolls back when it raises; a uniqueness rule broken is ``DatabaseConflict``, a database away
    ``DatabaseUnavailable``."""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    async def ping(self) -> str:
        """``SELECT 1``: the backend's name; ``DatabaseUnavailable`` if it cannot be reached."""

    async def generation(self, name: str) -> int:
        """The counter ``name`` (bumped by every change of what it covers: ``identity``, ``model``), read
        outside any unit of work; ``DatabaseUnavailable`` on failure."""


class ClusterRepository(Protocol):
    """Registered clusters (kubeconfigs sealed)."""

    async def all(self) -> list[Cluster]: ...

    async def upsert(self, cluster: Cluster) -> bool:
        """Insert or update by name; True if the cluster is new. The unit of work commits and maps
        SQLAlchemy's errors (a concurrent insert of the same name becomes a conflict)."""

    async def replace_path(self, name: str, *, path: str, sealed: str) -> bool:
        """Store ``sealed`` for a cluster still registered by ``path``; False if it changed meanwhile."""


class Systems(Protocol):
    """Systems."""

    async def add(self, system: System) -> None: ...

    async def get(self, name: str) -> System | None: ...

    async def all(self) -> list[System]: ...

    async def delete(self, name: str) -> None: ...


class Applications(Protocol):
    """Applications of systems."""

    async def add(self, app: Application) -> None: ...

    async def set_location(self, path: AppPath, location: Location | None) -> None: ...

    async def get(self, path: AppPath) -> Application | None: ...

    async def of_system(self, system: str) -> list[Application]: ...

    async def delete(self, path: AppPath) -> None: ...


class Groups(Protocol):
    """Groups of applications and the clusters they run on."""

    async def add(self, group: Group) -> None: ...

    async def get(self, path: GroupPath) -> Group | None: ...

    async def of_app(self, app: AppPath) -> list[Group]: ...

    async def with_edge(self) -> list[Group]:
        """Every group with an edge entry, of every system."""

    async def set_edge(self, path: GroupPath, port: str | None) -> None:
        """Give the group an edge entry serving ``port`` ("": its default port), or none (None)."""

    async def set_cluster(self, path: GroupPath, cluster: str, *, instances: int, version: int | None) -> None:
        """Record that the group runs ``instances`` of ``version`` on ``cluster`` (insert or update)."""

    async def remove_cluster(self, path: GroupPath, cluster: str) -> None: ...

    async def set_current_version(self, path: GroupPath, number: int) -> None: ...

    async def delete(self, path: GroupPath) -> None:
        """Delete the group and its versions."""


class Versions(Protocol):
    """Versions of groups (numbered, immutable specs)."""

    async def add(self, path: GroupPath, spec: VersionSpec, *, by: str, reason: str = "") -> Version:
        """Store ``spec`` as the group's next version (latest + 1) and return it.

        The number is claimed by a conditional update of the group's ``latest_version``, so of two
        concurrent calls one gets the next number and the other a :class:`Conflict`."""

    async def get(self, path: GroupPath, number: int) -> Version | None: ...

    async def of_group(self, path: GroupPath) -> list[Version]: ...


class OperationLog(Protocol):
    """Operations (deploys, scales, moves…), their leases and results."""

    async def add(self, operation: Operation) -> None: ...

    async def get(self, operation_id: str) -> Operation | None: ...

    async def start(self, operation_id: str) -> None:
        """Mark ``pending`` → ``running`` (kept as it is when already running: a resumed operation)."""

    async def unfinished(self) -> list[Operation]:
        """Operations still pending or running, oldest first: what a (re)started executor must drive."""

    async def claim(self, operation_id: str, runner: str, *, seconds: float) -> bool:
        """Take (or renew) the lease of an unfinished operation for ``runner`` for ``seconds``; False if
        another runner holds an unexpired lease, or the operation has ended. One conditional update,
        so of two executors racing for an operation exactly one wins."""

    async def active(self, path: GroupPath) -> Operation | None:
        """The group's unfinished operation, if any (there is at most one)."""

    async def finish(self, operation_id: str, status: OperationStatus, *, error: str = "") -> bool:
        """Record the end of an unfinished operation; False (and no change) if it had already ended,
        so a second runner of the same operation can never overwrite the first one's result."""

    async def set_params(self, operation_id: str, params: OperationParams) -> None:
        """Replace the operation's parameters (e.g. with the split it computed, so a resumed run keeps it)."""

    async def history(self, scope: str | AppPath | GroupPath, *, limit: int = 100) -> list[Operation]:
        """Newest first, of a system (its name), an application or a group."""


class Releases(Protocol):
    """Releases: where each is, its ledger, and the commands given to it."""

    async def add(self, release: Release) -> None: ...

    async def get(self, release_id: str) -> Release | None: ...

    async def of_group(self, path: GroupPath, *, limit: int = 50) -> list[Release]: ...

    async def active(self) -> list[Release]:
        """Every release not ended, of every group, oldest first."""

    async def record(
        self,
        release_id: str,
        *,
        step: int | None = None,
        status: str | None = None,
        pause_until: dt.datetime | bool | None = False,
        entry: dict[str, Any] | None = None,
        error: str | None = None,
        cluster_index: int | None = None,
        total: int | None = None,
    ) -> None:
        """The runner's write: where the release is, and one more ledger entry (never its commands). A
        new ``cluster_index`` without ``total`` takes that cluster's count from the release's clusters."""

    async def command(self, release_id: str, *, command: str | None = None, paused: bool | None = None) -> bool:
        """The API's write: a command for the runner, or pause/resume; False if the release ended."""

    async def set_total(
        self, release_id: str, total: int, *, by: str, clusters: Mapping[str, int] | None = None
    ) -> bool:
        """A new instance count for a running gray or blue-green release; False if it cannot take one.
        One across clusters takes one only with ``clusters``, the new count of each of its clusters."""

    async def take_command(self, release_id: str, command: str) -> bool:
        """Clear ``command`` if it is the one pending; True if this call took it."""


class Builds(Protocol):
    """Builds: the queue, their leases, moves between states, and their logs."""

    async def add(self, build: Build) -> None: ...

    async def get(self, build_id: str) -> Build | None: ...

    async def of_app(self, app: AppPath, *, limit: int = 100) -> list[Build]: ...

    async def unfinished(self) -> list[Build]: ...

    async def succeeded_for(
        self, system: str, app: str, commit: str, dockerfile: str, args: Sequence[Any]
    ) -> Build | None:
        """The newest succeeded build of the same commit, Dockerfile and build args, if any."""

    async def claim(self, build_id: str, runner: str, *, seconds: float) -> bool:
        """Take (or renew) the lease of an unfinished build; one conditional update, so of two runners
        exactly one wins. A build whose runner died (lease expired while running) is not claimable by
        this: see :meth:`interrupted`."""

    async def interrupted(self) -> list[str]:
        """Builds in a running state whose runner's lease has expired: their runner is gone."""

    async def move(self, build_id: str, frm: str, to: str, **values: Any) -> bool:
        """``frm`` → ``to`` with ``values``; False (no change) if the build is no longer in ``frm``."""

    async def set_commit(self, build_id: str, commit: str) -> None: ...

    async def request_cancel(self, build_id: str) -> bool: ...

    async def append_log(self, build_id: str, first_seq: int, lines: Sequence[str]) -> None: ...

    async def log_lines(self, build_id: str, *, after: int = 0, limit: int = 5000) -> list[tuple[int, str]]: ...

    async def forget_app(self, app: AppPath) -> None: ...


class Identities(Protocol):
    """Users, API tokens (by hash) and the principal a token or user stands for."""

    async def add_user(self, name: str, *, admin: bool, password_hash: str | None = None) -> None: ...

    async def users(self) -> list[UserRecord]: ...

    async def password_hash(self, name: str) -> str | None:
        """The user's password hash; None for an unknown user or one without a password."""

    async def set_password(self, name: str, password_hash: str) -> None: ...

    async def token_holder(self, token_hash: str, *, now: dt.datetime) -> tuple[Principal, dt.datetime | None] | None:
        """:meth:`principal_of_token` with the token's expiry (``None``: it never expires)."""

    async def principal(self, name: str) -> Principal | None:
        """The user ``name`` with its roles; None if there is no such user."""

    async def count_users(self) -> int: ...

    async def add_token(
        self, *, token_id: str, user: str, name: str, token_hash: str, expires_at: dt.datetime | None
    ) -> TokenRecord: ...

    async def tokens(self, user: str) -> list[TokenRecord]: ...

    async def revoke_token(self, user: str, token_id: str) -> None:
        """Revoke one of ``user``'s tokens; :class:`NotFound` if ``user`` has no such token."""


class KeyChecks(Protocol):
    """Known texts sealed under the master key, to tell whether a key fits the database."""

    async def get(self, name: str) -> str | None: ...

    async def add(self, name: str, token: str) -> None:
        """Insert; a concurrent insert of the same name surfaces as a conflict at commit."""


class Members(Protocol):
    """Role bindings of users in systems and applications."""

    async def of_system(self, system: str) -> list[Binding]: ...

    async def bind(self, binding: Binding) -> bool:
        """Give the binding's user its role in its scope (replacing a role held there); True if new.

        :class:`InvalidInput` (field ``user``) for an unknown user, :class:`NotFound` for a missing
        system or application."""

    async def unbind(self, user: str, system: str, app: str | None) -> None:
        """Remove ``user``'s role in the scope; :class:`NotFound` if they hold none there."""


class Sessions(Protocol):
    """Login sessions (refresh tokens by hash) and failed-login counters."""

    async def add(
        self, *, session_id: str, user: str, family: str, token_hash: str, expires_at: dt.datetime
    ) -> None: ...

    async def by_token(self, token_hash: str) -> SessionRecord | None: ...

    async def replace(self, session_id: str, now: dt.datetime) -> bool:
        """Mark a live session replaced by its successor; False if it was already replaced or revoked
        (a concurrent refresh won, or the token was reused)."""

    async def revoke_family(self, family: str, now: dt.datetime) -> None: ...

    async def revoke_user(self, user: str, now: dt.datetime) -> None: ...

    async def failures(self, key: str) -> Failures | None: ...

    async def set_failures(self, key: str, failures: Failures) -> None: ...

    async def clear_failures(self, key: str) -> None: ...


class SsoSessions(Protocol):
    """Console sessions of people signed in through the identity provider: the cookie's SHA-256, who,
    and their groups (kept here, never in the cookie)."""

    async def add(
        self, *, token_hash: str, user: str, groups: Sequence[str], now: dt.datetime, expires_at: dt.datetime
    ) -> None: ...

    async def live(self, token_hash: str, now: dt.datetime) -> tuple[str, list[str]] | None:
        """The user and groups of a session neither expired nor ended; None otherwise."""

    async def end(self, token_hash: str, now: dt.datetime) -> None:
        """End a session (nothing if there is none); expired and ended sessions are purged too."""


class IdentityProvider(Protocol):
    """The OpenID Connect provider single sign-on trusts."""

    async def claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a JWT the provider signed for Dockyard (signature by its current keys, issuer,
        audience, expiry checked); None for any other token, whatever the reason."""


class AuditTrail(Protocol):
    """The audit trail: a hash chain of entries."""

    async def lock_head(self) -> Head | None:
        """The head, locked for this unit of work; None if its row is missing."""

    async def head(self) -> Head | None: ...

    async def append(self, entry: AuditEntry) -> None:
        """Insert ``entry`` and move the head to it (after :meth:`lock_head`)."""

    async def chain(self, *, after: int, upto: int, limit: int) -> list[AuditEntry]:
        """Up to ``limit`` entries with ``after < seq <= upto``, oldest first."""

    async def find(self, query: AuditQuery) -> list[AuditEntry]:
        """The entries matching ``query``, newest (highest ``seq``) first."""


class Placements(Protocol):
    """Dedicated node pools and the CPU model each application is pinned to."""

    async def dedications(self, cluster: str | None = None) -> list[Dedication]:
        """Every dedicated pool (of ``cluster``), by cluster then pool."""

    async def dedication(self, cluster: str, pool: str) -> Dedication | None: ...

    async def dedicate(self, dedication: Dedication) -> None:
        """Record (or move) the pool's dedication."""

    async def undedicate(self, cluster: str, pool: str) -> bool:
        """Forget the pool's dedication; False if it had none."""

    async def cpu_model(self, system: str, app: str) -> str | None: ...

    async def pin_cpu_model(self, system: str, app: str, cpu_model: str) -> None:
        """Record the application's CPU model (once: a concurrent pin is a conflict)."""


class LocationGrants(Protocol):
    """Which systems may place applications in which production locations."""

    async def request(self, system: str, location: Location, *, by: str, reason: str) -> Grant: ...

    async def of_system(self, system: str) -> list[Grant]: ...

    async def approved(self, system: str) -> list[Location]: ...

    async def decide(self, system: str, grant_id: int, *, status: str, by: str) -> Grant | None:
        """Set the grant's status; None if the system has no such grant."""


class AlertRules(Protocol):
    """System owners' settings of the built-in alert rules, as revisions (one setting: a rule of an
    application, ``group`` None, or of a group)."""

    async def record(
        self,
        system: str,
        app: str,
        group: str | None,
        rule: str,
        *,
        threshold: float | None,
        enabled: bool | None,
        cleared: bool,
        by: str,
        reason: str,
    ) -> Override:
        """Add the setting's next revision (``cleared``: remove the override); a concurrent change of
        the same setting is a ``DatabaseConflict``."""

    async def current(self, system: str | None = None) -> list[Override]:
        """The settings in force, of ``system`` or of all systems."""

    async def history(self, system: str, *, limit: int = 200) -> list[Override]:
        """Every revision of the system's settings, newest first."""

    async def group_paths(self, system: str | None = None) -> list[tuple[str, str, str]]:
        """``(system, app, group)`` of every group, of ``system`` or of all systems."""

    async def group_facts(self, *, aborted_since: dt.datetime) -> list[GroupFacts]:
        """Every group's wanted instances, current flavor and releases aborted since then."""


class Leases(Protocol):
    """Named leases, one holder at a time (adapters/db/leases.py)."""

    async def claim(self, name: str, holder: str, *, seconds: float) -> bool:
        """Take or renew ``name`` for ``holder``; False while another holder's lease runs."""
        ...

    async def release(self, name: str, holder: str) -> None: ...


class Statistics(Protocol):
    """Resource statistics: sampled steps, daily rows, prices (adapters/db/statistics.py)."""

    async def add_step(
        self, *, at: int, step: int, measured: bool, runner: str, instances: Sequence[Row], groups: Sequence[Row]
    ) -> None:
        """Record the step starting at ``at`` (a step recorded already: a database conflict) and add
        its rows to their days."""
        ...

    async def steps(self, *, since: int, until: int) -> list[tuple[int, int, bool]]: ...

    async def group_days(self, *, first: dt.date, last: dt.date, systems: Sequence[str] | None = None) -> list[Row]: ...

    async def instance_days(self, *, first: dt.date, last: dt.date, system: str, app: str, group: str) -> list[Row]: ...

    async def prices(self) -> list[Price]: ...

    async def set_price(self, price: Price, *, by: str) -> None: ...


class Alerts(Protocol):
    """Alert history, notification channels and the notifications to send, per system."""

    async def receive(self, received: Received, *, now: dt.datetime) -> tuple[Alert, list[Status]]:
        """Record a received alert and queue what its system's channels are to be told (each kind
        once per episode); the episode and those kinds. A concurrent first receipt of the same
        episode is a ``DatabaseConflict``."""

    async def history(self, system: str, *, status: str | None = None, limit: int = 200) -> list[Alert]:
        """The system's alert episodes, newest first."""

    async def get(self, system: str, alert_id: int) -> Alert | None: ...

    async def deliveries(self, system: str, alert_ids: list[int] | None = None, *, limit: int = 1000) -> list[Delivery]:
        """Who was told (or is to be told) what, of the given alerts (None: all, tests too)."""

    async def add_channel(
        self, system: str, name: str, kind: ChannelKind, target: str, *, secret: str, by: str, now: dt.datetime
    ) -> Channel:
        """Add a channel (``secret`` sealed); the same name twice is a ``DatabaseConflict``."""

    async def channels(self, system: str) -> list[Channel]: ...

    async def delete_channel(self, system: str, name: str) -> bool:
        """False if the system has no such channel."""

    async def add_test(self, channel: Channel, *, now: dt.datetime) -> int:
        """Queue a test notification to ``channel``; its id."""

    async def due(self, *, now: dt.datetime, limit: int = 100) -> list[int]:
        """Pending notifications due now that no live lease holds."""

    async def claim(self, notification_id: int, runner: str, *, seconds: float, now: dt.datetime) -> bool:
        """Take or renew a pending notification's lease; False if another runner holds it."""

    async def job(self, notification_id: int) -> tuple[Delivery, Channel, Alert | None] | None:
        """A notification with its channel and alert (None: a test)."""

    async def finish(
        self, notification_id: int, runner: str, *, error: str, retry_at: dt.datetime | None, now: dt.datetime
    ) -> bool:
        """Record an attempt (sent, retry at ``retry_at``, or failed for good); False without the lease."""


class Inspections(Protocol):
    """Inspection runs with their reports, the platform's schedule, the database's size."""

    async def schedule(self) -> Schedule:
        """The schedule as set (the default one, ``next_at`` None, if never set)."""

    async def set_schedule(self, schedule: Schedule) -> None: ...

    async def advance(self, seen: dt.datetime | None, to: dt.datetime | None) -> bool:
        """Move the schedule's ``next_at`` from ``seen`` to ``to`` unless another server did; True if
        this call did (it then owns slot ``seen``'s run)."""

    async def start(self, *, trigger: str, by: str, clusters: Sequence[str], now: dt.datetime) -> int:
        """Record a run as running; its id."""

    async def finish(
        self,
        run_id: int,
        *,
        status: str,
        result: str,
        counts: dict[str, int],
        findings: Sequence[Finding],
        changes: Sequence[Change],
        previous_id: int | None,
        error: str,
        now: dt.datetime,
    ) -> None: ...

    async def get(self, run_id: int) -> Run | None: ...

    async def runs(self, *, limit: int = 50) -> list[Run]:
        """Newest first, without findings."""

    async def last_done(self, *, before: int | None = None) -> Run | None: ...

    async def abandon(self, *, started_before: dt.datetime, now: dt.datetime) -> int:
        """End as failed the runs left running since before ``started_before``."""

    async def database_bytes(self) -> int: ...


class Remediations(Protocol):
    """The remediation policy, the lease of applying it, and each node's remediation history."""

    async def policy(self) -> Policy: ...

    async def set_policy(self, policy: Policy, *, now: dt.datetime) -> None: ...

    async def claim(self, runner: str, *, seconds: float, now: dt.datetime) -> bool:
        """Take or renew the lease of applying the policy; False if another runner holds it."""

    async def record(
        self, cluster: str, node: str, *, kind: str, reason: str, mode: str, outcome: str, now: dt.datetime
    ) -> None: ...

    async def history(
        self, *, cluster: str | None = None, node: str | None = None, limit: int = 200
    ) -> list[Record]: ...


class Notifier(Protocol):
    """Sends notifications out: ``NotifyFailure`` when the receiver cannot be reached or refuses
    (its message never holds a secret nor the body)."""

    async def post(self, url: str, body: bytes, *, headers: Mapping[str, str]) -> None:
        """POST ``body`` (JSON) to ``url``; a 2xx answer is success."""

    async def mail(self, to: Sequence[str], subject: str, text: str) -> None:
        """Send a plain-text e-mail to ``to``."""


class Silencer(Protocol):
    """Alertmanager's silences (API v2): ``AlertmanagerFailure`` when it cannot be reached,
    ``AlertmanagerRefused`` (4xx) when it refuses."""

    async def create(
        self, matchers: Sequence[Matcher], *, starts_at: dt.datetime, ends_at: dt.datetime, owner: str, reason: str
    ) -> str:
        """Create a silence; its id."""

    async def silences(self) -> list[dict[str, Any]]:
        """Every silence Alertmanager holds, as its API v2 gives them (active, pending and expired)."""

    async def expire(self, silence_id: str) -> None:
        """End a silence now."""


class Flavors(Protocol):
    """The platform's flavor catalog."""

    async def all(self) -> list[Flavor]:
        """The catalog, smallest first."""

    async def get(self, name: str) -> Flavor | None: ...

    async def add(self, flavor: Flavor, *, by: str) -> None:
        """Add a flavor; a name taken is a database conflict."""

    async def update(self, flavor: Flavor, *, by: str) -> bool:
        """Replace the flavor of that name; False if there is none."""

    async def delete(self, name: str) -> bool: ...

    async def users(self, name: str) -> list[str]:
        """``system/app/group`` of the groups whose current or latest version has the flavor."""


class Templates(Protocol):
    """Versions of component templates (immutable), the platform's (owner "") and systems'."""

    async def latest(self, owner: str) -> list[Template]:
        """The latest version of each of the owner's templates, by name."""

    async def versions(self, owner: str, name: str) -> list[Template]: ...

    async def get(self, owner: str, name: str, version: int) -> Template | None: ...

    async def add(self, template: Template, *, by: str) -> None:
        """Store a new version; a number taken is a database conflict."""

    async def users(self, owner: str, name: str) -> list[Version]:
        """The current version of every group made from the template (any of its versions)."""


class UnitOfWork(Protocol):
    """One transaction's repositories (see :class:`Database`)."""

    @property
    def clusters(self) -> ClusterRepository: ...

    @property
    def systems(self) -> Systems: ...

    @property
    def applications(self) -> Applications: ...

    @property
    def groups(self) -> Groups: ...

    @property
    def versions(self) -> Versions: ...

    @property
    def operations(self) -> OperationLog: ...

    @property
    def releases(self) -> Releases: ...

    @property
    def builds(self) -> Builds: ...

    @property
    def identities(self) -> Identities: ...

    @property
    def keys(self) -> KeyChecks: ...

    @property
    def members(self) -> Members: ...

    @property
    def sessions(self) -> Sessions: ...

    @property
    def sso_sessions(self) -> SsoSessions: ...

    @property
    def audit(self) -> AuditTrail: ...

    @property
    def placements(self) -> Placements: ...

    @property
    def locations(self) -> LocationGrants: ...

    @property
    def alert_rules(self) -> AlertRules: ...

    @property
    def alerts(self) -> Alerts: ...

    @property
    def flavors(self) -> Flavors: ...

    @property
    def templates(self) -> Templates: ...

    @property
    def inspections(self) -> Inspections: ...

    @property
    def remediations(self) -> Remediations: ...

    @property
    def leases(self) -> Leases: ...

    @property
    def statistics(self) -> Statistics: ...
