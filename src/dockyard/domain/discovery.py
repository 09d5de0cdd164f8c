"""Global names: what Dockyard's DNS answers for every group, across its clusters and IDCs.

Every group has the global name ``<group>.<app>.<system>.dockyard.internal`` (:func:`global_name`),
answering with the IP of each of its **ready** instances on every cluster (not ready, deleting or
IP-less ones are left out: :func:`endpoints`), **the caller's IDC first** (:func:`ordered`).

Where the caller is: a DNS server answers for one IDC, the one it runs in (each IDC's cluster DNS
reads the records file of its IDC, :func:`records_file`); so the records are one hosts file per IDC
(:func:`record_files`), the same names in each, ordered for that IDC, plus one for a DNS server
outside every IDC (IDCs by name). Within an IDC, addresses go by cluster then numerically, so the
files change only when the set of ready instances does; an address seen twice (overlapping pod
networks of two clusters) is answered once, at its first place. A group without a ready instance has
no record (the name does not resolve).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath

ZONE = "dockyard.internal"
ALL_IDCS = "all-idcs.hosts"  # the records file of a DNS server outside every IDC
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def global_name(group: GroupPath) -> str:
    """``<group>.<app>.<system>.dockyard.internal`` (each part is a DNS label where groups are made)."""
    return f"{group.group}.{group.app}.{group.system}.{ZONE}"


def records_file(idc: str) -> str:
    """The records file a DNS server in ``idc`` reads: ``idc-<idc>.hosts``; :data:`ALL_IDCS` for no IDC
    (``""``) or a value that is not a DNS label (it could not be a file name safely)."""
    return f"idc-{idc}.hosts" if _LABEL.fullmatch(idc) else ALL_IDCS


@dataclass(frozen=True, order=True)
class Endpoint:
    """One ready instance's address, where it runs."""

    idc: str  # "" when its cluster has no IDC label
    cluster: str
    ip: str


def _ip_key(ip: str) -> tuple[int, int]:
    address = ipaddress.ip_address(ip)
    return (address.version, int(address))


def _usable_ip(ip: str) -> bool:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        return False
    return True


def endpoints(cluster: str, idc: str, pods: Iterable[PodRecord]) -> dict[GroupPath, list[Endpoint]]:
    """Each group's endpoints on ``cluster`` (in ``idc``): its pods that are Running, ready, not being
    deleted and have an IP; pods whose group labels are not DNS labels (made by hand) are ignored."""
    out: dict[GroupPath, list[Endpoint]] = {}
    for pod in pods:
        if not (pod.ready and pod.phase == "Running" and not pod.deleting and _usable_ip(pod.pod_ip)):
            continue
        if not all(_LABEL.fullmatch(part) for part in (pod.namespace, pod.app, pod.group)):
            continue
        out.setdefault(GroupPath(pod.namespace, pod.app, pod.group), []).append(Endpoint(idc, cluster, pod.pod_ip))
    return out


def ordered(found: Iterable[Endpoint], *, caller_idc: str) -> list[Endpoint]:
    """``found`` in answer order: the caller's IDC first, then the other IDCs by name, those of clusters
    without an IDC last; within an IDC by cluster, then by address (numerically); each address once."""

    def key(e: Endpoint) -> tuple[int, str, str, tuple[int, int]]:
        rank = 0 if caller_idc and e.idc == caller_idc else (1 if e.idc else 2)
        return (rank, e.idc, e.cluster, _ip_key(e.ip))

    seen: set[str] = set()
    out = []
    for e in sorted(found, key=key):
        if e.ip not in seen:
            seen.add(e.ip)
            out.append(e)
    return out


def hosts_file(found: Mapping[GroupPath, Sequence[Endpoint]], *, caller_idc: str) -> str:
    """The hosts file a DNS server in ``caller_idc`` answers from: one ``<ip> <global name>`` line per
    answer, names sorted, each name's lines in answer order (the ``hosts`` plugin keeps file order)."""
    lines = [f"# Dockyard global names ({ZONE}) for IDC {caller_idc or '(none)'}; written by Dockyard\n"]
    for group in sorted(found, key=global_name):
        name = global_name(group)
        lines += [f"{e.ip} {name}\n" for e in ordered(found[group], caller_idc=caller_idc)]
    return "".join(lines)


def record_files(found: Mapping[GroupPath, Sequence[Endpoint]], *, idcs: Iterable[str]) -> dict[str, str]:
    """Every records file: one per IDC in ``idcs`` (those that are DNS labels) and :data:`ALL_IDCS`."""
    files = {ALL_IDCS: hosts_file(found, caller_idc="")}
    for idc in sorted(set(idcs)):
        if records_file(idc) != ALL_IDCS:
            files[records_file(idc)] = hosts_file(found, caller_idc=idc)
    return files


def merge(per_cluster: Iterable[Mapping[GroupPath, Sequence[Endpoint]]]) -> dict[GroupPath, list[Endpoint]]:
    """The endpoints of every cluster, by group."""
    out: dict[GroupPath, list[Endpoint]] = {}
    for found in per_cluster:
        for group, items in found.items():
            out.setdefault(group, []).extend(items)
    return out
