"""Real nodes beside the KWOK nodes: containerd + runc + a CNI bridge and a kubelet per node, and one
kube-proxy for the sandbox, so that real containers run, serve and restart.

Contract:

- :func:`ensure` starts what is missing of ``count`` real nodes (idempotent, like the sandbox's
  ``up``); :func:`stop` stops them by pid and puts the host back as :mod:`hostclean` recorded it.
- Only one sandbox per machine runs real nodes: kube-proxy's iptables chains, the kubelet's fixed
  paths (``/var/lib/kubelet``, ``/var/log/containers``) and containerd's shim directory are host-wide.
  :func:`ensure` takes the host's marker (:data:`HOST_MARKER`, naming the sandbox directory) and
  refuses with :class:`RealNodeError` naming the other sandbox while that one's real nodes run.
- Node ``k`` is ``<idc>-real-<k>`` (the first pool's IDC), in pool ``<idc>-real``, labelled like a
  fake node plus ``dockyard.io/runtime=real`` and tainted ``dockyard.io/pool=<pool>:NoSchedule``, so
  only groups whose placement names that pool land there. Its pods get IPs from ``10.64.<k>.0/24``,
  outside the fake nodes' 10.128.0.0/9 and the services' 10.96.0.0/16.

The configurations (:func:`containerd_config`, :func:`cni_conflist`, :func:`kubelet_config`,
:func:`kube_proxy_config`) are pure; see docs/sandbox.md for what each setting is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.kube.errors import KubeError
from dockyard.sandbox import hostclean, hostnet, problemdetector, processes
from dockyard.sandbox.base_image import ensure_pause_image, pause_image, registry_address
from dockyard.sandbox.binaries import Binaries
from dockyard.sandbox.components import Component
from dockyard.sandbox.errors import ComponentError, SandboxError
from dockyard.sandbox.layout import Layout, Ports
from dockyard.sandbox.pki import Pki
from dockyard.sandbox.topology import Topology

RUNTIME_LABEL = "dockyard.io/runtime"
POOL_LABEL = "dockyard.io/pool"
CLUSTER_DNS = "10.96.0.10"  # the kube-dns Service's ClusterIP (CoreDNS, run beside the sandbox)
CLUSTER_DOMAIN = "cluster.local"
POD_NETWORK = "10.64.0.0/16"  # node k: 10.64.k.0/24
MAX_REAL_NODES = 1  # see docs/sandbox.md: two kubelets on one host share fixed paths
HOST_MARKER = Path(os.environ.get("DOCKYARD_REAL_NODES_MARKER", "/run/dockyard-real-nodes"))
CONTAINERD = "/usr/bin/containerd"
CTR = "/usr/bin/ctr"
RUNC = "/usr/sbin/runc"
SHIM = "containerd-shim-runc-v2"
CNI_BIN = Path("/usr/lib/cni")
IPTABLES = "/usr/sbin/iptables"
K8S_NAMESPACE = "k8s.io"  # containerd's namespace for the CRI
_DRAIN_SECONDS = 30.0

Progress = Callable[[str], None]


class RealNodeError(SandboxError):
    """A real node cannot run here (not root, a package missing, another sandbox has them)."""


@dataclass(frozen=True)
class RealNode:
    """One real node: its name, labels, taint, pod subnet, bridge and ports."""

    index: int
    name: str
    pool: str
    labels: dict[str, str]
    subnet: str
    bridge: str
    kubelet_port: int
    healthz_port: int

    @property
    def gateway(self) -> str:
        return self.subnet.rsplit(".", 1)[0] + ".1"

    @property
    def taint(self) -> dict[str, str]:
        return {"key": POOL_LABEL, "value": self.pool, "effect": "NoSchedule"}


@dataclass(frozen=True)
class NodeDirs:
    """Where node ``index`` of the sandbox in ``base`` keeps its files."""

    base: Path
    index: int

    @property
    def root(self) -> Path:
        return self.base / str(self.index)

    @property
    def containerd(self) -> Path:
        return self.root / "containerd"

    @property
    def socket(self) -> Path:
        return self.containerd / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.containerd / "config.toml"

    @property
    def cni_conf(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def ipam(self) -> Path:
        return self.root / "cni" / "ipam"

    @property
    def kubelet(self) -> Path:
        return self.root / "kubelet"

    @property
    def kubelet_root(self) -> Path:
        return self.kubelet / "root"

    @property
    def kubelet_config(self) -> Path:
        return self.kubelet / "config.yaml"

    @property
    def pod_logs(self) -> Path:
        return self.root / "pod-logs"


def real_dir(layout: Layout) -> Path:
    return layout.root / "realnodes"


def sandbox_id(layout: Layout) -> str:
    """A short, stable id of the sandbox directory, for host-wide names (bridge, cgroup root)."""
    return hashlib.sha256(str(layout.root.absolute()).encode()).hexdigest()[:6]


def cgroup_root(layout: Layout) -> str:
    return f"dockyard-{sandbox_id(layout)}"


def host_cpu_model(cpuinfo: str) -> str:
    """The host's CPU model as a label value (``intel-xeon-platinum-8375c-cpu-2-90ghz``), pure."""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            text = re.sub(r"\([^)]*\)", "", line.split(":", 1)[1]).lower()
            value = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:63].strip("-")
            if value:
                return value
    return "unknown"


