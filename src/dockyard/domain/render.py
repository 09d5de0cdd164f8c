"""Render a group's version into the plain Kubernetes objects that run it (pure; no I/O).

For system ``s``, application ``a``, group ``g``, version ``n`` in namespace ``s``:
- ConfigMap ``a-g-v<n>`` (immutable) holding the version's config files, so older versions keep theirs;
- Secret ``a-g-v<n>`` (immutable), when the version has secret env vars, holding their values (opened
  by the caller: the spec holds them sealed), one key per variable;
- Deployment ``a-g`` whose pod template carries the version's label, mounts that ConfigMap at
  :data:`~dockyard.domain.versions.CONFIG_DIR` and takes each secret env var from that Secret
  (``secretKeyRef``: the Deployment never holds a secret value); requests equal limits (Guaranteed QoS);
- Service ``a-g`` selecting the group (not the version), when the version has ports.
Every object carries the labels ``dockyard.io/system``, ``/app``, ``/group`` and
``app.kubernetes.io/managed-by: dockyard``; the Deployment's selector leaves the version out, because
a selector cannot change and a release changes the version.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.flavors import CATALOG
from dockyard.domain.model import Quota
from dockyard.domain.versions import CONFIG_DIR, Probe, VersionSpec

MANAGED_BY = {"app.kubernetes.io/managed-by": "dockyard"}


@dataclass(frozen=True)
class GroupRef:
    """Where a group lives: its system (= namespace), application and name; plus its business id."""

    system: str
    app: str
    group: str
    business_id: str = ""

    @property
    def namespace(self) -> str:
        return self.system

    @property
    def workload(self) -> str:
        return f"{self.app}-{self.group}"

    def labels(self) -> dict[str, str]:
        out = {"dockyard.io/system": self.system, "dockyard.io/app": self.app, "dockyard.io/group": self.group}
        if self.business_id:
            out["dockyard.io/business-id"] = self.business_id
        return out

    def selector(self) -> dict[str, str]:
        return {"dockyard.io/app": self.app, "dockyard.io/group": self.group}


def namespace(ref: GroupRef) -> dict[str, Any]:
    """The system's namespace in a cluster."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": ref.namespace, "labels": {"dockyard.io/system": ref.system, **MANAGED_BY}},
    }


SYSTEM_LIMITS = "dockyard-system"


def system_objects(ref: GroupRef, quota: Quota) -> list[dict[str, Any]]:
    """The system's namespace, its LimitRange and, when the quota sets a limit, its ResourceQuota.

    The LimitRange gives containers made by hand in the namespace the smallest flavor by default and
    caps any container at the largest flavor, so nothing there runs unbounded.
    """
    smallest = min(CATALOG.values(), key=lambda f: f.cpu_millis)
    largest = max(CATALOG.values(), key=lambda f: f.cpu_millis)
    meta = {
        "name": SYSTEM_LIMITS,
        "namespace": ref.namespace,
        "labels": {"dockyard.io/system": ref.system, **MANAGED_BY},
    }
    objects = [
        namespace(ref),
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": meta,
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": smallest.resources()["limits"],
                        "defaultRequest": smallest.resources()["requests"],
                        "max": largest.resources()["limits"],
                    }
                ]
            },
        },
    ]
    hard: dict[str, str] = {}
    if quota.cpu_millis:
        hard |= {"requests.cpu": f"{quota.cpu_millis}m", "limits.cpu": f"{quota.cpu_millis}m"}
    if quota.memory_mib:
        hard |= {"requests.memory": f"{quota.memory_mib}Mi", "limits.memory": f"{quota.memory_mib}Mi"}
    if hard:
        objects.append({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta, "spec": {"hard": hard}})
    return objects


def config_map_name(ref: GroupRef, version: int) -> str:
    return f"{ref.workload}-v{version}"


def secret_name(ref: GroupRef, version: int) -> str:
    return f"{ref.workload}-v{version}"


