"""Render a group's version into the plain Kubernetes objects that run it (pure; no I/O).

For system ``s``, application ``a``, group ``g``, version ``n`` in namespace ``s``:
- ServiceAccount ``app-a``, shared by the application's groups, with no token mounted and no role
  bound: the pods' identity, with no rights on the Kubernetes API;
- ConfigMap ``a-g-v<n>`` (immutable) holding the version's config files, so older versions keep theirs;
- Secret ``a-g-v<n>`` (immutable), when the version has secret env vars, holding their values (opened
  by the caller: the spec holds them sealed), one key per variable;
- Deployment ``a-g`` whose pod template carries the version's label, mounts that ConfigMap at
  :data:`~dockyard.domain.versions.CONFIG_DIR` and takes each secret env var from that Secret
  (``secretKeyRef``: the Deployment never holds a secret value); requests equal limits (Guaranteed QoS);
  its pods meet the Pod Security Standard the version names (:func:`pod_security`); a version with
  ports drains for a few seconds before its container is stopped (:func:`drain_seconds`);
- PodDisruptionBudget ``a-g`` selecting the group, ``maxUnavailable`` :data:`DISRUPTION_BUDGET`: an
  eviction (Dockyard's remediation, ``kubectl drain``) never takes a group below its count minus that;
- Service ``a-g`` selecting the group (not the version), when the version has ports.
Every object carries the labels ``dockyard.io/system``, ``/app``, ``/group`` (but the ServiceAccount,
which is the application's) and ``app.kubernetes.io/managed-by: dockyard``; the Deployment's selector
leaves the version out, because a selector cannot change and a release changes the version.

The system's own objects are :func:`namespace` (with its Pod Security Admission labels) and
:func:`system_objects` (LimitRange, NetworkPolicies, ResourceQuota).
"""

from __future__ import annotations

import base64
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from dockyard.domain.edge import DRAIN_SECONDS
from dockyard.domain.flavors import BUILTIN, Size, ceiling
from dockyard.domain.model import GroupPath, Quota
from dockyard.domain.placement import pod_placement
from dockyard.domain.versions import BASELINE, CONFIG_DIR, RESTRICTED, Probe, VersionSpec

MANAGED_BY = {"app.kubernetes.io/managed-by": "dockyard"}
# How many of a group's instances may be down at once because of a voluntary disruption (an eviction:
# remediation moving instances off a sick node, a drain by hand). The same budget remediation keeps.
DISRUPTION_BUDGET = 1


@dataclass(frozen=True)
class GroupRef:
    """Where a group lives: its system (= namespace), application and name; plus what of its
    application shapes its placement: the business id, the value of the dedicated pool's label when a
    pool of the group's cluster is dedicated to it, the CPU model chosen for ``cpu_model: auto``."""

    system: str
    app: str
    group: str
    business_id: str = ""
    dedicated: str = ""
    cpu_model: str = ""

    @property
    def path(self) -> GroupPath:
        return GroupPath(self.system, self.app, self.group)

    @property
    def namespace(self) -> str:
        return self.system

    @property
    def workload(self) -> str:
        return f"{self.app}-{self.group}"

    @property
    def service_account(self) -> str:
        return f"app-{self.app}"

    def labels(self) -> dict[str, str]:
        out = {"dockyard.io/system": self.system, "dockyard.io/app": self.app, "dockyard.io/group": self.group}
        if self.business_id:
            out["dockyard.io/business-id"] = self.business_id
        return out

    def selector(self) -> dict[str, str]:
        return {"dockyard.io/app": self.app, "dockyard.io/group": self.group}


PSA = "pod-security.kubernetes.io"
PSA_VERSION = "latest"  # the policy of the cluster's own minor version, whatever it is
BASELINE_GROUPS = "dockyard.io/baseline-groups"


def namespace(ref: GroupRef, baseline: Collection[str] = ()) -> dict[str, Any]:
    """The system's namespace in a cluster, given the groups there whose version needs ``baseline``
    (their workload names, ``a-g``).

    Pod Security Admission enforces ``restricted`` while no group needs ``baseline``, else
    ``baseline``; it warns and audits against ``restricted`` always. The groups that need baseline are
    recorded in the annotation :data:`BASELINE_GROUPS` (comma-separated, sorted), from which
    :func:`baseline_groups` reads them back, so the level can be tightened once none does.
    """
    level = BASELINE if baseline else RESTRICTED
    labels = {"dockyard.io/system": ref.system, **MANAGED_BY}
    for mode, mode_level in (("enforce", level), ("warn", RESTRICTED), ("audit", RESTRICTED)):
        labels |= {f"{PSA}/{mode}": mode_level, f"{PSA}/{mode}-version": PSA_VERSION}
    metadata: dict[str, Any] = {"name": ref.namespace, "labels": labels}
    if baseline:
        metadata["annotations"] = {BASELINE_GROUPS: ",".join(sorted(set(baseline)))}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}


