"""An operation's parameters, typed per kind, and their stored form (JSON), in one place.

Every operation records what it was asked to do: a ``deploy`` / ``rollback`` / ``reconcile`` the
version and its progress deadline (:class:`DeployParams`), a ``scale`` also the new instance count
(:class:`ScaleParams`), an ``autoscale`` the count the autoscaler decided and why
(:class:`AutoscaleParams`), a ``release`` its strategy, step deadline, restart limit and how long a
blue-green release keeps the old set (:class:`ReleaseParams`), a ``delete-group`` nothing
(:class:`DeleteGroupParams`); immediate changes recorded for history name what they made
(:class:`CreateGroupParams`, :class:`CreateVersionParams`) or nothing (:class:`NoParams`).

:func:`to_data` is the stored form, the same JSON object as before these types existed (and as the
API shows); :func:`parse_params` reads it back for the operation's action, lenient as the readers it
replaced: a missing key takes its default, a number stored as text is read as a number, keys it does
not know are dropped. A deploy that split its instances over clusters keeps that split (and the
clusters away at its start) in its parameters, so a resumed run applies the same one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

DEFAULT_DEADLINE = 300  # seconds a deploy, rollback, scale or reconcile may take to be ready
DELETE_DEADLINE = 120  # seconds a delete-group may take
DEFAULT_STEP_DEADLINE = 300  # seconds one step of a release may take
DEFAULT_MAX_RESTARTS = 3  # restarts of a new instance that abort a release
DEFAULT_KEEP = 300  # seconds a blue-green release keeps the old set after the switch


@dataclass(frozen=True)
class DeployParams:
    """``deploy``, ``rollback`` and ``reconcile``: the version to run and how long it may take; once
    split over several clusters, the instances per cluster (``split``) and the clusters that were
    away at the start with why (``away``)."""

    version: int
    deadline_seconds: int = DEFAULT_DEADLINE
    split: Mapping[str, int] | None = None
    away: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScaleParams(DeployParams):
    """``scale``: a deploy of the new version (the running one with ``instances``)."""

    instances: int = 0


@dataclass(frozen=True)
class AutoscaleParams(ScaleParams):
    """``autoscale``: the running version at ``instances`` decided by the autoscaler, from ``was``,
    ``why`` the numbers (domain/autoscale.py). No new version: the count is the group's state."""

    was: int = 0
    why: str = ""


@dataclass(frozen=True)
class ReleaseParams:
    """``release``: the new version and how the release goes (see services/releases.py)."""

    version: int
    strategy: str = "gray"
    deadline_seconds: int = DEFAULT_STEP_DEADLINE
    step_deadline_seconds: int = DEFAULT_STEP_DEADLINE
    max_restarts: int = DEFAULT_MAX_RESTARTS
    keep_seconds: int = DEFAULT_KEEP
    # How the release's ``analyze`` steps judge (domain/apm.py ``Policy`` as data); None: the defaults.
    analysis: dict[str, Any] | None = None


@dataclass(frozen=True)
class DeleteGroupParams:
    """``delete-group``: nothing to give; it may take :data:`DELETE_DEADLINE`."""

    deadline_seconds: ClassVar[int] = DELETE_DEADLINE


@dataclass(frozen=True)
class CreateGroupParams:
    """``create-group`` (history): where the group was made."""

    environment: str
    cluster: str


@dataclass(frozen=True)
class CreateVersionParams:
    """``create-version`` (history): the number of the version made."""

    version: int


@dataclass(frozen=True)
class NoParams:
    """An immediate change that needs nothing more than its action and target (``create-system``…)."""


OperationParams = (
    DeployParams
    | ScaleParams
    | AutoscaleParams
    | ReleaseParams
    | DeleteGroupParams
    | CreateGroupParams
    | CreateVersionParams
    | NoParams
)
RunParams = DeployParams | ReleaseParams | DeleteGroupParams  # what the executor runs

_KINDS: dict[str, type[OperationParams]] = {
    "deploy": DeployParams,
    "rollback": DeployParams,
    "reconcile": DeployParams,
    "scale": ScaleParams,
    "autoscale": AutoscaleParams,
    "release": ReleaseParams,
    "delete-group": DeleteGroupParams,
    "create-group": CreateGroupParams,
    "create-version": CreateVersionParams,
}
_INTS = frozenset(
    {"version", "deadline_seconds", "instances", "step_deadline_seconds", "max_restarts", "keep_seconds", "was"}
)


def to_data(params: OperationParams) -> dict[str, Any]:
    """The stored form: a JSON object of the fields, a deploy's ``split`` and ``away`` only once split."""
    data = {f.name: getattr(params, f.name) for f in fields(params)}
    if isinstance(params, ReleaseParams) and params.analysis is None:
        del data["analysis"]  # stored as before analysis existed
    if isinstance(params, DeployParams):
        if params.split is None:
            del data["split"], data["away"]
        else:
            data["split"], data["away"] = dict(params.split), dict(params.away)
    return data


def parse_params(action: str, data: Mapping[str, Any]) -> OperationParams:
    """``action``'s parameters from their stored form (see the module docstring); an action without
    parameters of its own reads as :class:`NoParams`."""
    kind = _KINDS.get(action, NoParams)
    known = {f.name for f in fields(kind)}
    values: dict[str, Any] = {k: (int(v) if k in _INTS else v) for k, v in data.items() if k in known and v is not None}
    if isinstance(values.get("split"), Mapping):
        values["split"] = {str(k): int(v) for k, v in values["split"].items()}
        away = values.get("away")
        values["away"] = {str(k): str(v) for k, v in away.items()} if isinstance(away, Mapping) else {}
    else:
        values.pop("split", None)
        values.pop("away", None)
    if kind in (DeployParams, ScaleParams, AutoscaleParams, ReleaseParams, CreateVersionParams):
        values.setdefault("version", 0)  # a target that no longer exists: the runner says so
    if kind is CreateGroupParams:
        values.setdefault("environment", "")
        values.setdefault("cluster", "")
    return kind(**values)


def deadline_seconds(params: OperationParams) -> int:
    """How long the operation may take (its step's, for a release); :data:`DEFAULT_DEADLINE` for kinds
    the executor does not run."""
    if isinstance(params, DeployParams | ReleaseParams | DeleteGroupParams):
        return params.deadline_seconds
    return DEFAULT_DEADLINE
