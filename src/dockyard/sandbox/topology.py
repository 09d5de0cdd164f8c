"""Fake-node topology of the sandbox: pools of KWOK nodes with capacity, labels and taints.

A topology file is YAML::

    pools:
      - name: idc-a-intel          # node names are <name>-<index>
        count: 5
        idc: idc-a                 # label dockyard.io/idc
        zone: idc-a-1              # label topology.kubernetes.io/zone (default: the idc)
        cpuModel: intel-xeon-6248  # label dockyard.io/cpu-model
        capacity: {cpu: "32", memory: 128Gi, pods: 110}
        labels: {dockyard.io/exclusive: "false"}
        taints: [{key: dedicated, value: search, effect: NoSchedule}]

Every node carries ``topology.kubernetes.io/zone``, ``dockyard.io/idc``, ``dockyard.io/cpu-model``
and ``dockyard.io/pool`` (the pool's name). Everything here is pure: no I/O but reading the file.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from dockyard.sandbox.errors import TopologyError

MAX_NODES = 5000
FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node"
MANAGED_LABEL = "dockyard.io/sandbox-node"
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|Pi|M|G|T|P)?$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
POD_NETWORK = ipaddress.ip_network("10.128.0.0/9")


def _label_value(value: str) -> str:
    if value and not _LABEL_NAME.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a Kubernetes label value (at most 63 of A-Z a-z 0-9 - _ ., "
            "beginning and ending with a letter or digit)"
        )
    return value


def _label_key(key: str) -> str:
    prefix, _, name = key.rpartition("/")
    if (prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix))) or not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"{key!r} is not a Kubernetes label key such as dockyard.io/exclusive or team")
    return key


LabelValue = Annotated[str, AfterValidator(_label_value)]
LabelKey = Annotated[str, AfterValidator(_label_key)]


class Capacity(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cpu: str = "32"
    memory: str = "128Gi"
    pods: int = Field(default=110, ge=1, le=254)  # each node's pod CIDR is a /24

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> str:
        text = str(value)
        if not _QUANTITY.fullmatch(text):
            raise ValueError(f"{text!r} is not a Kubernetes quantity such as 32, 500m or 128Gi")
        return text


class Taint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: LabelKey
    value: LabelValue = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]


class Pool(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, max_length=40)
    count: int = Field(ge=0, le=MAX_NODES)
    idc: LabelValue = Field(min_length=1)
    zone: LabelValue | None = Field(default=None, min_length=1)
    cpu_model: LabelValue = Field(alias="cpuModel", min_length=1)
    capacity: Capacity = Field(default_factory=Capacity)
    labels: dict[LabelKey, LabelValue] = Field(default_factory=dict)
    taints: list[Taint] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _dns_name(cls, value: str) -> str:
        if not _DNS_LABEL.fullmatch(value):
            raise ValueError("must be lower-case letters, digits and '-' (a DNS label)")
        return value


class Topology(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pools: list[Pool] = Field(min_length=1)

    @field_validator("pools")
    @classmethod
    def _unique_and_bounded(cls, pools: list[Pool]) -> list[Pool]:
        names = [p.name for p in pools]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"pool names must be unique; repeated: {', '.join(duplicates)}")
        total = sum(p.count for p in pools)
        if total < 1:
            raise ValueError("the pools hold no node; give at least one pool a count of 1 or more")
        if total > MAX_NODES:
            raise ValueError(f"the pools hold {total} nodes; at most {MAX_NODES} are supported")
        return pools

    @property
    def node_count(self) -> int:
        return sum(p.count for p in self.pools)


def default_topology(nodes: int | None = None, *, idc: str | None = None) -> Topology:
    """Two IDCs × two CPU models; 20 nodes, or ``nodes`` spread as evenly as possible. With ``idc``
    (a named sandbox standing for one IDC): that IDC × two CPU models, pools ``<idc>-intel`` and ``<idc>-amd``."""
    specs = [
        ("idc-a", "intel", "intel-xeon-gold-6248"),
        ("idc-a", "amd", "amd-epyc-7742"),
        ("idc-b", "intel", "intel-xeon-gold-6248"),
        ("idc-b", "amd", "amd-epyc-7742"),
    ]
    if idc is not None:
        specs = [(idc, "intel", "intel-xeon-gold-6248"), (idc, "amd", "amd-epyc-7742")]
    total = 20 if nodes is None else nodes
    if total < 1:
        raise TopologyError(f"--nodes must be at least 1 (got {total})")
    if total > MAX_NODES:
        raise TopologyError(f"--nodes must be at most {MAX_NODES} (got {total})")
    counts = [total // len(specs) + (1 if i < total % len(specs) else 0) for i in range(len(specs))]
    pools = [
        Pool(name=f"{idc}-{vendor}", count=count, idc=idc, zone=idc, cpu_model=model)
        for (idc, vendor, model), count in zip(specs, counts, strict=True)
    ]
    return Topology(pools=pools)


def load_topology(path: Path) -> Topology:
    """Read and validate a topology file; :class:`TopologyError` names the file and the bad field."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as e:
        raise TopologyError(f"cannot read topology file {path}: {e.strerror or e}") from e
    except yaml.YAMLError as e:
        raise TopologyError(f"topology file {path} is not valid YAML: {_first_line(e)}") from e
    return parse_topology(raw, source=str(path))


