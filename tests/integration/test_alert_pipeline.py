"""The whole alert pipeline on the sandbox: a KWOK instance whose set rss exceeds its group's threshold
(a share of the group's flavor) → the sandbox's Prometheus (KWOK's fake cAdvisor, Dockyard's /metrics
with the thresholds, the roll-up and alert rules) → the sandbox's Alertmanager → Dockyard's webhook →
history → a signed webhook channel. Fires within 45 s of the instance being ready; raising the group's
threshold through the API (no rule file touched) ends the condition and the resolution is told within
30 s. Then the same with a real process on the sandbox's real node holding memory (real cAdvisor series
through the apiserver): told once by webhook and by e-mail (a local SMTP sink) within 45 s, resolved
within 30 s of the process letting go, and a silence holds a second one back until it expires by itself.
Runs once, on SQLite (the database is not the subject)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dockyard.adapters.kube.client import KubeCluster
from dockyard.domain.alerts import SIGNATURE_HEADER, verify
from dockyard.sandbox import alerting, monitoring
from tests.integration.harness.client import create_group, operation_ended, register_cluster
from tests.integration.harness.kube import condition
from tests.integration.harness.realnodes import RealNodes
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.servers import ServerProcess, process_env, server_process
from tests.integration.harness.tokens import ADMIN
from tests.integration.harness.waiting import Not, eventually
from tests.receivers import HttpReceiver, SmtpSink, http_receiver, smtp_sink

SCRAPE_TOKEN = "dym_" + "a" * 40
SECRET = "pipeline-channel-secret-77"
FIRE_WITHIN = 45.0  # seconds from Ready (issue 17, with the sandbox's intervals)
RESOLVE_WITHIN = 30.0  # seconds from the condition's end


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as receiver:
        yield receiver


@pytest.fixture
def server(sandbox: Sandbox, database_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[ServerProcess]:
    env = process_env(
        database_url,
        tmp_path,
        DOCKYARD_SMTP_HOST="127.0.0.1",
        DOCKYARD_SMTP_PORT=str(sink.port),
        DOCKYARD_PROMETHEUS_URL=f"http://127.0.0.1:{sandbox.ports.prometheus}",
        DOCKYARD_METRICS_TOKEN=SCRAPE_TOKEN,
        DOCKYARD_ALERTMANAGER_URL=f"http://127.0.0.1:{sandbox.ports.alertmanager}",
        DOCKYARD_ALERTMANAGER_WEBHOOK_TOKEN=alerting.webhook_token(sandbox.layout),
    )
    with server_process(env, tmp_path / "server.log") as process:
        address = f"127.0.0.1:{process.port}"
        monitoring.register_dockyard(sandbox.layout, address=address, token=SCRAPE_TOKEN)
        alerting.point_webhook(sandbox.layout, sandbox.ports, f"http://{address}/api/v1/alerts/webhook")
        try:
            yield process
        finally:
            monitoring.register_dockyard(sandbox.layout, address="127.0.0.1:1", token="")
            alerting.point_webhook(sandbox.layout, sandbox.ports, alerting.DEFAULT_WEBHOOK_URL)


def told(hook: HttpReceiver, pod: str) -> list[tuple[str, float]]:
    """(kind, when received) of the RSS alerts about ``pod``."""
    out = []
    for post in hook.posts:
        sent = json.loads(post.body)
        alert = sent.get("alert") or {}
        if alert.get("name") == "DockyardInstanceRSSHigh" and alert.get("labels", {}).get("pod") == pod:
            out.append((sent["kind"], post.received))
    return out


def hog(system: str) -> dict[str, Any]:
    """An instance of shop/web/prod whose rss is set to 300Mi at creation: over 0.9 × tiny's 256Mi."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "hog",
            "namespace": system,
            "labels": {"dockyard.io/app": "web", "dockyard.io/group": "prod", "dockyard.io/version": "1"},
            "annotations": {"metrics.dockyard.io/memory-rss": "300Mi"},
        },
        "spec": {
            # Dockyard's namespaces enforce the restricted Pod Security profile.
            "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "web",
                    "image": "registry.local/shop/web:1",
                    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                }
            ],
        },
    }


