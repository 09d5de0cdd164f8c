"""What a deploy sends the apiserver, counted on a fake one: the system's objects once per system and
client, nothing deleted that is known absent, everything again on reconcile or once the namespace is
gone; and never more requests than ``kubectl apply`` of the same objects."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from typing import cast

import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.adapters.secretbox import SecretBox
from dockyard.domain.model import Operation, Quota
from dockyard.domain.render import GroupRef, namespace, render, system_objects
from dockyard.domain.versions import VersionSpec, parse_spec
from dockyard.services.rollouts import Plan, apply_version
from tests.unit.services.fake_apiserver import FakeApiServer

SPEC = parse_spec({"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 10})
PORTS = parse_spec(
    {"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 10, "ports": [{"name": "http", "port": 80}]}
)
LEGACY = parse_spec({"image": "registry.local/shop/web:1", "flavor": "tiny", "instances": 1, "security": "baseline"})
BOX = cast(SecretBox, None)  # no secret env in these specs: nothing to open
SYSTEM_WRITES = Counter(
    {"get namespaces": 2, "create namespaces": 1, "apply namespaces": 1, "apply limitranges": 1}
    | {"apply networkpolicies": 3, "delete resourcequotas": 1, "apply serviceaccounts": 1}
)
GROUP_WRITES = Counter({"apply configmaps": 1, "apply deployments": 1})
BUDGET = Counter({"apply poddisruptionbudgets": 1})  # a group's first deploy by this client


def plan(
    group: str, number: int, *, spec: VersionSpec = SPEC, current: int | None = None, action: str = "deploy"
) -> Plan:
    op = Operation(id=f"op-{group}-{number}", action=action, actor="test", system="shop", app="web", group=group)
    ref = GroupRef(system="shop", app="web", group=group)
    return Plan(op, ref, "local", Quota(), number, spec, current, time.time() + 60)


@pytest.fixture
async def api() -> FakeApiServer:
    return FakeApiServer()


async def test_the_first_deploy_of_a_system_writes_its_objects_the_next_ones_only_their_own(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1), BOX)
        assert api.take() == SYSTEM_WRITES + GROUP_WRITES + BUDGET + Counter({"delete services": 1})
        await apply_version(kube, plan("g1", 2, current=1), BOX, service=False)  # a second version
        assert api.take() == GROUP_WRITES
        await apply_version(kube, plan("g2", 1), BOX, service=False)  # another group of the system
        assert api.take() == GROUP_WRITES + BUDGET
    assert api.objects[("poddisruptionbudgets", "shop", "web-g2")]["spec"]["maxUnavailable"] == 1
    assert api.objects[("serviceaccounts", "shop", "app-web")]["automountServiceAccountToken"] is False
    assert {k[2] for k in api.objects if k[0] == "networkpolicies"} == {
        "dockyard-default-deny",
        "dockyard-allow-dns",
        "dockyard-allow-same-system",
    }


async def test_a_service_is_deleted_unless_the_cache_says_there_is_none(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1, spec=PORTS), BOX)
        assert ("services", "shop", "web-g1") in api.objects
        api.take()
        await apply_version(kube, plan("g1", 2, current=1), BOX, service=True)  # no ports now: it goes
        assert api.take()["delete services"] == 1
        assert ("services", "shop", "web-g1") not in api.objects
        await apply_version(kube, plan("g1", 3, current=2), BOX, service=None)  # the cache cannot tell: delete
        assert api.take()["delete services"] == 1
        await apply_version(kube, plan("g1", 4, current=3), BOX, service=False)
        assert api.take()["delete services"] == 0


async def test_reconcile_writes_everything_again(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1), BOX)
        api.take()
        await apply_version(kube, plan("g1", 1, current=1, action="reconcile"), BOX, service=False)
        sent = api.take()
        assert (
            sent - Counter({"get deployments": 1})
            == Counter(
                {"get namespaces": 1, "apply namespaces": 1, "apply limitranges": 1, "apply networkpolicies": 3}
                | {"delete resourcequotas": 1, "apply serviceaccounts": 1, "delete services": 1}
            )
            + GROUP_WRITES
            + BUDGET
        )
        # What reconcile wrote is remembered as well: the next deploy writes only the group's objects.
        await apply_version(kube, plan("g1", 2, current=1), BOX, service=False)
        assert api.take() == GROUP_WRITES


async def test_a_deleted_namespace_is_made_again_by_the_next_deploy(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1), BOX)
        api.delete_namespace("shop")  # by hand: the client still remembers what it wrote there
        api.take()
        await apply_version(kube, plan("g2", 1), BOX, service=False)
        assert ("namespaces", "", "shop") in api.objects
        assert ("limitranges", "shop", "dockyard-system") in api.objects
        assert ("serviceaccounts", "shop", "app-web") in api.objects
        assert ("deployments", "shop", "web-g2") in api.objects
        sent = api.take()
        assert sent["apply configmaps"] == 2  # refused (404: no namespace), then written after it
        assert sent["create namespaces"] == 1


async def test_the_system_objects_are_written_again_when_they_change_or_are_forgotten(api: FakeApiServer) -> None:
    clock = [0.0]
    async with api.client() as kube:
        kube._applied._clock = lambda: clock[0]  # the memory's clock, moved by hand
        await apply_version(kube, plan("g1", 1), BOX)
        api.take()
        quota = Plan(**{**plan("g2", 1).__dict__, "quota": Quota(cpu_millis=4000)})
        await apply_version(kube, quota, BOX, service=False)
        assert api.take() == Counter({"apply resourcequotas": 1}) + GROUP_WRITES + BUDGET
        clock[0] = 61.0  # past what a client trusts: another replica may have changed them since
        await apply_version(kube, plan("g3", 1), BOX, service=False)
        sent = api.take()
        assert sent["apply limitranges"] == sent["apply namespaces"] == sent["delete resourcequotas"] == 1


async def test_a_group_that_needs_baseline_always_reads_the_namespace(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1), BOX)
        api.take()
        await apply_version(kube, plan("legacy", 1, spec=LEGACY), BOX, service=False)
        sent = api.take()
        assert (sent["get namespaces"], sent["apply namespaces"]) == (1, 1)
        annotations = api.objects[("namespaces", "", "shop")]["metadata"]["annotations"]
        assert annotations == {"dockyard.io/baseline-groups": "web-legacy"}
        # Another restricted group does not write the namespace again, and keeps legacy's record.
        await apply_version(kube, plan("g2", 1), BOX, service=False)
        assert api.take() == GROUP_WRITES + BUDGET


async def test_a_hundred_groups_deployed_at_once_send_fewer_requests_than_kubectl_apply(api: FakeApiServer) -> None:
    groups = [f"g{i}" for i in range(1, 101)]
    async with api.client() as kube:
        await asyncio.gather(*(apply_version(kube, plan(g, 1), BOX, service=False) for g in groups))
    sent = api.take()
    assert sent == SYSTEM_WRITES + Counter(
        {"apply configmaps": 100, "apply deployments": 100, "apply poddisruptionbudgets": 100}
    )
    # kubectl apply -f of the same List: a GET then a create (or nothing, when unchanged) of each item.
    items = [namespace(GroupRef("shop", "web", "g1")), *system_objects(GroupRef("shop", "web", "g1"), Quota())]
    for g in groups:
        items += render(GroupRef("shop", "web", g), 1, SPEC)
    kubectl = len(items) + len({(o["kind"], o["metadata"]["name"]) for o in items})
    assert sent.total() == 310  # 3 per group (ConfigMap, Deployment, PodDisruptionBudget) + the system's 10
    assert sent.total() <= kubectl / 2, (sent.total(), kubectl)


def test_the_fake_client_is_a_real_client() -> None:
    assert isinstance(FakeApiServer().client(), KubeCluster)


async def test_deleting_the_namespace_through_the_client_forgets_what_was_in_it(api: FakeApiServer) -> None:
    async with api.client() as kube:
        await apply_version(kube, plan("g1", 1), BOX)
        await kube.delete("v1", "Namespace", "shop")
        api.take()
        await apply_version(kube, plan("g1", 2, current=1), BOX, service=False)
        sent = api.take()
        assert (sent["create namespaces"], sent["apply limitranges"], sent["apply configmaps"]) == (1, 1, 1)