def plan_nodes(
    topology: Topology,
    count: int,
    *,
    sid: str,
    ports: list[tuple[int, int]],
    cpu_model: str,
    where: tuple[str, str] | None = None,
) -> list[RealNode]:
    """The ``count`` real nodes of a sandbox (pure): in IDC and zone ``where`` (default: the first
    pool's), pool ``<idc>-real``; ``ports`` gives each its kubelet and healthz ports."""
    first = topology.pools[0]
    idc, zone = where or (first.idc, first.zone or first.idc)
    pool = f"{idc}-real"
    nodes = []
    for k in range(count):
        name = f"{pool}-{k:04d}"
        labels = {
            "topology.kubernetes.io/zone": zone,
            "dockyard.io/idc": idc,
            "dockyard.io/cpu-model": cpu_model,
            POOL_LABEL: pool,
            RUNTIME_LABEL: "real",
        }
        nodes.append(
            RealNode(
                index=k,
                name=name,
                pool=pool,
                labels=labels,
                subnet=f"10.64.{k}.0/24",
                bridge=f"dy{sid}r{k}",
                kubelet_port=ports[k][0],
                healthz_port=ports[k][1],
            )
        )
    return nodes


def containerd_config(dirs: NodeDirs, *, pause: str) -> str:
    """containerd 1.6's config for one node: its own root, state, sockets and opt path; netns under
    its state; oom_score_adj clamped (root here lacks CAP_SYS_RESOURCE); cgroupfs; hugetlb tolerated
    (not mounted here); CNI from this node's directory; registries from ``certs.d``."""
    c = dirs.containerd
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{c / "root"}"
state = "{c / "state"}"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", \
"io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "{dirs.socket}"
[ttrpc]
  address = "{dirs.socket}.ttrpc"
[debug]
  level = "info"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "{c / "opt"}"
  {cri}]
    sandbox_image = "{pause}"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    disable_apparmor = true
    netns_mounts_under_state_dir = true
    restrict_oom_score_adj = true
    enable_unprivileged_ports = false
    enable_unprivileged_icmp = false
    tolerate_missing_hugetlb_controller = true
    disable_hugetlb_controller = true
    {cri}.containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      {cri}.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        {cri}.containerd.runtimes.runc.options]
          BinaryName = "{RUNC}"
          Root = "{dirs.root / "runc"}"
          SystemdCgroup = false
    {cri}.cni]
      bin_dir = "{CNI_BIN}"
      conf_dir = "{dirs.cni_conf}"
      max_conf_num = 1
    {cri}.registry]
      config_path = "{c / "certs.d"}"
