"""KWOK pods' logs: CRI-format files the sandbox (or a test, or a bench) writes, served by KWOK through
``pods/log`` like a kubelet's, so Dockyard's live logs run the same code path on fake instances.

KWOK runs with ``--enable-crds=Logs,ClusterLogs`` (:data:`KWOK_FLAG`); :func:`ensure_crds` installs
their CustomResourceDefinitions (before KWOK starts, so its informers find them). A fake instance gets
its own file under ``<sandbox>/pod-logs/<namespace>/<pod>.log`` and a ``Logs`` object of the pod's
name and namespace naming it (:func:`attach`); lines appended to the file (:func:`append`, each
``<RFC3339Nano> stdout F <text>``) are what ``kubectl logs -f`` and Dockyard's streams show. A pod
without a ``Logs`` has no log: KWOK answers 400 ("no logs found"). Deleting the namespace deletes
the ``Logs`` objects; the files stay until the sandbox's directory goes.

KWOK v0.8's shape (``pkg/apis/v1alpha1/logs_types.go``): ``spec.logs[]`` of ``{containers,
logsFile, previousLogsFile, follow}``; a ``Logs`` named like the pod wins over any ``ClusterLogs``.
KWOK reads the files with the kubelet's own reader (``k8s.io/cri-client/pkg/logs``): a followed log
never ends by itself (KWOK has no container to stop).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dockyard.adapters.kube.client import KubeCluster, define_kind
from dockyard.domain.logs import format_time

API_VERSION = "kwok.x-k8s.io/v1alpha1"
KWOK_FLAG = "--enable-crds=Logs,ClusterLogs"
_KINDS = (("Logs", "logs", "Namespaced"), ("ClusterLogs", "clusterlogs", "Cluster"))


def crds() -> list[dict[str, Any]]:
    """The two CRDs, with an open schema (KWOK validates what it reads itself)."""
    return [
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.kwok.x-k8s.io"},
            "spec": {
                "group": "kwok.x-k8s.io",
                "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": plural},
                "scope": scope,
                "versions": [
                    {
                        "name": "v1alpha1",
                        "served": True,
                        "storage": True,
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                        "subresources": {"status": {}},
                    }
                ],
            },
        }
        for kind, plural, scope in _KINDS
    ]


async def ensure_crds(kube: KubeCluster, *, timeout: float = 30.0) -> None:
    """Install the CRDs and wait until the apiserver serves them."""
    for crd in crds():
        await kube.apply(crd)
    deadline = time.monotonic() + timeout
    for crd in crds():
        name = crd["metadata"]["name"]
        while True:
            got = await kube.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", name)
            conditions = (got.get("status") or {}).get("conditions") or []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"CRD {name} not established in {timeout:.0f}s")
            await asyncio.sleep(0.2)


def define_kinds() -> None:
    for kind, plural, scope in _KINDS:
        define_kind(API_VERSION, kind, plural, namespaced=scope == "Namespaced")


def log_file(root: Path, namespace: str, pod: str) -> Path:
    """Where the sandbox under ``root`` keeps a fake instance's log."""
    return root / "pod-logs" / namespace / f"{pod}.log"


def logs_object(namespace: str, pod: str, path: Path) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "Logs",
        "metadata": {"name": pod, "namespace": namespace},
        "spec": {"logs": [{"logsFile": str(path), "follow": True}]},
    }


async def attach(kube: KubeCluster, root: Path, namespace: str, pod: str) -> Path:
    """Give KWOK pod ``namespace/pod`` a log file of its own (created empty if new); its path."""
    define_kinds()
    path = log_file(root, namespace, pod)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    await kube.apply(logs_object(namespace, pod, path))
    return path


def cri_line(text: str, *, at: int | None = None, stream: str = "stdout") -> str:
    """One line in the CRI log format, at ``at`` nanoseconds since the epoch (default: now)."""
    return f"{format_time(time.time_ns() if at is None else at)} {stream} F {text}\n"


def append(path: Path, texts: Iterable[str], *, at: int | None = None) -> None:
    """Append lines (one write, so a reader sees whole lines), all at time ``at`` if given."""
    with path.open("a") as f:
        f.write("".join(cri_line(t, at=at) for t in texts))