def render(
    ref: GroupRef, version: int, spec: VersionSpec, secret_values: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The objects for ``version`` of the group, ConfigMap and Secret first (the Deployment uses them).

    ``secret_values`` maps each of ``spec.secret_env``'s names to its opened value; :class:`ValueError`
    (naming no value) if the names differ.
    """
    values = dict(secret_values or {})
    if set(values) != {name for name, _ in spec.secret_env}:
        raise ValueError("render needs the opened value of each secret env var, and only those")
    objects = [_config_map(ref, version, spec)]
    if spec.secret_env:
        objects.append(_secret(ref, version, values))
    objects.append(deployment(ref, version, spec))
    if spec.ports:
        objects.append(_service(ref, spec))
    return objects


def _metadata(ref: GroupRef, name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": ref.namespace, "labels": {**ref.labels(), **MANAGED_BY, **(extra or {})}}


def _config_map(ref: GroupRef, version: int, spec: VersionSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(ref, config_map_name(ref, version), {"dockyard.io/version": str(version)}),
        "immutable": True,
        "data": {_config_key(i): content for i, (_path, content) in enumerate(spec.config_files)},
    }


def _secret(ref: GroupRef, version: int, values: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(ref, secret_name(ref, version), {"dockyard.io/version": str(version)}),
        "immutable": True,
        "type": "Opaque",
        "data": {name: base64.b64encode(value.encode()).decode() for name, value in sorted(values.items())},
    }


def _config_key(index: int) -> str:
    # ConfigMap keys cannot hold '/', so files are stored by position and mounted by path.
    return f"file-{index}"


def deployment(ref: GroupRef, version: int, spec: VersionSpec) -> dict[str, Any]:
    """The group's Deployment for ``version`` (no secret value needed: it references the Secret)."""
    version_label = {"dockyard.io/version": str(version)}
    secret_env = [
        {"name": k, "valueFrom": {"secretKeyRef": {"name": secret_name(ref, version), "key": k}}}
        for k, _ in spec.secret_env
    ]
    container: dict[str, Any] = {
        "name": "app",
        "image": spec.image,
        "resources": spec.flavor_spec.resources(),
        "env": [{"name": k, "value": v} for k, v in spec.env] + secret_env,
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in spec.ports],
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    if spec.readiness:
        container["readinessProbe"] = _probe(spec.readiness)
    if spec.liveness:
        container["livenessProbe"] = _probe(spec.liveness)
    if spec.pre_stop:
        container["lifecycle"] = {"preStop": {"exec": {"command": list(spec.pre_stop)}}}
    items = [{"key": _config_key(i), "path": path} for i, (path, _content) in enumerate(spec.config_files)]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(ref, ref.workload, version_label),
        "spec": {
            "replicas": spec.instances,
            "selector": {"matchLabels": ref.selector()},
            "template": {
                "metadata": {"labels": {**ref.labels(), **version_label}},
                "spec": {
                    "containers": [container],
                    "terminationGracePeriodSeconds": spec.termination_grace_seconds,
                    "volumes": [
                        {"name": "config", "configMap": {"name": config_map_name(ref, version), "items": items}}
                    ],
                },
            },
        },
    }


def _service(ref: GroupRef, spec: VersionSpec) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ref, ref.workload),
        "spec": {
            "selector": ref.selector(),
            "ports": [
                {"name": p.name, "port": p.port, "targetPort": p.name, "protocol": p.protocol} for p in spec.ports
            ],
        },
    }


def _probe(probe: Probe) -> dict[str, Any]:
    action: dict[str, Any] = (
        {"httpGet": {"path": probe.path, "port": probe.port}} if probe.path else {"tcpSocket": {"port": probe.port}}
    )
    return {**action, "initialDelaySeconds": probe.initial_delay_seconds, "periodSeconds": probe.period_seconds}