"""


def registry_hosts(registry: str) -> str:
    """``certs.d/<registry>/hosts.toml``: the sandbox registry over plain HTTP."""
    return f"""server = "http://{registry}"
[host."http://{registry}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
"""


def cni_conflist(node: RealNode, dirs: NodeDirs) -> dict[str, Any]:
    """bridge + host-local on the node's own bridge and subnet (loopback comes from ``bin_dir``)."""
    return {
        "cniVersion": "0.4.0",
        "name": f"dockyard-{node.bridge}",
        "plugins": [
            {
                "type": "bridge",
                "bridge": node.bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": node.subnet, "gateway": node.gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(dirs.ipam),
                },
            }
        ],
    }


def kubelet_config(node: RealNode, dirs: NodeDirs, *, ca: Path, node_ip: str, cgroup: str) -> dict[str, Any]:
    """The kubelet's configuration: cgroup v1 allowed, cgroupfs under the sandbox's cgroup root, x509
    (the sandbox CA) + Webhook, registered with the pool's taint, the cluster DNS at :data:`CLUSTER_DNS`."""
    sock = f"unix://{dirs.socket}"
    return {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": node_ip,
        "port": node.kubelet_port,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": node.healthz_port,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(ca)},
        },
        "authorization": {"mode": "Webhook"},
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": f"/{cgroup}",
        "cgroupsPerQOS": True,
        "enforceNodeAllocatable": ["pods"],
        "failCgroupV1": False,
        "failSwapOn": False,
        "containerRuntimeEndpoint": sock,
        "imageServiceEndpoint": sock,
        "registerNode": True,
        "registerWithTaints": [node.taint],
        "podLogsDir": str(dirs.pod_logs),
        "podCIDR": node.subnet,
        "maxPods": 50,
        "serializeImagePulls": False,
        "resolvConf": "/etc/resolv.conf",
        "clusterDNS": [CLUSTER_DNS],
        "clusterDomain": CLUSTER_DOMAIN,
        "protectKernelDefaults": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "5%",
            "imagefs.available": "5%",
            "nodefs.inodesFree": "5%",
        },
    }


def kubelet_argv(binaries: Binaries, node: RealNode, dirs: NodeDirs, *, kubeconfig: Path, node_ip: str) -> list[str]:
    labels = ",".join(f"{k}={v}" for k, v in sorted(node.labels.items()))
    return [
        str(binaries.kubelet),
        f"--config={dirs.kubelet_config}",
        f"--kubeconfig={kubeconfig}",
        f"--root-dir={dirs.kubelet_root}",
        f"--cert-dir={dirs.kubelet / 'pki'}",
        f"--hostname-override={node.name}",
        f"--node-ip={node_ip}",
        f"--node-labels={labels}",
        # cAdvisor looks for containerd at /run/containerd/containerd.sock otherwise: no pod labels.
        f"--containerd={dirs.socket}",
        # cAdvisor's stats every 2 s (the kubelet's default is 10 s, stretched to 15 s for a quiet
        # container): the sandbox scrapes every 5 s, and an rss alert's 45 s budget lost up to 15 s
        # waiting for a container's memory to be measured (docs/alerts.md).
        "--housekeeping-interval=2s",
        "--v=1",
    ]


def kube_proxy_config(layout: Layout, *, hostname: str, healthz_port: int, metrics_port: int) -> dict[str, Any]:
    """iptables mode; conntrack and localhost NodePorts off so that the host's sysctls stay as they are."""
    return {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(layout.kubeconfig)},
        "hostnameOverride": hostname,
        "mode": "iptables",
        "clusterCIDR": POD_NETWORK,
        "bindAddress": "0.0.0.0",  # noqa: S104 - the default; NodePorts are limited below
        "healthzBindAddress": f"127.0.0.1:{healthz_port}",
        "metricsBindAddress": f"127.0.0.1:{metrics_port}",
        "nodePortAddresses": ["primary"],
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
        "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
    }