async def test_an_instance_over_its_rss_threshold_is_told_and_resolved(
    sandbox: Sandbox, server: ServerProcess, kube: KubeCluster, hook: HttpReceiver
) -> None:
    system = f"al{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api:
        await register_cluster(api, sandbox, labels={"idc": "local"})
        group = await create_group(api, system, environment="test")
        deployed = await api.post(f"{group}/deploy", json={"spec": {"image": "registry.local/shop/web:1",
                                                                    "flavor": "tiny", "instances": 1}})  # fmt: skip
        assert deployed.status_code == 202, deployed.text
        assert (await operation_ended(api, deployed.json()["id"]))["status"] == "succeeded"
        channel = {"name": "robot", "kind": "webhook", "target": hook.url, "secret": SECRET}
        assert (await api.post(f"/api/v1/systems/{system}/channels", json=channel)).status_code == 201
        try:
            await kube.apply(hog(system))

            async def ready() -> float | Not:
                pod = await kube.get("v1", "Pod", "hog", namespace=system)
                return time.time() if condition(pod, "Ready") else Not(pod.get("status"))

            ready_at = await eventually(ready, "the instance ready", timeout=60)

            async def firing() -> float | Not:
                kinds = told(hook, "hog")
                return kinds[0][1] if kinds and kinds[0][0] == "firing" else Not(kinds)

            fired_at = await eventually(firing, "the RSS alert told", timeout=FIRE_WITHIN + 30)
            print(f"\nRSS alert told {fired_at - ready_at:.1f} s after the instance was ready")
            assert fired_at - ready_at <= FIRE_WITHIN
            for post in hook.posts:
                assert verify(SECRET, post.body, post.headers[SIGNATURE_HEADER])

            # The condition ends: the group's threshold is raised (a gauge, no rule file).
            raised = await api.put(f"{group}/alert-rules/rss", json={"threshold": 2.0, "reason": "expected"})
            assert raised.status_code == 200, raised.text
            ended_at = time.time()

            async def resolved() -> float | Not:
                kinds = told(hook, "hog")
                return kinds[-1][1] if kinds[-1][0] == "resolved" else Not(kinds)

            resolved_at = await eventually(resolved, "the resolution told", timeout=RESOLVE_WITHIN + 30)
            print(f"RSS alert resolved {resolved_at - ended_at:.1f} s after the threshold was raised")
            assert resolved_at - ended_at <= RESOLVE_WITHIN
            assert [k for k, _ in told(hook, "hog")] == ["firing", "resolved"]  # once each
            (alert,) = [a for a in (await api.get(f"/api/v1/systems/{system}/alerts")).json()
                        if a["labels"].get("pod") == "hog"]  # fmt: skip
            assert alert["status"] == "resolved"
            assert alert["labels"]["group"] == "prod"
        finally:
            await kube.delete("v1", "Namespace", system)


HELD_MIB = 80  # over 0.2 × tiny's 256 MiB = 51.2 MiB
HOLD = 80  # seconds the process holds it: longer than firing may take (45 s)


def holder(system: str, name: str, nodes: RealNodes, hold: int) -> dict[str, Any]:
    """An instance of shop/web/prod on the real node where ``dd`` holds a ``HELD_MIB`` MiB buffer (filled
    from /dev/zero, so resident) while it waits to write it to ``sleep``, which never reads: for ``hold``
    seconds, then the pipe closes and dd exits (its memory goes with it); the container then sleeps."""
    fill = f"dd if=/dev/zero bs={HELD_MIB * 2**20} count=1 2>/dev/null | sleep {hold}; exec sleep 3600"
    pod = hog(system)
    pod["metadata"] = {**pod["metadata"], "name": name, "annotations": {}}
    pod["spec"] = {
        **pod["spec"],
        "nodeSelector": {"kubernetes.io/hostname": nodes.names[0]},
        "tolerations": [{"key": "dockyard.io/pool", "value": nodes.pool, "effect": "NoSchedule"}],
        "terminationGracePeriodSeconds": 1,
    }
    pod["spec"]["containers"] = [
        {**pod["spec"]["containers"][0], "image": nodes.web_image, "command": ["sh", "-c", fill]}
    ]
    return pod


