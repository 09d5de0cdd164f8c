"""Cluster credentials at rest: the sealing of the kubeconfigs registered by path before kubeconfigs
were stored (migration 0006). How the cluster clients get a kubeconfig is
:func:`dockyard.bootstrap.kubeconfig_reader`.

Migration 0006 only marks the clusters that held a path (form ``path``); :func:`seal_path_kubeconfigs`,
run at each start, reads each such file once, and if it is a valid self-contained kubeconfig (see
:func:`dockyard.domain.clusters.check_kubeconfig`) stores it sealed in its place. A file that cannot
be read or used leaves its cluster marked and unusable ("register it again") and is tried again at the
next start; nothing reads a path for any other reason.
"""

from __future__ import annotations

import logging
from pathlib import Path

from dockyard.domain.clusters import MAX_KUBECONFIG_BYTES, check_kubeconfig, dump_kubeconfig
from dockyard.domain.errors import InvalidInput
from dockyard.services.ports import Database, SecretBox

log = logging.getLogger(__name__)


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