def kube_proxy_path(layout: Layout) -> Path:
    return real_dir(layout) / "kube-proxy.yaml"


def host_problem() -> str | None:
    """Why this machine cannot run a real node, or None if it can."""
    if os.geteuid() != 0:
        return "a real node needs root (the kubelet, containerd and the CNI plugins change the host)"
    missing = [
        f"{path} ({package})"
        for path, package in (
            (CONTAINERD, "containerd"),
            (CTR, "containerd"),
            (RUNC, "runc"),
            (str(CNI_BIN / "bridge"), "containernetworking-plugins"),
            (IPTABLES, "iptables"),
            ("/usr/bin/buildah", "buildah"),
        )
        if not Path(path).exists()
    ]
    if missing:
        return f"a real node needs {', '.join(missing)}: run scripts/setup"
    if not Path("/sys/fs/cgroup/memory").is_dir() and not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        return "a real node needs cgroups mounted under /sys/fs/cgroup"
    try:
        hostnet.node_ip()
    except SandboxError as e:
        return str(e)
    return None


# -- state ------------------------------------------------------------------------------------------


def _state_file(layout: Layout) -> Path:
    return real_dir(layout) / "state.json"


def _host_file(layout: Layout) -> Path:
    return real_dir(layout) / "host.json"


def read_state(layout: Layout) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(_state_file(layout).read_text())
    except (OSError, ValueError):
        return {}
    return data


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("0.0.0.0", 0))  # noqa: S104 - free on every address, as the kubelet binds the node IP
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _nodes(layout: Layout, topology: Topology, count: int) -> tuple[list[RealNode], dict[str, Any]]:
    """The nodes with the ports recorded for them (new ones get free ports), and the state to record."""
    state = read_state(layout)
    ports = [tuple(p) for p in state.get("kubelet_ports", [])]
    extra = count - len(ports)
    if extra > 0:
        fresh = _free_ports(2 * extra)
        ports += [(fresh[2 * i], fresh[2 * i + 1]) for i in range(extra)]
    proxy = state.get("kube_proxy_ports") or _free_ports(2)
    npd = [int(p) for p in state.get("npd_ports", [])][:count]
    if len(npd) < count:
        npd += _free_ports(count - len(npd))
    cpu = host_cpu_model(Path("/proc/cpuinfo").read_text())
    # The nodes keep the IDC and zone they were made in: a later topology whose first pool differs
    # must not rename a running kubelet's node (its name is its identity).
    first = topology.pools[0]
    where = tuple(state.get("where") or (first.idc, first.zone or first.idc))
    nodes = plan_nodes(
        topology,
        count,
        sid=sandbox_id(layout),
        ports=[(a, b) for a, b in ports],
        cpu_model=cpu,
        where=(where[0], where[1]),
    )
    new_state = {
        "count": count,
        "kubelet_ports": [list(p) for p in ports],
        "kube_proxy_ports": list(proxy),
        "npd_ports": npd,
        "where": list(where),
    }
    return nodes, new_state


# -- the host's marker ------------------------------------------------------------------------------


@contextlib.contextmanager
def _host_lock() -> Iterator[None]:
    HOST_MARKER.parent.mkdir(parents=True, exist_ok=True)
    with HOST_MARKER.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def owner() -> Path | None:
    """The sandbox directory whose real nodes the host's marker names, if any."""
    try:
        return Path(HOST_MARKER.read_text().strip()) or None
    except OSError:
        return None