STAGES = {
    "cAdvisor's rss sample": 'container_memory_rss{{namespace="{ns}",pod="{pod}",container!=""}} > 0',
    "cAdvisor's rss over half the held": 'container_memory_rss{{namespace="{ns}",pod="{pod}",container!=""}}'
    + f" > {HELD_MIB * 2**19}",
    "the instance in the join table": 'dockyard_instance_info{{namespace="{ns}",pod="{pod}"}}',
    "the recorded rss": 'instance:container_memory_rss:sum{{namespace="{ns}",pod="{pod}"}}',
    "the alert pending": 'ALERTS{{alertname="DockyardInstanceRSSHigh",pod="{pod}",alertstate="pending"}}',
    "the alert firing": 'ALERTS{{alertname="DockyardInstanceRSSHigh",pod="{pod}",alertstate="firing"}}',
}


async def timeline(
    sandbox: Sandbox, namespace: str, pod: str, since: float, told_at: float, *, last: bool = False
) -> str:
    """When each stage of the pipeline first (``last``: last) had ``pod`` in Prometheus, in seconds
    after ``since`` (to the second): where the time between a change and the webhook went."""
    url = f"http://127.0.0.1:{sandbox.ports.prometheus}/api/v1/query_range"
    out = []
    async with httpx.AsyncClient(timeout=30.0) as prom:
        for stage, query in STAGES.items():
            params = {"query": query.format(ns=namespace, pod=pod), "start": since - 30, "end": told_at, "step": 1}
            result = (await prom.get(url, params=params)).json()["data"]["result"]
            seen = [float(v[0]) for r in result for v in r["values"]]
            at = (max if last else min)(seen, default=None)
            out.append(f"{stage} {at - since:+.0f} s" if at is not None else f"{stage} never")
    return f"timeline ({'last' if last else 'first'} seen): " + "; ".join(out) + f"; told {told_at - since:+.0f} s"


def mailed(sink: SmtpSink, pod: str) -> list[str]:
    """The states (FIRING, RESOLVED) of the e-mails about ``pod`` (its labels are in the body)."""
    out = []
    for message in sink.messages:
        raw = message.get_payload(decode=True)
        text = raw.decode(errors="replace") if isinstance(raw, bytes) else str(message)
        if f"pod={pod}," in text or f"pod={pod}\n" in text:
            out.append(str(message["Subject"]).split("]")[1].strip(" ["))
    return out


