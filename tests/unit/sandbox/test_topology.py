from pathlib import Path

import pytest

from dockyard.sandbox.errors import TopologyError
from dockyard.sandbox.topology import (
    assign_pod_cidrs,
    default_topology,
    load_topology,
    node_manifests,
    parse_topology,
)


@pytest.mark.parametrize(
    ("nodes", "counts"),
    [
        (None, [5, 5, 5, 5]),
        (1, [1, 0, 0, 0]),
        (7, [2, 2, 2, 1]),
        (1000, [250, 250, 250, 250]),
    ],
)
def test_default_topology_spreads_nodes_over_two_idcs_and_two_cpu_models(nodes: int | None, counts: list[int]) -> None:
    topology = default_topology(nodes)
    assert [p.count for p in topology.pools] == counts
    assert {p.idc for p in topology.pools} == {"idc-a", "idc-b"}
    assert len({p.cpu_model for p in topology.pools}) == 2


@pytest.mark.parametrize(
    ("nodes", "message"), [(0, r"at least 1 \(got 0\)"), (-3, r"at least 1 \(got -3\)"), (5001, "at most 5000")]
)
def test_default_topology_refuses_bad_node_counts(nodes: int, message: str) -> None:
    with pytest.raises(TopologyError, match=message):
        default_topology(nodes)


GOOD_POOL = {"name": "gpu", "count": 2, "idc": "idc-c", "cpuModel": "intel"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"pools": [{**GOOD_POOL, "count": "x"}]}, "pools[0].count"),
        ({"pools": [GOOD_POOL, {**GOOD_POOL, "name": "b", "count": -1}]}, "pools[1].count"),
        ({"pools": [{**GOOD_POOL, "name": "Bad_Name"}]}, "pools[0].name"),
        ({"pools": [{k: v for k, v in GOOD_POOL.items() if k != "idc"}]}, "pools[0].idc"),
        ({"pools": [{**GOOD_POOL, "capacity": {"cpu": "lots"}}]}, "pools[0].capacity.cpu"),
        ({"pools": [{**GOOD_POOL, "taints": [{"key": "k", "effect": "Sometimes"}]}]}, "pools[0].taints[0].effect"),
        ({"pools": [{**GOOD_POOL, "colour": "red"}]}, "pools[0].colour"),
        ({"pools": [GOOD_POOL, GOOD_POOL]}, "pools: Value error, pool names must be unique; repeated: gpu"),
        ({"pools": [{**GOOD_POOL, "count": 0}]}, "pools: Value error, the pools hold no node"),
        ({"pools": []}, "pools: List should have at least 1 item"),
        ({"nodes": 3}, "pools: Field required"),
        ({"pools": [{**GOOD_POOL, "cpuModel": "Intel(R) Xeon(R)"}]}, "pools[0].cpuModel: Value error, 'Intel(R)"),
        ({"pools": [{**GOOD_POOL, "idc": "a" * 64}]}, "pools[0].idc: Value error"),
        ({"pools": [{**GOOD_POOL, "labels": {"team": "a b"}}]}, "pools[0].labels.team: Value error"),
        ({"pools": [{**GOOD_POOL, "labels": {"Bad_/x": "1"}}]}, "pools[0].labels.Bad_/x.[key]: Value error"),
        ({"pools": [{**GOOD_POOL, "capacity": {"pods": 300}}]}, "pools[0].capacity.pods: Input should be less"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_invalid_topology_names_the_bad_field(raw: object, field: str) -> None:
    with pytest.raises(TopologyError) as info:
        parse_topology(raw, source="t.yaml")
    assert str(info.value).startswith(f"t.yaml: {field}")


def test_topology_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(TopologyError, match=r"cannot read topology file .*missing.yaml"):
        load_topology(missing)
    broken = tmp_path / "broken.yaml"
    broken.write_text("pools: [\n")
    with pytest.raises(TopologyError, match=r"broken.yaml is not valid YAML"):
        load_topology(broken)


def test_node_manifests_carry_placement_labels_capacity_and_taints(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(
        "pools:\n"
        "  - {name: search, count: 2, idc: idc-b, zone: idc-b-2, cpuModel: amd-epyc, "
        "capacity: {cpu: '16', memory: 64Gi, pods: 50}, labels: {team: search}, "
        "taints: [{key: dedicated, value: search, effect: NoSchedule}]}\n"
    )
    nodes = node_manifests(load_topology(path), kubelet_version="v1.35.4")
    assert [n["metadata"]["name"] for n in nodes] == ["search-0000", "search-0001"]
    node = nodes[1]
    assert (
        node["metadata"]["labels"]
        | {
            "topology.kubernetes.io/zone": "idc-b-2",
            "dockyard.io/idc": "idc-b",
            "dockyard.io/cpu-model": "amd-epyc",
            "dockyard.io/pool": "search",
            "kubernetes.io/hostname": "search-0001",
            "team": "search",
        }
        == node["metadata"]["labels"]
    )
    assert node["metadata"]["annotations"]["kwok.x-k8s.io/node"] == "fake"
    assert node["status"]["allocatable"] == {"cpu": "16", "memory": "64Gi", "pods": "50"}
    assert node["spec"]["taints"] == [{"key": "dedicated", "value": "search", "effect": "NoSchedule"}]


def test_every_node_gets_its_own_pod_cidr() -> None:
    nodes = node_manifests(default_topology(5000), kubelet_version="v1.35.4")
    assign_pod_cidrs(nodes, taken=set())
    cidrs = [n["spec"]["podCIDR"] for n in nodes]
    assert len(set(cidrs)) == 5000
    assert (cidrs[0], cidrs[256], cidrs[-1]) == ("10.128.0.0/24", "10.129.0.0/24", "10.147.135.0/24")
    assert nodes[1]["spec"]["podCIDRs"] == ["10.128.1.0/24"]


def test_nodes_added_later_avoid_the_cidrs_already_taken() -> None:
    nodes = node_manifests(default_topology(3), kubelet_version="v1.35.4")
    assign_pod_cidrs(nodes, taken={"10.128.0.0/24", "10.128.2.0/24"})
    assert [n["spec"]["podCIDR"] for n in nodes] == ["10.128.1.0/24", "10.128.3.0/24", "10.128.4.0/24"]


def test_zone_defaults_to_the_idc() -> None:
    nodes = node_manifests(default_topology(1), kubelet_version="v1.35.4")
    assert nodes[0]["metadata"]["labels"]["topology.kubernetes.io/zone"] == "idc-a"
    assert "taints" not in nodes[0]["spec"]


def test_a_named_sandbox_for_one_idc_has_that_idcs_two_pools() -> None:
    topology = default_topology(7, idc="idc-b")
    assert [(p.name, p.count, p.idc, p.cpu_model) for p in topology.pools] == [
        ("idc-b-intel", 4, "idc-b", "intel-xeon-gold-6248"),
        ("idc-b-amd", 3, "idc-b", "amd-epyc-7742"),
    ]