def parse_topology(raw: Any, *, source: str = "topology") -> Topology:
    """Validate already-parsed YAML; the error names the first bad field as ``pools[1].count``."""
    if not isinstance(raw, dict):
        raise TopologyError(f"{source}: expected a mapping with a 'pools' list at the top")
    try:
        return Topology.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        field = _field_path(first["loc"])
        raise TopologyError(f"{source}: {field}: {first['msg']}") from e


def node_manifests(topology: Topology, *, kubelet_version: str) -> list[dict[str, Any]]:
    """The Node objects of ``topology`` for KWOK to manage, in a stable order."""
    nodes: list[dict[str, Any]] = []
    for pool in topology.pools:
        for index in range(pool.count):
            nodes.append(_node(pool, f"{pool.name}-{index:04d}", kubelet_version))
    return nodes


def assign_pod_cidrs(nodes: list[dict[str, Any]], *, taken: set[str]) -> None:
    """Give each node the lowest /24 of 10.128.0.0/9 not in ``taken`` (as node-ipam would).

    KWOK hands out pod IPs from a node's ``spec.podCIDR``; one CIDR per node keeps pod IPs unique
    cluster-wide, also when nodes are added to a running sandbox.
    """
    free = (str(subnet) for subnet in POD_NETWORK.subnets(new_prefix=24) if str(subnet) not in taken)
    for node in nodes:
        cidr = next(free)
        node["spec"]["podCIDR"] = cidr
        node["spec"]["podCIDRs"] = [cidr]


def _node(pool: Pool, name: str, kubelet_version: str) -> dict[str, Any]:
    labels = {
        **pool.labels,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "type": "kwok",
        "topology.kubernetes.io/zone": pool.zone or pool.idc,
        "dockyard.io/idc": pool.idc,
        "dockyard.io/cpu-model": pool.cpu_model,
        "dockyard.io/pool": pool.name,
        MANAGED_LABEL: "true",
    }
    resources = {"cpu": pool.capacity.cpu, "memory": pool.capacity.memory, "pods": str(pool.capacity.pods)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {
                FAKE_NODE_ANNOTATION: "fake",
                "node.alpha.kubernetes.io/ttl": "0",
                "metrics.k8s.io/resource-metrics-path": f"/metrics/nodes/{name}/metrics/resource",
            },
        },
        "spec": {"taints": [t.model_dump() for t in pool.taints]} if pool.taints else {},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "nodeInfo": {
                "architecture": "amd64",
                "operatingSystem": "linux",
                "osImage": "KWOK fake node",
                "kernelVersion": "kwok",
                "containerRuntimeVersion": "kwok",
                "kubeletVersion": kubelet_version,
                "kubeProxyVersion": kubelet_version,
                "bootID": "",
                "machineID": "",
                "systemUUID": "",
            },
        },
    }


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