async def test_a_real_process_over_its_rss_threshold_is_told_once_resolved_and_silenced(
    sandbox: Sandbox,
    server: ServerProcess,
    kube: KubeCluster,
    hook: HttpReceiver,
    sink: SmtpSink,
    real_nodes: RealNodes,
) -> None:
    system = f"ar{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=server.url, headers=ADMIN, timeout=30.0) as api:
        await register_cluster(api, sandbox, labels={"idc": "local"})
        group = await create_group(api, system, environment="test")
        deployed = await api.post(f"{group}/deploy", json={"spec": {"image": "registry.local/shop/web:1",
                                                                    "flavor": "tiny", "instances": 1}})  # fmt: skip
        assert deployed.status_code == 202, deployed.text
        assert (await operation_ended(api, deployed.json()["id"]))["status"] == "succeeded"
        for channel in (
            {"name": "robot", "kind": "webhook", "target": hook.url, "secret": SECRET},
            {"name": "oncall", "kind": "email", "target": "oncall@example.org"},
        ):
            assert (await api.post(f"/api/v1/systems/{system}/channels", json=channel)).status_code == 201
        lowered = await api.put(f"{group}/alert-rules/rss", json={"threshold": 0.2, "reason": "a small process"})
        assert lowered.status_code == 200, lowered.text
        try:
            await kube.apply(holder(system, "holder", real_nodes, HOLD))

            async def ready(name: str) -> tuple[float, float] | Not:
                pod = await kube.get("v1", "Pod", name, namespace=system)
                if not condition(pod, "Ready"):
                    return Not(pod.get("status"))
                started = pod["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
                return time.time(), dt.datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()

            ready_at, started_at = await eventually(lambda: ready("holder"), "the real instance ready", timeout=120)

            async def firing() -> float | Not:
                kinds = told(hook, "holder")
                return kinds[0][1] if kinds and kinds[0][0] == "firing" else Not(kinds)

            fired_at = await eventually(firing, "the RSS alert told", timeout=FIRE_WITHIN + 30)
            print(f"\nreal process: RSS alert told {fired_at - ready_at:.1f} s after the instance was ready")
            print(await timeline(sandbox, system, "holder", ready_at, fired_at))
            assert fired_at - ready_at <= FIRE_WITHIN
            left = max(1.0, ready_at + FIRE_WITHIN - time.time())
            await eventually(lambda: mailed(sink, "holder") == ["FIRING"] or Not(mailed(sink, "holder")),
                             "the RSS alert mailed", timeout=left)  # fmt: skip
            for post in hook.posts:
                assert verify(SECRET, post.body, post.headers[SIGNATURE_HEADER])

            # The process lets go of its memory HOLD s after it started (the second it started is rounded down).
            ended_at = started_at + HOLD

            async def resolved() -> float | Not:
                kinds = told(hook, "holder")
                return kinds[-1][1] if kinds[-1][0] == "resolved" else Not(kinds)

            resolved_at = await eventually(resolved, "the resolution told", timeout=HOLD + RESOLVE_WITHIN + 30)
            print(f"real process: RSS alert resolved {resolved_at - ended_at:.1f} s after the memory was let go")
            print(await timeline(sandbox, system, "holder", ended_at, resolved_at, last=True))
            assert resolved_at - ended_at <= RESOLVE_WITHIN
            assert [k for k, _ in told(hook, "holder")] == ["firing", "resolved"]  # once each
            await eventually(lambda: mailed(sink, "holder") == ["FIRING", "RESOLVED"] or Not(mailed(sink, "holder")),
                             "the resolution mailed", timeout=30)  # fmt: skip

            # A silence of the next one holds it back while it lasts, then expires by itself and it is told.
            silence = {"matchers": [{"name": "alertname", "value": "DockyardInstanceRSSHigh"},
                                    {"name": "pod", "value": "silenced"}],
                       "duration_seconds": 75, "reason": "a known leak, fixed tomorrow"}  # fmt: skip
            made = await api.post(f"/api/v1/systems/{system}/silences", json=silence)
            assert made.status_code == 201, made.text
            until = time.time() + 75
            await kube.apply(holder(system, "silenced", real_nodes, 400))
            await eventually(lambda: ready("silenced"), "the second real instance ready", timeout=120)
            while time.time() < until - 2:
                assert told(hook, "silenced") == []
                assert mailed(sink, "silenced") == []
                await asyncio.sleep(2.0)

            async def told_after() -> float | Not:
                kinds = told(hook, "silenced")
                return kinds[0][1] if kinds else Not(kinds)

            after = await eventually(told_after, "the alert told once the silence expired", timeout=60)
            assert after >= until - 2
            assert [k for k, _ in told(hook, "silenced")] == ["firing"]
        finally:
            await kube.delete("v1", "Namespace", system)
