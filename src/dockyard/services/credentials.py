"""Cluster credentials at rest: how the cluster clients get a kubeconfig, and the sealing of the ones
registered by path before kubeconfigs were stored (migration 0006).

Migration 0006 only marks the clusters that held a path (form ``path``); :func:`seal_path_kubeconfigs`,
run at each start, reads each such file once, and if it is a valid self-contained kubeconfig (see
:func:`dockyard.domain.clusters.check_kubeconfig`) stores it sealed in its place. A file that cannot
be read or used leaves its cluster marked and unusable ("register it again") and is tried again at the
next start; nothing reads a path for any other reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dockyard.adapters.db.database import Database
from dockyard.adapters.kube.errors import KubeError
from dockyard.adapters.kube.pool import KubeconfigOf
from dockyard.adapters.secretbox import SecretBox, SecretBoxError
from dockyard.domain.clusters import IN_CLUSTER, MAX_KUBECONFIG_BYTES, Cluster, check_kubeconfig, dump_kubeconfig
from dockyard.domain.errors import InvalidInput

log = logging.getLogger(__name__)


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


async def seal_path_kubeconfigs(db: Database, box: SecretBox) -> None:
    """Seal the kubeconfig of every cluster still registered by path whose file is a usable kubeconfig."""
    async with db.unit_of_work() as uow:
        marked = [c for c in await uow.clusters.all() if c.kubeconfig_form == "path"]
    for cluster in marked:
        try:
            content = _read(Path(cluster.kubeconfig))
            sealed = box.seal(dump_kubeconfig(check_kubeconfig(content)))
        except (OSError, UnicodeDecodeError) as e:
            why = getattr(e, "strerror", None) or type(e).__name__
            log.warning("cluster %s: its kubeconfig file cannot be read (%s): register it again", cluster.name, why)
            continue
        except InvalidInput as e:
            log.warning("cluster %s: its kubeconfig file cannot be stored (%s): register it again", cluster.name, e)
            continue
        async with db.unit_of_work() as uow:
            if await uow.clusters.replace_path(cluster.name, path=cluster.kubeconfig, sealed=sealed):
                log.info("cluster %s: its kubeconfig file is now stored sealed", cluster.name)


def _read(path: Path) -> str:
    with path.open("rb") as f:
        raw = f.read(MAX_KUBECONFIG_BYTES + 1)
    if len(raw) > MAX_KUBECONFIG_BYTES:
        raise InvalidInput("kubeconfig", f"kubeconfig may hold at most {MAX_KUBECONFIG_BYTES // 1024} KiB")
    return raw.decode()
