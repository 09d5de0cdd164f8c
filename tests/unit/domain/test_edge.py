"""The edge route of a group: global name, serving instances, weights by share, health checks."""

from __future__ import annotations

from collections import Counter

import pytest

from dockyard.domain.discovery import global_name
from dockyard.domain.edge import (
    EdgeEntry,
    HealthCheck,
    Upstream,
    check_entry_port,
    edge_route,
    new_edge_entry,
    serving_port,
)
from dockyard.domain.errors import InvalidInput
from dockyard.domain.live import PodRecord
from dockyard.domain.model import GroupPath
from dockyard.domain.versions import parse_spec

GROUP = GroupPath("shop", "web", "prod")
V1 = parse_spec(
    {
        "image": "r.local/shop/web:1",
        "flavor": "small",
        "instances": 3,
        "ports": [{"name": "metrics", "port": 9100}, {"name": "http", "port": 8080}],
        "readiness": {"port": 8080, "path": "/ready"},
    }
)
V2 = V1.with_changes(image="r.local/shop/web:2")
VERSIONS = {1: V1, 2: V2}


def pod(name: str, version: int, *, ready: bool = True, deleting: bool = False, ip: str | None = None) -> PodRecord:
    return PodRecord(
        namespace="shop",
        name=name,
        uid=name,
        app="web",
        group="prod",
        version=str(version),
        phase="Running",
        ready=ready,
        restarts=0,
        pod_ip=f"10.250.0.{name[1:]}" if ip is None else ip,
        host_ip="192.0.2.2",
        node="realnode-1",
        created=0.0,
        reason="",
        deleting=deleting,
    )


STABLE3 = [pod("p1", 1), pod("p2", 1), pod("p3", 1)]


def test_global_name() -> None:
    assert global_name(GROUP) == "prod.web.shop.dockyard.internal"


def shares(route_upstreams: tuple[Upstream, ...]) -> dict[int, float]:
    """Each version's share of requests under weighted round robin."""
    total = sum(u.weight for u in route_upstreams)
    by_version: Counter[int] = Counter()
    for u in route_upstreams:
        by_version[u.version] += u.weight
    return {v: round(100 * w / total, 2) for v, w in by_version.items()}


WEIGHT_CASES = [
    # id, instances, new version, share, expected weights by address suffix, expected shares
    ("no release: by counts", STABLE3, None, None, {"1": 1, "2": 1, "3": 1}, {1: 100.0}),
    ("gray 1 without weight", [*STABLE3[:2], pod("p4", 2)], 2, None, {"1": 1, "2": 1, "4": 1}, {1: 66.67, 2: 33.33}),
    ("50% with 1 new, 2 stable", [*STABLE3[:2], pod("p4", 2)], 2, 50, {"1": 1, "2": 1, "4": 2}, {1: 50.0, 2: 50.0}),
    ("10% with 1 new, 3 stable", [*STABLE3, pod("p4", 2)], 2, 10, {"1": 3, "2": 3, "3": 3, "4": 1}, {1: 90.0, 2: 10.0}),
    (
        "25% with 2 new, 1 stable",
        [STABLE3[0], pod("p4", 2), pod("p5", 2)],
        2,
        25,
        {"1": 6, "4": 1, "5": 1},
        {1: 75.0, 2: 25.0},
    ),
    ("share 0: nothing to the new version", [*STABLE3, pod("p4", 2)], 2, 0, {"1": 1, "2": 1, "3": 1}, {1: 100.0}),
    ("share 100: nothing to the stable one", [*STABLE3, pod("p4", 2)], 2, 100, {"4": 1}, {2: 100.0}),
    (
        "share 50, no new instance ready",
        [*STABLE3, pod("p4", 2, ready=False)],
        2,
        50,
        {"1": 1, "2": 1, "3": 1},
        {1: 100.0},
    ),
    ("share 50, only new instances", [pod("p4", 2), pod("p5", 2)], 2, 50, {"4": 1, "5": 1}, {2: 100.0}),
    ("share 0, only new instances", [pod("p4", 2)], 2, 0, {"4": 1}, {2: 100.0}),
]


