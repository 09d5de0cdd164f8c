"""Where a group runs among the registered clusters: its location, the grants production needs, and
how its instances are split between the clusters it spans. All pure.

A **location** selects clusters by their labels (``idc``, ``provider``, ``region``) and/or by name::

    location: {idc: b}                      # every cluster labelled idc=b
    location: {provider: cloud, region: north}
    location: {clusters: [idc-a, cloud-b]}  # these clusters (labels, if given too, must also match)

A **grant** is a location a platform admin approved for a system: a production group may only run
on clusters some approved grant of its system covers (:func:`uncovered`).

The **distribution** of a group's instances over its clusters (:func:`distribute`): fixed counts per
cluster (taken as they are when they add up to the instance count, else as weights, e.g. after a
scale), or proportional to each cluster's spare capacity for the group's flavor (Momo's rule). Both
round by largest remainder: each cluster gets the floor of its exact share, and the instances left go
to the largest fractional parts (ties: the larger weight, then the name), so the counts always add up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput

LABEL_KEYS = ("idc", "provider", "region")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
MAX_CLUSTERS = 50


@dataclass(frozen=True)
class Location:
    idc: str | None = None
    provider: str | None = None
    region: str | None = None
    clusters: tuple[str, ...] = ()

    @property
    def labels(self) -> dict[str, str]:
        return {k: v for k in LABEL_KEYS if (v := getattr(self, k)) is not None}

    def matches(self, cluster: Cluster) -> bool:
        """Whether ``cluster`` is in this location (an empty location matches nothing)."""
        if not self.labels and not self.clusters:
            return False
        if self.clusters and cluster.name not in self.clusters:
            return False
        return all(cluster.labels.get(k) == v for k, v in self.labels.items())

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.labels.items()]
        if self.clusters:
            parts.append(f"clusters={','.join(self.clusters)}")
        return "{" + ", ".join(parts) + "}"

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.labels)
        if self.clusters:
            data["clusters"] = list(self.clusters)
        return data


def parse_location(raw: Any, field: str = "placement.location") -> Location | None:
    """A location from user input (or its stored form); None for none. :class:`InvalidInput` names
    ``<field>.<key>``."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise InvalidInput(field, "location must be an object: idc, provider, region and/or clusters")
    unknown = sorted(set(raw) - {*LABEL_KEYS, "clusters"})
    if unknown:
        raise InvalidInput(
            f"{field}.{unknown[0]}", f"unknown location key {unknown[0]!r}; known: idc, provider, region, clusters"
        )
    values: dict[str, str | None] = {}
    for key in LABEL_KEYS:
        value = raw.get(key)
        if value is not None and (not isinstance(value, str) or not _NAME.fullmatch(value)):
            raise InvalidInput(f"{field}.{key}", f"{key} must be a label value (a-z, 0-9, '-')")
        values[key] = value
    clusters = raw.get("clusters") or ()
    if not isinstance(clusters, (list, tuple)) or len(clusters) > MAX_CLUSTERS:
        raise InvalidInput(f"{field}.clusters", f"clusters must be a list of at most {MAX_CLUSTERS} cluster names")
    for i, name in enumerate(clusters):
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise InvalidInput(f"{field}.clusters[{i}]", f"{name!r} is not a cluster name")
    location = Location(**values, clusters=tuple(dict.fromkeys(clusters)))
    if not location.labels and not location.clusters:
        raise InvalidInput(field, "a location needs idc, provider, region or clusters")
    return location


def choose_clusters(location: Location, registered: Iterable[Cluster], field: str = "placement.location") -> list[str]:
    """The names of the registered clusters in ``location``, sorted; :class:`InvalidInput` if a named
    cluster is not registered or not in the location's labels, or if none matches."""
    known = {c.name: c for c in registered}
    for i, name in enumerate(location.clusters):
        if name not in known:
            raise InvalidInput(f"{field}.clusters[{i}]", f"cluster {name!r} is not registered")
        if not location.matches(known[name]):
            raise InvalidInput(f"{field}.clusters[{i}]", f"cluster {name!r} has not the labels {location.describe()}")
    chosen = sorted(name for name, c in known.items() if location.matches(c))
    if not chosen:
        raise InvalidInput(field, f"no registered cluster is in location {location.describe()}")
    return chosen


def uncovered(clusters: Iterable[Cluster], grants: Iterable[Location]) -> list[str]:
    """The names of ``clusters`` that no grant covers (a grant covers the clusters it matches)."""
    held = list(grants)
    return sorted(c.name for c in clusters if not any(g.matches(c) for g in held))


def distribute(total: int, weights: Mapping[str, int], *, fixed: bool = False) -> dict[str, int]:
    """``total`` instances split over the clusters of ``weights`` by largest remainder.

    ``fixed``: the weights are counts, returned as they are when they add up to ``total``. Weights
    that are all 0 (no spare capacity anywhere) split evenly."""
    if total < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("total and weights must not be negative")
    if not weights:
        return {}
    if fixed and sum(weights.values()) == total:
        return dict(weights)
    basis = dict(weights) if sum(weights.values()) > 0 else dict.fromkeys(weights, 1)
    whole = sum(basis.values())
    counts = {name: total * w // whole for name, w in basis.items()}
    left = total - sum(counts.values())
    by_remainder = sorted(basis, key=lambda n: (-(total * basis[n] % whole), -basis[n], n))
    for name in by_remainder[:left]:
        counts[name] += 1
    return counts


GRANT_STATES = ("requested", "approved", "revoked")


@dataclass(frozen=True)
class Grant:
    """A location asked for a system's production groups; only ``approved`` ones count."""

    id: int
    system: str
    location: Location
    status: str
    reason: str
    requested_by: str
    decided_by: str = ""
