"""Which clusters a group's version runs on, checked against the production grants of its system (pure).

The location is the version's ``placement.location``, else its application's default location, else
the group's home cluster. Fixed counts (``placement.distribution``) name the clusters themselves
(each must be registered and, with a location, in it): :class:`InvalidInput` naming the field
otherwise. A production group's clusters must each be covered by an approved grant of its system,
unless it only runs on its home cluster (no location given anywhere): :class:`NotGranted` naming the
field otherwise. :func:`needs_grants` says when the grants are read at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput, NotGranted
from dockyard.domain.location import Location, choose_clusters, uncovered
from dockyard.domain.model import Application, Group
from dockyard.domain.versions import VersionSpec


@dataclass(frozen=True)
class Where:
    clusters: tuple[str, ...]  # in release order: placement.release_order first, then by name
    fixed: dict[str, int] | None  # fixed counts (weights after a scale); None: proportional to room


def _location(app: Application, spec: VersionSpec) -> tuple[Location | None, str]:
    placement = spec.placement
    if placement and placement.location:
        return placement.location, "placement.location"
    return app.location, "location"


def _fixed(spec: VersionSpec) -> dict[str, int] | None:
    placement = spec.placement
    return dict(placement.distribution) if placement and placement.distribution else None


def needs_grants(group: Group, app: Application, spec: VersionSpec) -> bool:
    """Whether the system's grants decide: a production group given a location or fixed counts."""
    return group.environment == "prod" and (_location(app, spec)[0] is not None or _fixed(spec) is not None)


def where(
    group: Group, app: Application, spec: VersionSpec, registered: Mapping[str, Cluster], grants: Iterable[Location]
) -> Where:
    """The clusters of ``group`` for ``spec`` among the ``registered`` ones (by name); ``grants`` are
    its system's approved locations (read only when :func:`needs_grants`)."""
    location, field = _location(app, spec)
    counts = _fixed(spec)
    if counts is not None:
        field = "placement.distribution"
        for name in counts:
            if name not in registered:
                raise InvalidInput(f"{field}.{name}", f"cluster {name!r} is not registered")
            if location is not None and not location.matches(registered[name]):
                raise InvalidInput(f"{field}.{name}", f"cluster {name!r} is not in location {location.describe()}")
        names = sorted(counts)
    elif location is not None:
        names = choose_clusters(location, registered.values(), field)
    else:
        names = [group.cluster]
    if needs_grants(group, app, spec):
        missing = uncovered((registered[n] for n in names), grants)
        if missing:
            raise NotGranted(
                field,
                f"production group {group.name!r} may not run on {', '.join(missing)}: system {group.system!r} "
                "holds no approved location grant covering it (request one: dockyard location request)",
            )
    order = spec.placement.release_order if spec.placement else ()
    ordered = [n for n in order if n in names] + [n for n in names if n not in order]
    return Where(tuple(ordered), counts)