def baseline_groups(live: Mapping[str, Any] | None) -> frozenset[str]:
    """The groups a live namespace records as needing ``baseline`` (see :func:`namespace`)."""
    annotations = ((live or {}).get("metadata") or {}).get("annotations") or {}
    return frozenset(name.strip() for name in str(annotations.get(BASELINE_GROUPS, "")).split(",") if name.strip())


SYSTEM_LIMITS = "dockyard-system"
DENY_ALL = "dockyard-default-deny"
ALLOW_DNS = "dockyard-allow-dns"
ALLOW_SYSTEM = "dockyard-allow-same-system"
_KUBE_DNS = {
    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
}


def system_objects(ref: GroupRef, quota: Quota, largest: Size | None = None) -> list[dict[str, Any]]:
    """The objects in the system's namespace that are the system's, not a group's: its LimitRange,
    NetworkPolicies and, when the quota sets a limit, its ResourceQuota.

    The LimitRange gives containers made by hand in the namespace the smallest built-in flavor by
    default and caps any container at ``largest`` (the catalog's most CPU and most memory; default: the
    built-in catalog's), so nothing there runs unbounded and every flavor of the catalog fits.

    The NetworkPolicies deny every pod of the namespace all traffic in and out, then allow DNS
    queries to the cluster's DNS (``k8s-app: kube-dns`` in ``kube-system``, UDP and TCP 53) and any
    traffic between pods of the namespace. Traffic from or to other systems, the cluster's nodes and
    the outside stays denied (where the cluster's network plugin enforces NetworkPolicies).
    """
    smallest = min(BUILTIN, key=lambda f: f.cpu_millis).size
    largest = largest or ceiling(f.size for f in BUILTIN)

    def meta(name: str) -> dict[str, Any]:
        return {"name": name, "namespace": ref.namespace, "labels": {"dockyard.io/system": ref.system, **MANAGED_BY}}

    def policy(name: str, types: list[str], rules: dict[str, Any]) -> dict[str, Any]:
        spec = {"podSelector": {}, "policyTypes": types, **rules}
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": meta(name), "spec": spec}

    dns_ports = [{"protocol": protocol, "port": 53} for protocol in ("UDP", "TCP")]
    objects = [
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": meta(SYSTEM_LIMITS),
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
        policy(DENY_ALL, ["Ingress", "Egress"], {}),
        policy(ALLOW_DNS, ["Egress"], {"egress": [{"to": [_KUBE_DNS], "ports": dns_ports}]}),
        policy(
            ALLOW_SYSTEM,
            ["Ingress", "Egress"],
            {"ingress": [{"from": [{"podSelector": {}}]}], "egress": [{"to": [{"podSelector": {}}]}]},
        ),
    ]
    hard: dict[str, str] = {}
    if quota.cpu_millis:
        hard |= {"requests.cpu": f"{quota.cpu_millis}m", "limits.cpu": f"{quota.cpu_millis}m"}
    if quota.memory_mib:
        hard |= {"requests.memory": f"{quota.memory_mib}Mi", "limits.memory": f"{quota.memory_mib}Mi"}
    if hard:
        objects.append(
            {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta(SYSTEM_LIMITS), "spec": {"hard": hard}}
        )
    return objects


def config_map_name(ref: GroupRef, version: int) -> str:
    return f"{ref.workload}-v{version}"


def secret_name(ref: GroupRef, version: int) -> str:
    return f"{ref.workload}-v{version}"


def render(
    ref: GroupRef, version: int, spec: VersionSpec, secret_values: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """The objects for ``version`` of the group, in the order to apply them: the ServiceAccount, the
    ConfigMap and the Secret before the Deployment (its pods name the first and use the others).

    ``secret_values`` maps each of ``spec.secret_env``'s names to its opened value; :class:`ValueError`
    (naming no value) if the names differ.
    """
    values = dict(secret_values or {})
    if set(values) != {name for name, _ in spec.secret_env}:
        raise ValueError("render needs the opened value of each secret env var, and only those")
    objects = [_service_account(ref), _config_map(ref, version, spec)]
    if spec.secret_env:
        objects.append(_secret(ref, version, values))
    objects.append(deployment(ref, version, spec))
    objects.append(disruption_budget(ref))
    if spec.ports:
        objects.append(_service(ref, spec))
    return objects


def _metadata(ref: GroupRef, name: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": ref.namespace, "labels": {**ref.labels(), **MANAGED_BY, **(extra or {})}}


def _service_account(ref: GroupRef) -> dict[str, Any]:
    labels = {k: v for k, v in ref.labels().items() if k != "dockyard.io/group"}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": ref.service_account, "namespace": ref.namespace, "labels": {**labels, **MANAGED_BY}},
        "automountServiceAccountToken": False,
    }


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
        "resources": spec.resources(),
        "env": [{"name": k, "value": v} for k, v in spec.env] + secret_env,
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in spec.ports],
        "volumeMounts": [{"name": "config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }
    pod_context, container_context = pod_security(spec)
    if container_context:
        container["securityContext"] = container_context
    if spec.readiness:
        container["readinessProbe"] = _probe(spec.readiness)
    if spec.liveness:
        container["livenessProbe"] = _probe(spec.liveness)
    if spec.pre_stop:
        container["lifecycle"] = {"preStop": {"exec": {"command": list(spec.pre_stop)}}}
    elif drain := drain_seconds(spec):
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": drain}}}
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
                    **pod_placement(
                        spec.placement,
                        ref.selector(),
                        ref.business_id,
                        dedicated=ref.dedicated,
                        cpu_model=ref.cpu_model,
                    ),
                    "serviceAccountName": ref.service_account,
                    "automountServiceAccountToken": False,
                    "securityContext": pod_context,
                    "containers": [container],
                    "terminationGracePeriodSeconds": spec.termination_grace_seconds,
                    "volumes": [
                        {"name": "config", "configMap": {"name": config_map_name(ref, version), "items": items}}
                    ],
                },
            },
        },
    }


