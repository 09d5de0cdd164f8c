"""Which clusters a group's version runs on, checked against the production grants of its system.

Contract of :func:`clusters_of`: reads the database only (registered clusters, grants), so request
paths may call it. The location is the version's ``placement.location``, else its application's
default location, else the group's home cluster. Fixed counts (``placement.distribution``) name the
clusters themselves (each must be registered and, with a location, in it). A production group's
clusters must each be covered by an approved grant of its system, unless it only runs on its home
cluster (no location given anywhere): :class:`NotGranted` naming the field otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.errors import InvalidInput, NotGranted
from dockyard.domain.location import choose_clusters, uncovered
from dockyard.domain.model import Application, Group
from dockyard.domain.versions import VersionSpec
from dockyard.services.ports import UnitOfWork


@dataclass(frozen=True)
class Where:
    clusters: tuple[str, ...]  # in release order: placement.release_order first, then by name
    fixed: dict[str, int] | None  # fixed counts (weights after a scale); None: proportional to room


async def clusters_of(uow: UnitOfWork, group: Group, app: Application, spec: VersionSpec) -> Where:
    placement = spec.placement
    registered = {c.name: c for c in await uow.clusters.all()}
    location = placement.location if placement and placement.location else app.location
    field = "placement.location" if placement and placement.location else "location"
    counts = dict(placement.distribution) if placement and placement.distribution else None
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
    if group.environment == "prod" and (location is not None or counts is not None):
        missing = uncovered((registered[n] for n in names), await uow.locations.approved(group.system))
        if missing:
            raise NotGranted(
                field,
                f"production group {group.name!r} may not run on {', '.join(missing)}: system {group.system!r} "
                "holds no approved location grant covering it (request one: dockyard location request)",
            )
    order = placement.release_order if placement else ()
    ordered = [n for n in order if n in names] + [n for n in names if n not in order]
    return Where(tuple(ordered), counts)
