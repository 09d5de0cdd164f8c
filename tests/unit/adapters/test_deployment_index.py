"""The Deployment watch cache's records and index (pure parts: no cluster)."""

from typing import Any

import msgspec

from dockyard.adapters.kube import wire
from dockyard.adapters.kube.watch import DeploymentIndex, DeploymentRecord, slim_deployment
from dockyard.domain.render import GroupRef, render
from dockyard.domain.versions import parse_spec

SPEC = parse_spec({"image": "registry.local/shop/web:3", "flavor": "tiny", "instances": 4})
RENDERED = next(
    o for o in render(GroupRef(system="shop", app="web", group="prod"), 3, SPEC) if o["kind"] == "Deployment"
)


def _deployment(name: str = "web-prod", **status: Any) -> wire.Deployment:
    manifest = dict(RENDERED)
    manifest["metadata"] = {**manifest["metadata"], "name": name, "generation": 7}
    return msgspec.json.decode(msgspec.json.encode({**manifest, "status": status}), type=wire.Deployment)


def test_slim_keeps_the_rollout_counters_and_the_spec_as_plain_data() -> None:
    deployment = _deployment(observedGeneration=6, replicas=5, readyReplicas=3, updatedReplicas=2, availableReplicas=3)
    record = slim_deployment(deployment)
    assert record == DeploymentRecord(
        namespace="shop",
        name="web-prod",
        app="web",
        group="prod",
        version="3",
        generation=7,
        observed_generation=6,
        replicas=4,
        ready=3,
        updated=2,
        available=3,
        total=5,
        spec=RENDERED["spec"],
    )
    assert type(record.spec) is dict
    assert type(record.spec["template"]["spec"]["containers"][0]) is dict


def test_a_new_deployment_has_zero_counters() -> None:
    record = slim_deployment(_deployment())
    assert (record.observed_generation, record.ready, record.updated, record.available, record.total) == (0, 0, 0, 0, 0)


def test_records_are_hashable_despite_their_spec() -> None:
    assert len({slim_deployment(_deployment()), slim_deployment(_deployment())}) == 1


def test_index_by_name_follows_updates_and_deletes() -> None:
    index = DeploymentIndex([slim_deployment(_deployment("web-prod")), slim_deployment(_deployment("web-gray"))])
    index.put(slim_deployment(_deployment("web-prod", observedGeneration=7)))
    prod = index.get("shop", "web-prod")
    assert prod is not None
    assert prod.observed_generation == 7
    index.remove("shop", "web-gray")
    index.remove("shop", "missing")
    assert index.get("shop", "web-gray") is None
    assert index.get("other", "web-prod") is None
    assert len(index) == 1
