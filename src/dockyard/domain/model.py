"""The application model: system → application → group → version, and the operations on them.

One system is one namespace (named like the system) in every cluster it uses. An application's
groups are its deployable units, each in one environment, on one or several clusters (its location).
A version is immutable and numbered per group from 1; a group points at the version it runs. These are
plain records; the ``new_*`` functions check user input and raise :class:`InvalidInput` naming the field.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from dockyard.domain import names
from dockyard.domain.errors import InvalidInput
from dockyard.domain.location import Location
from dockyard.domain.operations import NoParams, OperationParams
from dockyard.domain.versions import VersionSpec

ENVIRONMENTS = ("dev", "test", "prod")
Environment = Literal["dev", "test", "prod"]
OperationStatus = Literal["pending", "running", "succeeded", "failed"]
# Deployment names are "<app>-<group>" and must stay DNS labels (63).
MAX_APP_NAME = 30
MAX_GROUP_NAME = 30
_GROUP_NAME = re.compile(rf"[a-z0-9]{{1,{MAX_GROUP_NAME}}}")


@dataclass(frozen=True, order=True)
class AppPath:
    """Which application: its system and its name, e.g. ``shop/web``."""

    system: str
    app: str

    @classmethod
    def parse(cls, text: str, field: str = "app") -> AppPath:
        """``SYSTEM/APP`` as a path; :class:`InvalidInput` on ``field`` for anything else."""
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) != 2 or not all(parts):
            raise InvalidInput(field, f"{text!r} must be SYSTEM/APP, e.g. shop/web")
        return cls(*parts)

    def group(self, name: str) -> GroupPath:
        return GroupPath(self.system, self.app, name)

    def __str__(self) -> str:
        return f"{self.system}/{self.app}"


@dataclass(frozen=True, order=True)
class GroupPath:
    """Which group: system, application and group name, e.g. ``shop/web/prod``; one value from the
    API's edge to the database, instead of three strings. Names are checked where groups are made
    (:func:`new_group`); a path to a group that does not exist is simply not found."""

    system: str
    app: str
    group: str

    @classmethod
    def parse(cls, text: str, field: str = "group") -> GroupPath:
        """``SYSTEM/APP/GROUP`` as a path; :class:`InvalidInput` on ``field`` for anything else."""
        parts = text.split("/") if isinstance(text, str) else []
        if len(parts) != 3 or not all(parts):
            raise InvalidInput(field, f"{text!r} must be SYSTEM/APP/GROUP, e.g. shop/web/prod")
        return cls(*parts)

    @property
    def app_path(self) -> AppPath:
        return AppPath(self.system, self.app)

    @property
    def namespace(self) -> str:
        """The Kubernetes namespace its objects live in: its system's."""
        return self.system

    @property
    def workload(self) -> str:
        """The name of its Deployment and Service: ``<app>-<group>`` (unique per namespace: group names
        hold no '-')."""
        return f"{self.app}-{self.group}"

    def __str__(self) -> str:
        return f"{self.system}/{self.app}/{self.group}"


@dataclass(frozen=True)
class Quota:
    """What a system may request in each cluster (ResourceQuota); 0 means no limit."""

    cpu_millis: int = 0
    memory_mib: int = 0


@dataclass(frozen=True)
class System:
    name: str
    description: str = ""
    quota: Quota = field(default_factory=Quota)


@dataclass(frozen=True)
class Application:
    system: str
    name: str
    repository: str
    business_id: str = ""
    owners: tuple[str, ...] = ()
    location: Location | None = None  # where its groups run when their version names no location

    @property
    def path(self) -> AppPath:
        return AppPath(self.system, self.name)


@dataclass(frozen=True)
class GroupCluster:
    """One cluster a group runs on: its instance count and the version it runs there (None: none yet)."""

    cluster: str
    instances: int
    version: int | None = None


@dataclass(frozen=True)
class Group:
    system: str
    app: str
    name: str
    environment: Environment
    cluster: str
    current_version: int | None = None
    latest_version: int = 0
    # Where it runs (one entry per cluster); empty before its first deploy. ``cluster`` is its home
    # cluster: where it runs when neither its version nor its application names a location.
    clusters: tuple[GroupCluster, ...] = ()
    # The edge load balancer's entry (domain/edge.py): None none, else the name of the port it serves
    # ("": the version's port named http, else its first TCP port).
    edge_port: str | None = None

    @property
    def path(self) -> GroupPath:
        return GroupPath(self.system, self.app, self.name)


@dataclass(frozen=True)
class Version:
    system: str
    app: str
    group: str
    number: int
    spec: VersionSpec
    created_by: str
    created_at: dt.datetime
    reason: str = ""

    @property
    def path(self) -> GroupPath:
        """The path of the group it belongs to."""
        return GroupPath(self.system, self.app, self.group)


@dataclass(frozen=True)
class Operation:
    id: str
    action: str
    actor: str
    system: str
    app: str = ""
    group: str = ""
    params: OperationParams = field(default_factory=NoParams)
    status: OperationStatus = "pending"
    error: str = ""
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None

    @property
    def path(self) -> GroupPath:
        """The group it acts on; only for an operation on a group (``ValueError`` otherwise)."""
        if not (self.app and self.group):
            raise ValueError(f"operation {self.id} ({self.action}) is not on a group")
        return GroupPath(self.system, self.app, self.group)


def new_system(name: str, *, description: str = "", cpu_millis: int = 0, memory_mib: int = 0) -> System:
    names.system_name("name", name)
    names.text("description", description, max_length=1000)
    for key, value in (("quota.cpu_millis", cpu_millis), ("quota.memory_mib", memory_mib)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10**9:
            raise InvalidInput(key, f"{key} must be an integer from 0 to 1000000000 (got {value!r})")
    return System(name=name, description=description, quota=Quota(cpu_millis, memory_mib))


def new_application(
    system: str,
    name: str,
    *,
    repository: str,
    business_id: str = "",
    owners: tuple[str, ...] = (),
    location: Location | None = None,
) -> Application:
    names.dns_label("name", name, max_length=MAX_APP_NAME, letter_first=True)
    names.repository("repository", repository)
    if business_id:
        names.dns_label("business_id", business_id)
    for i, owner in enumerate(owners):
        names.text(f"owners[{i}]", owner, min_length=1, max_length=100)
    return Application(
        system=system, name=name, repository=repository, business_id=business_id, owners=owners, location=location
    )


def new_group(system: str, app: str, name: str, *, environment: str, cluster: str) -> Group:
    if not isinstance(name, str) or not _GROUP_NAME.fullmatch(name):
        # No '-': "<app>-<group>" must identify one group ("web"+"prod-x" vs "web-prod"+"x").
        raise InvalidInput("name", f"{name!r} must be 1 to {MAX_GROUP_NAME} lower-case letters and digits")
    if environment not in ENVIRONMENTS:
        raise InvalidInput("environment", f"environment must be one of {', '.join(ENVIRONMENTS)}")
    names.dns_label("cluster", cluster)
    env: Environment = environment  # type: ignore[assignment]
    return Group(system=system, app=app, name=name, environment=env, cluster=cluster)


def check_reason(reason: str) -> str:
    return names.text("reason", reason, max_length=1000)


@dataclass(frozen=True)
class Dedication:
    """Pool ``pool`` of ``cluster`` runs only application ``app`` of ``system`` (and nothing else of it
    lands elsewhere): its nodes carry the label and the NoSchedule taint ``dockyard.io/dedicated``."""

    cluster: str
    pool: str
    system: str
    app: str
    by: str = ""
