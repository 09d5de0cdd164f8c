"""CoreDNS in the sandbox: the cluster's DNS (``cluster.local``) and Dockyard's global names.

One server block on :attr:`Ports.dns`, bound to 127.0.0.1 and the host's node IP (pods on a real
node reach it there, through the ``kube-system/kube-dns`` Service at :data:`CLUSTER_DNS_IP`):

- ``dockyard.internal``: the ``hosts`` plugin over the file Dockyard's discovery writes for this
  sandbox's IDC (:func:`dockyard.domain.discovery.records_file`) in :func:`records_dir`, re-read every
  :data:`RELOAD`, answers with a TTL of 1 s (names follow instances within seconds); a name it lacks
  gets NXDOMAIN from the ``file`` plugin's apex-only zone (:data:`ZONE_FILE`; the hosts plugin alone
  would answer SERVFAIL);
- ``cluster.local`` (and reverse zones): the ``kubernetes`` plugin over the sandbox's kubeconfig;
- anything else: ``forward . /etc/resolv.conf``.

``ready`` (the component's health probe: 200 once the kubernetes plugin has synced) and
``prometheus`` listen on loopback only. ``reload`` applies a rewritten Corefile (another IDC label, a
new node IP) to a running CoreDNS within seconds: ``sandbox up`` leaves running components alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dockyard.domain.discovery import ZONE, records_file
from dockyard.sandbox import hostnet
from dockyard.sandbox.errors import SandboxError
from dockyard.sandbox.layout import Layout, Ports

CLUSTER_DNS_IP = "10.96.0.10"  # a real node's kubelet has clusterDNS: [10.96.0.10]
RELOAD = "250ms"  # how often the hosts plugin looks at its file (a stat; re-read only when it changed)
TTL = 1  # seconds; the hosts plugin refuses 0
# The zone's apex only: names the hosts file lacks fall through to it and get NXDOMAIN with this SOA
# (negative TTL 1 s) instead of the hosts plugin's SERVFAIL.
ZONE_FILE = f"""\
$ORIGIN {ZONE}.
@ 1 IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 60 60 86400 1
@ 1 IN NS ns.{ZONE}.
"""


def root(layout: Layout) -> Path:
    return layout.root / "coredns"


def corefile(layout: Layout) -> Path:
    return root(layout) / "Corefile"


def zone_file(layout: Layout) -> Path:
    return root(layout) / f"{ZONE}.zone"


def records_dir(layout: Layout) -> Path:
    """Where Dockyard writes the global names' records for this sandbox (``DOCKYARD_DNS_RECORDS_DIR``)."""
    return root(layout) / "records"


def addresses() -> list[str]:
    """127.0.0.1 and, if the host has one, its node IP."""
    try:
        return ["127.0.0.1", hostnet.node_ip()]
    except SandboxError:
        return ["127.0.0.1"]


def render_corefile(
    *, port: int, ready_port: int, metrics_port: int, binds: list[str], kubeconfig: Path, records: Path, zone: Path
) -> str:
    """The Corefile (pure)."""
    return f"""\
.:{port} {{
    bind {" ".join(binds)}
    errors
    reload 2s
    ready 127.0.0.1:{ready_port}
    prometheus 127.0.0.1:{metrics_port}
    hosts {records} {ZONE} {{
        ttl {TTL}
        reload {RELOAD}
        no_reverse
        fallthrough {ZONE}
    }}
    file {zone} {ZONE}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
        kubeconfig {kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }}
    forward . /etc/resolv.conf
}}
"""


def write_config(layout: Layout, ports: Ports, *, idc: str) -> None:
    """Write the Corefile for the sandbox's IDC (``""``: none) and an empty records file if Dockyard
    has written none yet (an existing one is never touched)."""
    records = records_dir(layout)
    records.mkdir(parents=True, exist_ok=True)
    hosts = records / records_file(idc)
    if not hosts.exists():
        hosts.write_text("")
    text = render_corefile(
        port=ports.dns,
        ready_port=ports.dns_ready,
        metrics_port=ports.dns_metrics,
        binds=addresses(),
        kubeconfig=layout.kubeconfig,
        records=hosts,
        zone=zone_file(layout),
    )
    zone_file(layout).write_text(ZONE_FILE)
    corefile(layout).write_text(text)


def argv(layout: Layout, binary: Path) -> list[str]:
    return [str(binary), "-conf", str(corefile(layout))]


def kube_dns_manifests(ports: Ports) -> list[dict[str, Any]]:
    """``kube-system/kube-dns``: a Service at :data:`CLUSTER_DNS_IP` (53 UDP and TCP) without a selector,
    and its EndpointSlice pointing at CoreDNS on the node IP, so kube-proxy on a real node sends pods'
    queries there. Labelled ``k8s-app: kube-dns`` as the systems' ``dockyard-allow-dns`` policy expects
    (no pod carries it here: CoreDNS runs on the host). None without a node IP."""
    binds = addresses()
    if len(binds) < 2:
        return []
    labels = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    names = (("dns", "UDP"), ("dns-tcp", "TCP"))
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "kube-dns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "clusterIP": CLUSTER_DNS_IP,
            "ports": [{"name": n, "protocol": p, "port": 53, "targetPort": ports.dns} for n, p in names],
        },
    }
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kube-dns-sandbox",
            "namespace": "kube-system",
            "labels": {
                **labels,
                "kubernetes.io/service-name": "kube-dns",
                "endpointslice.kubernetes.io/managed-by": "sandbox.dockyard.io",
            },
        },
        "addressType": "IPv4",
        "ports": [{"name": n, "protocol": p, "port": ports.dns} for n, p in names],
        "endpoints": [{"addresses": [binds[1]], "conditions": {"ready": True}}],
    }
    return [service, slice_]
