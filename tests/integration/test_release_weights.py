"""Weight steps of gray releases on the sandbox (KWOK nodes: nothing routes requests here, the shares are
what the release says; the requests themselves are counted in the real-node tests): the steps run and
pause where told, the release shows the new version's share of requests at each pause, abort sets it to
0 at once, the end gives 100, and bad weights are refused naming the step."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.adapters.kube.client import KubeCluster
from tests.integration.harness.client import Api
from tests.integration.harness.kube import settled
from tests.integration.harness.specs import WEB as V1

V2_CHANGES = {"image": "registry.local/shop/web:2"}


async def _start(api: Api, steps: list[str]) -> dict[str, Any]:
    await api.act("deploy", {"spec": {**V1, "instances": 3}})
    response = await api.http.post(f"{api.group}/releases", json={"changes": V2_CHANGES, "steps": steps})
    assert response.status_code == 202, response.text
    return dict(response.json())


async def test_weight_steps_pause_where_told_and_show_the_share(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 1", "pause", "weight 50%", "pause", "100%"])
    assert release["steps"] == ["gray 1", "pause", "weight 50%", "pause", "100%"]
    promote = f"{api.group}/releases/{release['id']}/promote"

    first = await api.release_when(release["id"], "paused", step=1)
    assert first["edge_share"] is None  # no weight yet: by instance counts (1 of 3)
    await settled(kube, api.system, {"2": 1, "1": 2})

    assert (await api.http.post(promote, json={})).status_code == 200
    second = await api.release_when(release["id"], "paused", step=3)
    assert second["edge_share"] == 50
    assert (second["new_instances"], second["stable_instances"]) == (1, 2)  # a weight moves no instance
    await settled(kube, api.system, {"2": 1, "1": 2})
    weight = second["ledger"][-1]
    assert (weight["event"], weight["step"], weight["index"], weight["weight"]) == ("weight", "weight 50%", 2, 50)
    assert weight["by"] == release["created_by"]
    assert weight["at"]
    listed = (await api.http.get(f"{api.group}/releases")).json()
    assert listed[0]["edge_share"] == 50

    assert (await api.http.post(promote, json={})).status_code == 200
    done = await api.release_when(release["id"], "succeeded")
    assert done["edge_share"] == 100
    await settled(kube, api.system, {"2": 3})
    events = [e["event"] for e in done["ledger"]]
    assert events == ["started", "step", "promote", "weight", "promote", "step", "succeeded"]
    assert (await api.http.get(api.group)).json()["current_version"] == 2


@pytest.mark.both_databases  # the abort's conditional write, read back at once; the ledger's weights stored
async def test_abort_sets_the_share_to_0_at_once(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 1", "weight 30%", "pause", "weight 60%", "pause", "100%"])
    paused = await api.release_when(release["id"], "paused", step=2)
    assert paused["edge_share"] == 30

    aborted = await api.http.post(f"{api.group}/releases/{release['id']}/abort")
    assert aborted.status_code == 200
    assert aborted.json()["edge_share"] == 0  # in the answer itself, before the runner takes the abort
    assert (await api.http.get(f"{api.group}/releases/{release['id']}")).json()["edge_share"] == 0

    ended = await api.release_when(release["id"], "aborted")
    assert ended["edge_share"] == 0
    assert "aborted at step 3 (pause)" in ended["error"]
    await settled(kube, api.system, {"1": 3})
    assert [e["event"] for e in ended["ledger"]] == ["started", "step", "weight", "aborting", "aborted"]


async def test_promote_full_skips_the_weights_and_ends_at_100(api: Api, kube: KubeCluster) -> None:
    release = await _start(api, ["gray 1", "weight 0%", "pause", "weight 50%", "pause", "100%"])
    paused = await api.release_when(release["id"], "paused", step=2)
    assert paused["edge_share"] == 0  # weight 0%: the new instance is up, no request goes to it
    full = await api.http.post(f"{api.group}/releases/{release['id']}/promote", json={"full": True})
    assert full.status_code == 200
    done = await api.release_when(release["id"], "succeeded")
    assert done["edge_share"] == 100
    await settled(kube, api.system, {"2": 3})
    assert [e.get("weight") for e in done["ledger"] if e["event"] == "weight"] == [0]  # 50% was skipped


@pytest.mark.parametrize(
    ("steps", "field", "message"),
    [
        (["gray 1", "weight 120%", "100%"], "steps[1]", "a weight is from 0% to 100% of the requests"),
        (["weight 10%", "gray 1", "100%"], "steps[0]", "needs new instances"),
        (["gray 1", "100%", "weight 50%"], "steps[2]", "never runs"),
        (["gray 1", "weight half", "100%"], "steps[1]", "unknown step"),
    ],
)
async def test_bad_weights_are_refused_naming_the_step(api: Api, steps: list[str], field: str, message: str) -> None:
    await api.act("deploy", {"spec": {**V1, "instances": 3}})
    response = await api.http.post(f"{api.group}/releases", json={"changes": V2_CHANGES, "steps": steps})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["details"]["field"] == field
    assert message in body["message"]
    assert (await api.http.get(f"{api.group}/releases")).json() == []  # nothing half-written
    assert [v["number"] for v in (await api.http.get(f"{api.group}/versions")).json()] == [1]
