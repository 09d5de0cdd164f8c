"""What the inspection reads of a cluster's control plane, through its apiserver (the
:class:`~dockyard.services.ports.ControlPlaneReader` port): readiness with its checks, version,
``componentstatuses`` (controller-manager, scheduler, etcd), etcd's database size from the
apiserver's own metrics, the metrics.k8s.io APIService, and the expiry of the certificate the
apiserver serves.

Never raises for what it could not read: that fact is ``None`` in the
:class:`~dockyard.domain.inspection.ControlPlane` and ``details`` says why (no credential ever).
Each read is bounded by ``timeout``; they run one after another so a run costs one connection.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import ssl
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError, KubeNotFoundError
from dockyard.adapters.kube.pool import ClusterPool
from dockyard.domain.clusters import Cluster
from dockyard.domain.inspection import Component, ControlPlane

# etcd's database size as the apiserver measures it: the name since 1.28, then the one before.
DB_SIZE_SERIES = ("apiserver_storage_size_bytes", "apiserver_storage_db_total_size_in_bytes")
LEASES = {"controller-manager": "kube-controller-manager", "scheduler": "kube-scheduler"}  # leader election
METRICS_APISERVICE = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"


class ControlPlaneReader:
    """Reads each cluster's control plane through the pool's open client."""

    def __init__(self, pool: ClusterPool, *, timeout: float = 5.0) -> None:
        self._pool = pool
        self._timeout = timeout

    async def control_plane(self, cluster: Cluster) -> ControlPlane:
        try:
            client = await self._pool.client(cluster)
        except KubeError as e:
            return ControlPlane(ready=False, ready_detail=f"no client: {e}")
        details: dict[str, str] = {}
        ready, ready_detail, failing = await self._readyz(client)
        if not ready and not failing:
            # Not reachable at all: reading the rest would only wait out its timeouts again.
            return ControlPlane(ready=False, ready_detail=ready_detail, details=details)
        version = await self._read(client, "/version", details, "version")
        components = await self._components(client, details)
        db_bytes = await self._db_size(client, details)
        metrics_api = await self._metrics_api(client, details)
        not_after = await self._certificate(client.server, details)
        details["etcd_leader"] = "etcd's own metrics are not read through the apiserver"
        return ControlPlane(
            ready=ready,
            ready_detail=ready_detail,
            failing_readyz=failing,
            version=str(version.get("gitVersion", "")) if version else "",
            components=components,
            etcd_db_bytes=db_bytes,
            etcd_leader=None,
            cert_not_after=not_after,
            metrics_api=metrics_api,
            details=details,
        )

    async def _readyz(self, client: KubeCluster) -> tuple[bool, str, tuple[str, ...]]:
        try:
            code, text = await asyncio.wait_for(client.probe("/readyz?verbose"), self._timeout)
        except (KubeError, TimeoutError) as e:
            return False, _why(e), ()
        failing = tuple(
            line.split()[0][len("[-]") :] for line in text.splitlines() if line.startswith("[-]") and line.split()
        )
        if code == 200:
            return True, "ready", failing
        return False, f"/readyz answered {code}", failing or (f"http-{code}",)

    async def _read(self, client: KubeCluster, path: str, details: dict[str, str], fact: str) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(client.get_json(path), self._timeout)
        except (KubeError, TimeoutError, ValueError) as e:
            details[fact] = _why(e)
            return None

    async def _components(self, client: KubeCluster, details: dict[str, str]) -> tuple[Component, ...] | None:
        found = await self._read(client, "/api/v1/componentstatuses", details, "components")
        if found is None:
            return None
        out = []
        for item in found.get("items") or []:
            name = str((item.get("metadata") or {}).get("name", ""))
            healthy, message = False, "no Healthy condition"
            for c in item.get("conditions") or []:
                if c.get("type") == "Healthy":
                    healthy = c.get("status") == "True"
                    message = str(c.get("error") or c.get("message") or "")[:300]
            out.append(Component(name, healthy, message))
        for i, component in enumerate(out):
            lease = LEASES.get(component.name)
            if lease is None:
                continue
            age, seconds = await self._lease(client, lease)
            if age is not None:
                out[i] = Component(component.name, component.healthy, component.message, age, seconds)
        return tuple(sorted(out, key=lambda c: c.name))

    async def _lease(self, client: KubeCluster, name: str) -> tuple[float | None, float | None]:
        """Seconds since the component's leader lease was renewed, and its duration (None: no lease)."""
        path = f"/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/{name}"
        try:
            spec = (await asyncio.wait_for(client.get_json(path), self._timeout)).get("spec") or {}
            renewed = dt.datetime.fromisoformat(str(spec["renewTime"]).replace("Z", "+00:00"))
        except (KubeError, TimeoutError, ValueError, KeyError):
            return None, None
        seconds = spec.get("leaseDurationSeconds")
        age = (dt.datetime.now(dt.UTC) - renewed.astimezone(dt.UTC)).total_seconds()
        return max(0.0, age), float(seconds) if isinstance(seconds, int | float) else None

    async def _db_size(self, client: KubeCluster, details: dict[str, str]) -> float | None:
        try:
            lines = await asyncio.wait_for(client.lines("/metrics", DB_SIZE_SERIES), self._timeout)
        except (KubeError, TimeoutError) as e:
            details["etcd_db_bytes"] = _why(e)
            return None
        for series in DB_SIZE_SERIES:
            values = [_value(line) for line in lines if line.startswith((series + "{", series + " "))]
            sizes = [v for v in values if v is not None]
            if sizes:
                return max(sizes)
        details["etcd_db_bytes"] = "the apiserver exports no storage size series"
        return None

    async def _metrics_api(self, client: KubeCluster, details: dict[str, str]) -> bool | None:
        try:
            found = await asyncio.wait_for(client.get_json(METRICS_APISERVICE), self._timeout)
        except (KubeError, TimeoutError, ValueError) as e:
            details["metrics_api"] = (
                "the v1beta1.metrics.k8s.io APIService is not registered" if _is_404(e) else _why(e)
            )
            return None
        for c in (found.get("status") or {}).get("conditions") or []:
            if c.get("type") == "Available":
                if c.get("status") != "True":
                    details["metrics_api"] = f"{c.get('reason', '')}: {str(c.get('message', ''))[:300]}"
                return bool(c.get("status") == "True")
        details["metrics_api"] = "no Available condition yet"
        return False

    async def _certificate(self, server: str, details: dict[str, str]) -> dt.datetime | None:
        parts = urlsplit(server)
        if parts.scheme != "https" or not parts.hostname:
            details["cert_not_after"] = "the apiserver is not served over https"
            return None
        context = ssl.create_default_context()
        # Only the certificate's expiry is read here; the clients verify it when they talk.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(parts.hostname, parts.port or 443, ssl=context), self._timeout
            )
        except (OSError, TimeoutError, ssl.SSLError) as e:
            details["cert_not_after"] = _why(e)
            return None
        try:
            der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
            return x509.load_der_x509_certificate(der).not_valid_after_utc if der else None
        except (ValueError, AttributeError) as e:
            details["cert_not_after"] = _why(e)
            return None
        finally:
            writer.close()


def _value(line: str) -> float | None:
    try:
        return float(line.rsplit(" ", 1)[1])
    except (IndexError, ValueError):
        return None


def _is_404(e: Exception) -> bool:
    return isinstance(e, KubeNotFoundError)


def _why(e: BaseException) -> str:
    if isinstance(e, TimeoutError):
        return "no answer in time"
    text = str(e) or type(e).__name__
    try:
        json.loads(text)
        return type(e).__name__
    except ValueError:
        return text[:300]