def check(layout: Layout, count: int) -> None:
    """Before anything starts: :class:`RealNodeError` if ``count`` real nodes cannot run here (too
    many, the machine lacks something, another sandbox runs real nodes)."""
    if count <= 0:
        return
    if count > MAX_REAL_NODES:
        raise RealNodeError(
            f"--real-nodes {count}: at most {MAX_REAL_NODES} real node per machine is supported "
            "(two kubelets share /var/lib/kubelet and its device-plugin socket); see docs/sandbox.md"
        )
    problem = host_problem()
    if problem:
        raise RealNodeError(problem)
    _check_owner(layout)


def _claim(layout: Layout) -> None:
    _check_owner(layout)
    HOST_MARKER.write_text(f"{layout.root.absolute()}\n")


def _check_owner(layout: Layout) -> None:
    current = owner()
    mine = layout.root.absolute()
    if current is not None and current != mine and _any_running(Layout(current)):
        raise RealNodeError(
            f"the sandbox in {current} runs real nodes on this machine; only one sandbox per machine can "
            f"(kube-proxy's iptables chains and the kubelet's paths are host-wide): "
            f"run `dockyard sandbox down --dir {current}` first"
        )


def _release(layout: Layout) -> None:
    if owner() == layout.root.absolute():
        HOST_MARKER.unlink(missing_ok=True)


# -- components -------------------------------------------------------------------------------------


def components(layout: Layout, binaries: Binaries, count: int | None = None) -> list[Component]:
    """The real nodes' processes in start order (containerd, kubelet and node-problem-detector per
    node, then kube-proxy), as recorded in the sandbox's state; argv are empty when read only for status."""
    state = read_state(layout)
    n = state.get("count", 0) if count is None else count
    out: list[Component] = []
    for k in range(n):
        dirs = NodeDirs(real_dir(layout), k)
        ports = state.get("kubelet_ports", [])
        kubelet_port, healthz = ports[k] if k < len(ports) else (0, 0)
        out.append(
            Component(f"containerd-{k}", 0, [CONTAINERD, "--config", str(dirs.containerd_config)], _ctr_ok(dirs))
        )
        out.append(Component(f"kubelet-{k}", kubelet_port, [], _http_ok(f"http://127.0.0.1:{healthz}/healthz")))
        npd = state.get("npd_ports", [])
        if k < len(npd):  # a sandbox whose real node started before NPD was part of it gets one at `up`
            out.append(
                Component(f"{problemdetector.NAME}-{k}", npd[k], [], _http_ok(f"http://127.0.0.1:{npd[k]}/healthz"))
            )
    if n:
        healthz = (state.get("kube_proxy_ports") or [0, 0])[0]
        argv = [str(binaries.kube_proxy), f"--config={kube_proxy_path(layout)}", "--v=1"]
        out.append(Component("kube-proxy", healthz, argv, _http_ok(f"http://127.0.0.1:{healthz}/livez")))
    return out


def _ctr_ok(dirs: NodeDirs) -> Callable[[], bool]:
    def probe() -> bool:
        if not dirs.socket.exists():
            return False
        done = subprocess.run([CTR, "-a", str(dirs.socket), "version"], capture_output=True, timeout=10, check=False)
        return done.returncode == 0

    return probe


def _http_ok(url: str) -> Callable[[], bool]:
    def probe() -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    return probe


def running_in(root: Path) -> bool:
    """True while the sandbox in ``root`` runs any real-node process."""
    return _any_running(Layout(root))


def _any_running(layout: Layout) -> bool:
    pid_files = [
        *layout.run.glob("containerd-*.pid"),
        *layout.run.glob("kubelet-*.pid"),
        *layout.run.glob(f"{problemdetector.NAME}-*.pid"),
        layout.pid_file("kube-proxy"),
    ]
    return any(processes.find(f, marker=str(layout.root)) for f in pid_files)


# -- up ---------------------------------------------------------------------------------------------