def disruption_budget(ref: GroupRef, max_unavailable: int = DISRUPTION_BUDGET) -> dict[str, Any]:
    """The group's PodDisruptionBudget: the Eviction API refuses (429) an eviction that would leave
    more than ``max_unavailable`` of its instances not ready, whichever version or track (a canary
    too) they run. Unhealthy instances may always be evicted (``AlwaysAllow``): moving one that is
    already down costs the group nothing, and a crashing instance must not block a drain."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(ref, ref.workload),
        "spec": {
            "maxUnavailable": max_unavailable,
            "selector": {"matchLabels": ref.selector()},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def drain_seconds(spec: VersionSpec) -> int:
    """How long an instance of a version with ports keeps serving once deleted, before its container
    is told to stop (a ``preStop`` sleep: no shell needed in the image): :data:`DRAIN_SECONDS`, so the
    edge load balancer and Services drop it first, within the termination grace period (one second
    is left for the stop itself); 0 (no sleep) for a version without ports, or one whose own
    ``pre_stop`` command decides."""
    if not spec.ports or spec.pre_stop:
        return 0
    return max(0, min(DRAIN_SECONDS, spec.termination_grace_seconds - 1))


DEFAULT_RUN_AS_USER = 10001  # not root, not a system account, not nobody (65534), which others share


def pod_security(spec: VersionSpec) -> tuple[dict[str, Any], dict[str, Any]]:
    """The pod's and the container's ``securityContext`` for the version's ``security`` level.

    ``restricted`` meets the Pod Security Standard of that name: not root (``run_as_user``, else
    :data:`DEFAULT_RUN_AS_USER`), no privilege escalation, every capability dropped, the runtime's
    default seccomp profile. ``baseline`` keeps the runtime's defaults (the image's user, root
    included, and the default capabilities) but the seccomp profile, which baseline allows.
    """
    pod: dict[str, Any] = {"seccompProfile": {"type": "RuntimeDefault"}}
    if spec.security == BASELINE:
        if spec.run_as_user is not None:
            pod["runAsUser"] = spec.run_as_user
        return pod, {}
    user = DEFAULT_RUN_AS_USER if spec.run_as_user is None else spec.run_as_user
    pod = {"runAsNonRoot": True, "runAsUser": user, **pod}
    return pod, {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def _service(ref: GroupRef, spec: VersionSpec, version: int | None = None) -> dict[str, Any]:
    selector = {**ref.selector(), "dockyard.io/version": str(version)} if version else ref.selector()
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ref, ref.workload),
        "spec": {
            "selector": selector,
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


TRACK = "dockyard.io/track"


def canary_name(ref: GroupRef) -> str:
    return f"{ref.workload}-canary"


def canary(ref: GroupRef, version: int, spec: VersionSpec, replicas: int) -> dict[str, Any]:
    """The gray release's workload: ``version``'s Deployment as ``a-g-canary`` with ``replicas``,
    its pods labelled ``dockyard.io/track: canary`` (so its selector is its own) and still selected by
    the group's Service, which selects the group, not the version."""
    made = deployment(ref, version, spec)
    made["metadata"]["name"] = canary_name(ref)
    made["metadata"]["labels"][TRACK] = "canary"
    made["spec"]["replicas"] = replicas
    made["spec"]["selector"]["matchLabels"][TRACK] = "canary"
    made["spec"]["template"]["metadata"]["labels"][TRACK] = "canary"
    return made


def pinned_service(ref: GroupRef, version: int | None, spec: VersionSpec) -> dict[str, Any]:
    """The group's Service selecting only ``version``'s instances (a blue-green release's switch), or,
    with ``version`` None, the whole group again, as :func:`render` makes it."""
    return _service(ref, spec, version)