@pytest.mark.parametrize(
    ("instances", "new_version", "share", "weights", "expected"),
    [c[1:] for c in WEIGHT_CASES],
    ids=[c[0] for c in WEIGHT_CASES],
)
def test_weights_follow_the_share(
    instances: list[PodRecord],
    new_version: int | None,
    share: int | None,
    weights: dict[str, int],
    expected: dict[int, float],
) -> None:
    route = edge_route(GROUP, EdgeEntry(), instances=instances, versions=VERSIONS, new_version=new_version, share=share)
    assert route.host == "prod.web.shop.dockyard.internal"
    assert {u.address.split(":")[0].rsplit(".", 1)[1]: u.weight for u in route.upstreams} == weights
    assert all(u.address.endswith(":8080") for u in route.upstreams)
    assert shares(route.upstreams) == expected


LEFT_OUT_CASES = [
    ("not ready", pod("p9", 1, ready=False)),
    ("being deleted (draining)", pod("p9", 1, deleting=True)),
    ("no pod IP yet", pod("p9", 1, ip="")),
    ("a version not known", pod("p9", 7)),
]


@pytest.mark.parametrize("left_out", [c[1] for c in LEFT_OUT_CASES], ids=[c[0] for c in LEFT_OUT_CASES])
def test_instances_that_cannot_serve_are_left_out(left_out: PodRecord) -> None:
    route = edge_route(GROUP, EdgeEntry(), instances=[*STABLE3, left_out], versions=VERSIONS)
    assert [u.address for u in route.upstreams] == ["10.250.0.1:8080", "10.250.0.2:8080", "10.250.0.3:8080"]


def test_no_serving_instance_keeps_the_route_with_no_upstream() -> None:
    draining = [pod(p.name, 1, deleting=True) for p in STABLE3]
    for instances in ([], draining, [pod("p1", 1, ready=False)]):
        route = edge_route(GROUP, EdgeEntry(), instances=instances, versions=VERSIONS, new_version=2, share=50)
        assert (route.host, route.upstreams, route.health) == ("prod.web.shop.dockyard.internal", (), None)


def test_health_checks_use_the_readiness_path_when_all_versions_agree() -> None:
    both = [*STABLE3, pod("p4", 2)]
    assert edge_route(GROUP, EdgeEntry(), instances=both, versions=VERSIONS).health == HealthCheck("/ready", 8080)
    tcp_probe = {1: V1, 2: V2.with_changes(readiness={"port": 8080})}
    assert edge_route(GROUP, EdgeEntry(), instances=both, versions=tcp_probe).health is None
    other_path = {1: V1, 2: V2.with_changes(readiness={"port": 8080, "path": "/healthz"})}
    assert edge_route(GROUP, EdgeEntry(), instances=both, versions=other_path).health is None
    # Only the versions still in the route count: at share 0 the new one's path does not matter.
    only_stable = edge_route(GROUP, EdgeEntry(), instances=both, versions=other_path, new_version=2, share=0)
    assert only_stable.health == HealthCheck("/ready", 8080)


def test_the_entry_names_the_port() -> None:
    assert serving_port(V1, EdgeEntry()) == 8080  # the one named http, not the first
    assert serving_port(V1, EdgeEntry("metrics")) == 9100
    assert serving_port(V1, EdgeEntry("grpc")) is None
    first = V1.with_changes(
        ports=[{"name": "web", "port": 80}, {"name": "dns", "port": 53, "protocol": "UDP"}], readiness=None
    )
    assert serving_port(first, EdgeEntry()) == 80
    assert serving_port(V1.with_changes(ports=[], readiness=None), EdgeEntry()) is None
    route = edge_route(GROUP, EdgeEntry("metrics"), instances=STABLE3, versions=VERSIONS)
    assert {u.address for u in route.upstreams} == {"10.250.0.1:9100", "10.250.0.2:9100", "10.250.0.3:9100"}


def test_entry_input_is_checked() -> None:
    assert new_edge_entry("http") == EdgeEntry("http")
    with pytest.raises(InvalidInput) as raised:
        new_edge_entry("No Such")
    assert raised.value.field == "port"
    check_entry_port(EdgeEntry("http"), V1)
    check_entry_port(EdgeEntry("grpc"), None)  # no version yet: any name
    with pytest.raises(InvalidInput, match="has no TCP port named 'grpc'"):
        check_entry_port(EdgeEntry("grpc"), V1)


def test_the_route_is_deterministic() -> None:
    shuffled = [STABLE3[2], pod("p4", 2), STABLE3[0], STABLE3[1]]
    a = edge_route(GROUP, EdgeEntry(), instances=shuffled, versions=VERSIONS, new_version=2, share=30)
    b = edge_route(GROUP, EdgeEntry(), instances=[*STABLE3, pod("p4", 2)], versions=VERSIONS, new_version=2, share=30)
    assert a == b