def ensure(
    layout: Layout,
    ports: Ports,
    binaries: Binaries,
    pki: Pki,
    *,
    topology: Topology,
    count: int,
    progress: Progress | None = None,
) -> tuple[list[str], list[str]]:
    """Start what is missing of ``count`` real nodes (0 stops them); returns (components started,
    node names). :class:`RealNodeError` when the machine cannot run them or another sandbox does."""
    say = progress or (lambda _m: None)
    recorded = read_state(layout).get("count", 0)
    if count == 0 or count < recorded:
        if recorded:
            stop(layout, binaries)
        if count == 0:
            return [], []
    check(layout, count)
    with _host_lock():
        _claim(layout)
        base = real_dir(layout)
        base.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not _host_file(layout).exists():  # the host before the first real node, kept until `down`
            _host_file(layout).write_text(hostclean.record().to_json())
        nodes, state = _nodes(layout, topology, count)
        _state_file(layout).write_text(json.dumps(state, indent=2))
    if ensure_pause_image(layout, ports):
        say("made the pause image and pushed it to the sandbox registry")
    node_ip = hostnet.node_ip()
    hostclean.make_cgroup(cgroup_root(layout))
    for node in nodes:
        _write_node_files(layout, ports, pki, node, node_ip)
    proxy_healthz, proxy_metrics = state["kube_proxy_ports"]
    # kube-proxy watches its config file and exits when it is written: write it only when it changes.
    _write_changed(
        kube_proxy_path(layout),
        yaml.safe_dump(
            kube_proxy_config(layout, hostname=nodes[0].name, healthz_port=proxy_healthz, metrics_port=proxy_metrics)
        ),
    )
    started: list[str] = []
    by_name = {c.name: c for c in components(layout, binaries, count)}
    marker = str(layout.root)
    for node in nodes:
        dirs = NodeDirs(base, node.index)
        argv = {
            f"containerd-{node.index}": by_name[f"containerd-{node.index}"].argv,
            f"kubelet-{node.index}": kubelet_argv(binaries, node, dirs, kubeconfig=layout.kubeconfig, node_ip=node_ip),
            f"{problemdetector.NAME}-{node.index}": problemdetector.argv(
                binaries.node_problem_detector,
                node=node.name,
                config=problemdetector.config_path(base, node.index),
                kubeconfig=layout.kubeconfig,
                apiserver_port=ports.apiserver,
                port=state["npd_ports"][node.index],
            ),
        }
        for name, command in argv.items():
            comp = by_name[name]
            if _running_healthy(layout, comp):
                continue
            processes.stop(layout.pid_file(name), marker=marker)
            say(f"starting {name} ({node.name})")
            processes.start(command, pid_file=layout.pid_file(name), log_file=layout.log(name))
            started.append(name)
            _wait(layout, comp, 60.0)
    proxy = by_name["kube-proxy"]
    if not _running_healthy(layout, proxy):
        processes.stop(layout.pid_file("kube-proxy"), marker=marker)
        say("starting kube-proxy")
        processes.start(proxy.argv, pid_file=layout.pid_file("kube-proxy"), log_file=layout.log("kube-proxy"))
        started.append("kube-proxy")
        _wait(layout, proxy, 60.0)
    return started, [n.name for n in nodes]


async def wait_ready(layout: Layout, names: list[str], timeout: float) -> None:
    """Until every named node reports Ready; :class:`ComponentError` naming the kubelet log otherwise."""
    deadline = time.monotonic() + timeout
    pending = list(names)
    async with KubeCluster(layout.kubeconfig, timeout=30.0) as kube:
        while time.monotonic() < deadline:
            pending = []
            for name in names:
                try:
                    node = await kube.get("v1", "Node", name)
                except KubeError:
                    node = {}
                conditions = (node.get("status") or {}).get("conditions") or []
                if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
                    pending.append(name)
            if not pending:
                return
            await asyncio.sleep(0.5)
    raise ComponentError(f"real node(s) {', '.join(pending)} did not become Ready; see {layout.log('kubelet-0')}")


