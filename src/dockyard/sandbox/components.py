"""The sandbox's components: how each is started and how its health is checked.

Order matters: etcd, then kube-apiserver, then the rest (which all talk to the apiserver).
Every component binds 127.0.0.1 only; all talk to the apiserver as the sandbox admin.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from dockyard.sandbox import alerting, dns, edge, kwoklogs, logstore, monitoring
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import FRONT_PROXY_CLIENT, Pki

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.128.0.0/9"  # each node gets a /24 of it (see topology.pod_cidr)
CLIENT_QPS = 1000
CLIENT_BURST = 2000


COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "metrics-server",
    "registry",
    edge.NAME,
    "coredns",
    "prometheus",
    "alertmanager",
    "victoria-logs",
)
# Which field of Ports each listening socket uses, keyed "<component>[ <role>]".
PORT_OF = {
    "etcd": "etcd",
    "etcd peer": "etcd_peer",
    "kube-apiserver": "apiserver",
    "kube-controller-manager": "controller_manager",
    "kube-scheduler": "scheduler",
    "kwok": "kwok",
    "metrics-server": "metrics_server",
    "registry": "registry",
    "haproxy": "edge",
    "haproxy metrics": "edge_admin",
    "coredns": "dns",
    "coredns ready": "dns_ready",
    "coredns metrics": "dns_metrics",
    "prometheus": "prometheus",
    "alertmanager": "alertmanager",
    "victoria-logs": "logs",
}
REGISTRY_BINARY = "/usr/bin/docker-registry"  # Debian's docker-registry (distribution), see scripts/setup


@dataclass(frozen=True)
class Component:
    name: str
    port: int
    argv: list[str]
    healthy: Callable[[], bool]
    env: dict[str, str] | None = None  # None: the caller's environment


def components(layout: Layout, ports: Ports, binaries: Binaries, pki: Pki, *, nodes: int = 0) -> list[Component]:
    """Every component in start order, with its command line and health probe, for a sandbox of ``nodes``
    fake nodes (above :data:`monitoring.BIG_SANDBOX`, KWOK and metrics-server are tuned for scale);
    writes nothing."""
    kubeconfig = str(layout.kubeconfig)
    big = monitoring.is_big(nodes)
    p = pki.path
    admin = (str(p("admin.crt")), str(p("admin.key")))
    return [
        Component(
            "etcd",
            ports.etcd,
            [
                str(binaries.etcd),
                "--name=sandbox",
                f"--data-dir={layout.etcd_data}",
                f"--listen-client-urls=http://127.0.0.1:{ports.etcd}",
                f"--advertise-client-urls=http://127.0.0.1:{ports.etcd}",
                f"--listen-peer-urls=http://127.0.0.1:{ports.etcd_peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{ports.etcd_peer}",
                f"--initial-cluster=sandbox=http://127.0.0.1:{ports.etcd_peer}",
                "--quota-backend-bytes=8589934592",
                "--snapshot-count=50000",
                "--unsafe-no-fsync=true",
            ],
            _http_ok(f"http://127.0.0.1:{ports.etcd}/health"),
        ),
        Component(
            "kube-apiserver",
            ports.apiserver,
            [
                str(binaries.kube_apiserver),
                f"--etcd-servers=http://127.0.0.1:{ports.etcd}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={ports.apiserver}",
                f"--tls-cert-file={p('apiserver.crt')}",
                f"--tls-private-key-file={p('apiserver.key')}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=Node,RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={pki.sa_pub}",
                f"--service-account-signing-key-file={pki.sa_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                "--endpoint-reconciler-type=none",
                "--allow-privileged=true",
                "--max-requests-inflight=800",
                "--max-mutating-requests-inflight=400",
                f"--requestheader-client-ca-file={pki.front_proxy_ca_cert}",
                f"--requestheader-allowed-names={FRONT_PROXY_CLIENT}",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-username-headers=X-Remote-User",
                f"--proxy-client-cert-file={p(FRONT_PROXY_CLIENT + '.crt')}",
                f"--proxy-client-key-file={p(FRONT_PROXY_CLIENT + '.key')}",
                f"--kubelet-client-certificate={admin[0]}",
                f"--kubelet-client-key={admin[1]}",
                # A real node's name does not resolve: dial its InternalIP first (KWOK nodes answer too).
                "--kubelet-preferred-address-types=InternalIP,Hostname,InternalDNS,ExternalDNS,ExternalIP",
                "--profiling=false",
            ],
            _https_ok(f"https://127.0.0.1:{ports.apiserver}/readyz", ca=pki.ca_cert, cert=admin),
        ),
        Component(
            "kube-controller-manager",
            ports.controller_manager,
            [
                str(binaries.kube_controller_manager),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.controller_manager}",
                "--leader-elect=false",
                f"--service-account-private-key-file={pki.sa_key}",
                f"--root-ca-file={pki.ca_cert}",
                f"--cluster-signing-cert-file={pki.ca_cert}",
                f"--cluster-signing-key-file={pki.ca_key}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--kube-api-qps={CLIENT_QPS}",
                f"--kube-api-burst={CLIENT_BURST}",
                # Fake nodes renew leases every 30 s (KWOK: a quarter of 120 s); on a saturated 2-core
                # machine a renewal can be late, and a NotReady node would evict its pods.
                "--node-monitor-grace-period=180s",
                "--concurrent-deployment-syncs=10",
                "--concurrent-replicaset-syncs=10",
                "--profiling=false",
            ],
            _https_ok(f"https://127.0.0.1:{ports.controller_manager}/healthz"),
        ),
        Component(
            "kube-scheduler",
            ports.scheduler,
            [
                str(binaries.kube_scheduler),
                f"--config={layout.scheduler_config}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.scheduler}",
            ],
            _https_ok(f"https://127.0.0.1:{ports.scheduler}/healthz"),
        ),
        Component(
            "kwok",
            ports.kwok,
            [
                str(binaries.kwok),
                f"--kubeconfig={kubeconfig}",
                "--manage-all-nodes=false",
                "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
                f"--cidr={POD_CIDR}",
                "--node-ip=127.0.0.1",
                "--node-name=localhost",
                f"--node-port={ports.kwok}",
                f"--server-address=127.0.0.1:{ports.kwok}",
                f"--tls-cert-file={p('kwok.crt')}",
                f"--tls-private-key-file={p('kwok.key')}",
                "--node-lease-duration-seconds=120",
                "--v=WARN",
                f"--config={layout.kwok_config}",
                *[f"--config={c}" for c in binaries.kwok_configs if c.name != monitoring.KWOK_REPLACED_CONFIG],
                kwoklogs.KWOK_FLAG,
            ],
            _http_ok(f"http://127.0.0.1:{ports.kwok}/healthz"),
            # Read at call time (never at import): the caller's environment plus the tuning.
            {**os.environ, **monitoring.BIG_KWOK_ENV} if big else None,
        ),
        Component(
            "metrics-server",
            ports.metrics_server,
            [
                str(binaries.metrics_server),
                f"--kubeconfig={kubeconfig}",
                f"--authentication-kubeconfig={kubeconfig}",
                f"--authorization-kubeconfig={kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports.metrics_server}",
                f"--tls-cert-file={p('metrics-server.crt')}",
                f"--tls-private-key-file={p('metrics-server.key')}",
                f"--cert-dir={layout.root / 'metrics-server'}",
                "--kubelet-preferred-address-types=InternalIP",
                "--kubelet-use-node-status-port",
                "--kubelet-insecure-tls",
                f"--metric-resolution={monitoring.BIG_METRICS_RESOLUTION if big else '15s'}",
            ],
            _https_ok(f"https://127.0.0.1:{ports.metrics_server}/livez"),
        ),
        Component(
            "registry",
            ports.registry,
            [REGISTRY_BINARY, "serve", str(layout.registry_config)],
            _http_ok(f"http://127.0.0.1:{ports.registry}/v2/"),
        ),
        Component(
            edge.NAME,
            ports.edge,
            edge.argv(layout),
            _http_ok(f"http://127.0.0.1:{ports.edge_admin}/ready"),
            edge.env(),
        ),
        Component(
            "coredns",
            ports.dns,
            dns.argv(layout, binaries.coredns),
            _http_ok(f"http://127.0.0.1:{ports.dns_ready}/ready"),
        ),
        Component(
            "prometheus",
            ports.prometheus,
            monitoring.argv(layout, ports),
            _http_ok(f"http://127.0.0.1:{ports.prometheus}/-/ready"),
        ),
        Component(
            "alertmanager",
            ports.alertmanager,
            alerting.argv(layout, ports),
            _http_ok(f"http://127.0.0.1:{ports.alertmanager}/-/ready"),
        ),
        Component(
            "victoria-logs",
            ports.logs,
            logstore.argv(layout, ports, binaries.victoria_logs),
            _http_ok(f"http://127.0.0.1:{ports.logs}/health"),
        ),
    ]


# KWOK's pod-ready stage plays the kubelet only for Pending pods. When a control-plane outage outlasts
# the node lifecycle controller's patience, it marks every node's pods not ready; a kubelet reports
# them Ready again on its next status sync once its node is back, so this stage does the same for a
# Running pod whose Ready condition is not True (nothing else in the sandbox makes one not ready).
POD_READY_AGAIN: dict[str, object] = {
    "apiVersion": "kwok.x-k8s.io/v1alpha1",
    "kind": "Stage",
    "metadata": {"name": "pod-ready-again"},
    "spec": {
        "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
        "selector": {
            "matchExpressions": [
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Running"]},
                {
                    "key": '.status.conditions.[] | select( .type == "Ready" ) | .status',
                    "operator": "NotIn",
                    "values": ["True"],
                },
            ]
        },
        "next": {
            "statusTemplate": (
                "{{ $now := Now }}\n"
                "conditions:\n"
                '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}\n'
                '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Ready}\n'
                '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: ContainersReady}\n'
                '- {lastTransitionTime: {{ $now | Quote }}, status: "True", type: PodScheduled}'
            )
        },
    },
}


def write_configs(layout: Layout, ports: Ports, *, nodes: int = 0) -> bool:
    """Write the scheduler's, KWOK's, the registry's and Alertmanager's configuration files that
    :func:`components` refers to, for a sandbox of ``nodes`` fake nodes; True if KWOK's changed."""
    scheduler = {
        "apiVersion": "kubescheduler.config.k8s.io/v1",
        "kind": "KubeSchedulerConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig), "qps": CLIENT_QPS, "burst": CLIENT_BURST},
        "leaderElection": {"leaderElect": False},
    }
    # KWOK's defaults (4 workers per stage kind) leave pods Pending for minutes at 30,000 pods.
    kwok = {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        "options": {
            "podPlayStageParallelism": 32,
            "nodePlayStageParallelism": 16,
            "nodeLeaseParallelism": 16,
            # pods/log of KWOK pods (its Logs resources): a configuration file leaves it off otherwise.
            "enableDebuggingHandlers": True,
        },
    }
    layout.scheduler_config.write_text(yaml.safe_dump(scheduler))
    cadvisor = monitoring.kwok_cadvisor(requests=nodes <= monitoring.BIG_SANDBOX)
    kwok_text = yaml.safe_dump_all([kwok, POD_READY_AGAIN, cadvisor])
    kwok_changed = not layout.kwok_config.exists() or layout.kwok_config.read_text() != kwok_text
    layout.kwok_config.write_text(kwok_text)
    # distribution's config (version 0.1): plain HTTP on loopback, storage in the sandbox, deletes on
    # (so `dockyard registry gc` can delete manifests).
    registry = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(layout.registry_data)}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{ports.registry}"},
    }
    layout.registry_config.write_text(yaml.safe_dump(registry))
    edge.write_config(layout, ports)
    alerting.write_config(layout)
    return kwok_changed


def _http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


def _https_ok(url: str, *, ca: Path | None = None, cert: tuple[str, str] | None = None) -> Callable[[], bool]:
    def probe() -> bool:
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        if ca is None:
            # Controller-manager, scheduler and metrics-server serve self-signed certificates.
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert:
            context.load_cert_chain(*cert)
        try:
            return httpx.get(url, timeout=2.0, verify=context).status_code == 200
        except httpx.HTTPError:
            return False

    return probe