def _write_node_files(layout: Layout, ports: Ports, pki: Pki, node: RealNode, node_ip: str) -> None:
    dirs = NodeDirs(real_dir(layout), node.index)
    for d in (dirs.containerd, dirs.cni_conf, dirs.ipam, dirs.kubelet_root, dirs.kubelet / "pki", dirs.pod_logs):
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    dirs.containerd_config.write_text(containerd_config(dirs, pause=pause_image(ports)))
    registry = registry_address(ports)
    hosts = dirs.containerd / "certs.d" / registry
    hosts.mkdir(parents=True, exist_ok=True)
    (hosts / "hosts.toml").write_text(registry_hosts(registry))
    (dirs.cni_conf / "10-dockyard.conflist").write_text(json.dumps(cni_conflist(node, dirs), indent=2))
    kern_log = problemdetector.log_path(real_dir(layout), node.index)
    kern_log.touch(exist_ok=True)
    npd_config = problemdetector.config_path(real_dir(layout), node.index)
    npd_config.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    npd_config.write_text(json.dumps(problemdetector.kernel_monitor(kern_log), indent=2))
    config = kubelet_config(node, dirs, ca=pki.ca_cert, node_ip=node_ip, cgroup=cgroup_root(layout))
    dirs.kubelet_config.write_text(yaml.safe_dump(config))


def _write_changed(path: Path, text: str) -> None:
    try:
        if path.read_text() == text:
            return
    except OSError:
        pass
    path.write_text(text)


def _running_healthy(layout: Layout, comp: Component, grace: float = 15.0) -> bool:
    """True if ``comp`` runs and answers healthy within ``grace`` seconds (a probe can fail briefly,
    e.g. kube-proxy's while it resyncs after the kubelet came back): only then is it left alone."""
    deadline = time.monotonic() + grace
    while processes.find(layout.pid_file(comp.name), marker=str(layout.root)) is not None:
        if comp.healthy():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return False


def _wait(layout: Layout, comp: Component, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if comp.healthy():
            return
        if processes.find(layout.pid_file(comp.name), marker=str(layout.root)) is None:
            raise ComponentError(f"{comp.name} exited; see {layout.log(comp.name)}:\n{_tail(layout.log(comp.name))}")
        time.sleep(0.3)
    raise ComponentError(f"{comp.name} did not become healthy in time; see {layout.log(comp.name)}")


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# -- down -------------------------------------------------------------------------------------------


def stop(layout: Layout, binaries: Binaries | None) -> list[str]:
    """Stop the real nodes and put the host back: drain their pods (so containerd and CNI tear them
    down), stop kube-proxy (then ``--cleanup``) and the kubelets by pid, kill what is left of the pods
    (processes in the sandbox's cgroup root, shims naming its containerd socket), stop containerd,
    unmount everything under its directory, delete the bridges and veths, its iptables chains, restore
    the sysctls, remove its cgroups and the kubelet's fixed directories if it made them. Returns the
    components stopped. Safe to call when nothing runs."""
    state = read_state(layout)
    count = int(state.get("count", 0))
    base = real_dir(layout)
    if not base.exists():
        return []
    marker = str(layout.root)
    stopped: list[str] = []
    kubectl = binaries.kubectl if binaries and binaries.kubectl.exists() else None
    names = [n.name for n in _recorded_nodes(layout, count)]
    if kubectl and names and layout.kubeconfig.exists():
        _drain(layout, kubectl, names, count)
    if processes.stop(layout.pid_file("kube-proxy"), marker=marker):
        stopped.append("kube-proxy")
    if binaries and binaries.kube_proxy.exists() and kube_proxy_path(layout).exists():
        subprocess.run(
            [str(binaries.kube_proxy), "--cleanup", f"--config={kube_proxy_path(layout)}"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    for k in range(max(count, 1)):
        for name in (f"{problemdetector.NAME}-{k}", f"kubelet-{k}"):
            if processes.stop(layout.pid_file(name), marker=marker):
                stopped.append(name)
    _kill_pods(layout)
    for k in range(max(count, 1)):
        if processes.stop(layout.pid_file(f"containerd-{k}"), marker=marker):
            stopped.append(f"containerd-{k}")
    if kubectl and names and layout.kubeconfig.exists():
        _kubectl(layout, kubectl, "delete", "node", "--ignore-not-found", "--wait=false", *names)
    hostclean.unmount_all(base)
    sid = sandbox_id(layout)
    for k in range(max(count, MAX_REAL_NODES)):
        hostclean.delete_bridge(f"dy{sid}r{k}")
    with _host_lock():
        host = _host_file(layout)
        if host.exists():
            before = hostclean.HostRecord.from_json(host.read_text())
            hostclean.remove_own_chains(before.chains)
            hostclean.remove_empty_new_tables(before.nft_tables)
            hostclean.restore_sysctls(before.sysctls)
            hostclean.remove_created_dirs(before.existing_dirs)
            host.unlink()
        hostclean.remove_cgroup(cgroup_root(layout))
        _release(layout)
    _state_file(layout).unlink(missing_ok=True)
    return stopped


def _recorded_nodes(layout: Layout, count: int) -> list[RealNode]:
    try:
        topology = Topology.model_validate((layout.read_state() or {})["topology"])
    except (KeyError, ValueError, SandboxError):
        return []
    state = read_state(layout)
    ports = [(int(a), int(b)) for a, b in state.get("kubelet_ports", [])][:count]
    return plan_nodes(topology, len(ports), sid=sandbox_id(layout), ports=ports, cpu_model="-")


def _kubectl(layout: Layout, kubectl: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kubectl), f"--kubeconfig={layout.kubeconfig}", "--request-timeout=10s", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _drain(layout: Layout, kubectl: Path, names: list[str], count: int) -> None:
    """Cordon the nodes and delete their pods, so that the kubelet stops them through containerd
    (which runs CNI DEL: veths, IPs and chains go); wait until containerd has no task left."""
    if _kubectl(layout, kubectl, "get", "--raw", "/readyz").returncode != 0:
        return  # the apiserver is gone: the brute-force cleanup below does it all
    _kubectl(layout, kubectl, "cordon", *names)
    for name in names:
        _kubectl(
            layout,
            kubectl,
            "delete",
            "pods",
            "--all-namespaces",
            f"--field-selector=spec.nodeName={name}",
            "--grace-period=1",
            "--wait=false",
        )
    deadline = time.monotonic() + _DRAIN_SECONDS
    while time.monotonic() < deadline:
        if not any(_tasks(NodeDirs(real_dir(layout), k)) for k in range(count)):
            return
        time.sleep(0.5)


def _tasks(dirs: NodeDirs) -> list[str]:
    if not dirs.socket.exists():
        return []
    done = subprocess.run(
        [CTR, "-a", str(dirs.socket), "-n", K8S_NAMESPACE, "tasks", "ls", "-q"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    return done.stdout.split() if done.returncode == 0 else []


def _kill_pods(layout: Layout) -> None:
    """SIGKILL what is left of the pods: every process in the sandbox's cgroup root, then the shims
    (containerd-shim-runc-v2 outlives containerd) whose command line names this sandbox's socket."""
    for _ in range(3):
        pids = hostclean.cgroup_pids(cgroup_root(layout)) | set(hostclean.processes_with(str(real_dir(layout)), SHIM))
        pids.discard(os.getpid())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and not _zombie(p) for p in pids):
            time.sleep(0.1)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def purge(layout: Layout) -> None:
    """Delete the real nodes' directory (after :func:`stop`): unmounts first, never crossing into a mount."""
    base = real_dir(layout)
    hostclean.unmount_all(base)
    shutil.rmtree(base, ignore_errors=True)
