"""Alerts end to end through a real Alertmanager (Debian's, started with the sandbox's configuration):
alerts posted to it as Prometheus does reach Dockyard's webhook, its history and the channels — a
local HTTP receiver checking the signature and an SMTP sink — once; resolved ones are told; a silence
made through Dockyard holds an alert back and expires by itself. Thresholds change no rule file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.domain.alerts import SIGNATURE_HEADER, verify
from dockyard.monitoring import rules_dir
from tests.integration.harness.alerting import Listening, RunningAlertmanager, alertmanager, listening
from tests.integration.harness.cli import run
from tests.integration.harness.sandboxes import free_port
from tests.integration.harness.servers import settings
from tests.integration.harness.tokens import ADMIN_TOKEN, user_with_token
from tests.integration.harness.waiting import Not, eventually
from tests.receivers import HttpReceiver, SmtpSink, http_receiver, smtp_sink

SECRET = "integration-channel-secret-4f1"
RULE_FILE = rules_dir() / "alerts.yml"
FAR_KUBECONFIG = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1', certificate-authority-data: Q0EK}}]\n"
    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
)


@pytest.fixture(scope="module")
def manager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAlertmanager]:
    with alertmanager(tmp_path_factory.mktemp("alertmanager")) as running:
        yield running


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, SmtpSink]]:
    with http_receiver() as hook, smtp_sink() as sink:
        yield hook, sink


@pytest.fixture
async def server(
    manager: RunningAlertmanager, database_url: str, tmp_path: Path, receivers: tuple[HttpReceiver, SmtpSink]
) -> AsyncIterator[tuple[Listening, str]]:
    """A listening server Alertmanager sends to, with a system of the test's own and its two channels."""
    hook, sink = receivers
    config = settings(
        database_url, tmp_path, port=free_port(), alertmanager_url=manager.url,
        alertmanager_webhook_token=manager.token, smtp_host="127.0.0.1", smtp_port=sink.port, silence_max_hours=1.0,
    )  # fmt: skip
    async with listening(config) as running:
        manager.point_at(f"{running.url}/api/v1/alerts/webhook")
        system = f"shop-{uuid.uuid4().hex[:8]}"
        assert (await running.http.post("/api/v1/systems", json={"name": system})).status_code == 201
        channels = [
            {"name": "robot", "kind": "webhook", "target": hook.url, "secret": SECRET},
            {"name": "oncall", "kind": "email", "target": "oncall@example.org"},
        ]
        for channel in channels:
            made = await running.http.post(f"/api/v1/systems/{system}/channels", json=channel)
            assert made.status_code == 201, made.text
        yield running, system


def labels(system: str, alertname: str = "DockyardInstanceRSSHigh") -> dict[str, str]:
    return {"alertname": alertname, "system": system, "app": "web", "group": "prod", "pod": "web-1",
            "severity": "warning"}  # fmt: skip


def kinds(hook: HttpReceiver, alertname: str) -> list[str]:
    out = []
    for post in hook.posts:
        sent = json.loads(post.body)
        if sent.get("alert", {}).get("name") == alertname:
            out.append(sent["kind"])
    return out


@pytest.mark.both_databases
async def test_an_alert_reaches_history_and_channels_once_and_its_resolution_too(
    manager: RunningAlertmanager, server: tuple[Listening, str], receivers: tuple[HttpReceiver, SmtpSink]
) -> None:
    running, system = server
    hook, sink = receivers
    for _ in range(3):  # Prometheus sends a firing alert again at every evaluation
        await manager.fire(labels(system))
    await eventually(lambda: kinds(hook, "DockyardInstanceRSSHigh") == ["firing"] or Not(hook.posts), "told firing",
                     timeout=30)  # fmt: skip
    await eventually(lambda: len(sink.messages) == 1 or Not(len(sink.messages)), "mailed firing", timeout=30)
    for post in hook.posts:
        assert verify(SECRET, post.body, post.headers[SIGNATURE_HEADER])
    await manager.fire(labels(system), ends_in=0)  # resolved
    await eventually(lambda: kinds(hook, "DockyardInstanceRSSHigh") == ["firing", "resolved"] or Not(hook.posts),
                     "told resolved", timeout=40)  # fmt: skip
    await eventually(lambda: len(sink.messages) == 2 or Not(len(sink.messages)), "mailed resolved", timeout=30)
    assert [m["Subject"].split("]")[1].strip(" [") for m in sink.messages] == ["FIRING", "RESOLVED"]

    async def history() -> list[dict[str, Any]] | Not:
        answer = (await running.http.get(f"/api/v1/systems/{system}/alerts")).json()
        told = sorted((t["channel"], t["kind"], t["state"]) for a in answer for t in a["told"])
        return answer if len(told) == 4 and {t[2] for t in told} == {"sent"} else Not(answer)

    (alert,) = await eventually(history, "the history with who was told")
    assert (alert["name"], alert["status"], alert["app"], alert["group"]) == (
        "DockyardInstanceRSSHigh", "resolved", "web", "prod"
    )  # fmt: skip


async def test_a_silence_holds_an_alert_back_and_expires_by_itself(
    manager: RunningAlertmanager, server: tuple[Listening, str], receivers: tuple[HttpReceiver, SmtpSink]
) -> None:
    running, system = server
    hook, _ = receivers
    base = f"/api/v1/systems/{system}/silences"
    body = {"matchers": [{"name": "alertname", "value": "DockyardGroupBelowWanted"}], "duration_seconds": 12,
            "reason": "maintenance of the prod group"}  # fmt: skip
    made = await running.http.post(base, json=body)
    assert made.status_code == 201, made.text
    silence = made.json()
    assert silence["owner"] == "admin"
    assert {"name": "system", "value": system, "equal": True} in silence["matchers"]
    listed = (await running.http.get(base)).json()
    assert [(s["id"], s["reason"], s["state"]) for s in listed] == [(silence["id"], body["reason"], "active")]

    name = "DockyardGroupBelowWanted"
    await manager.fire(labels(system, name))
    # held back while the silence lasts (group_wait is 5 s; the silence 12 s)
    for _ in range(8):
        await manager.fire(labels(system, name))
        assert kinds(hook, name) == []
        await asyncio.sleep(1.0)

    async def told() -> list[str] | Not:
        await manager.fire(labels(system, name))  # Prometheus keeps sending it
        return kinds(hook, name) or Not(hook.posts)

    assert await eventually(told, "the alert told once the silence expired", timeout=40) == ["firing"]
    expired = (await running.http.get(base, params={"expired": "true"})).json()
    assert [(s["id"], s["state"]) for s in expired] == [(silence["id"], "expired")]
    assert (await running.http.get(base)).json() == []


async def test_silences_are_checked_and_scoped_to_the_system(server: tuple[Listening, str]) -> None:
    running, system = server
    base = f"/api/v1/systems/{system}/silences"
    good = {"matchers": [{"name": "app", "value": "web"}], "duration_seconds": 60, "reason": "deploying"}
    cases = [
        ({**good, "duration_seconds": 3601}, "duration_seconds"),  # the maximum here is 1 hour
        ({**good, "matchers": [{"name": "system", "value": "other"}]}, "matchers[0].name"),
        ({**good, "matchers": [{"name": "app", "value": ".*", "isRegex": True}]}, "matchers[0]"),
        ({**good, "matchers": [{"name": "bad-name", "value": "x"}]}, "matchers[0].name"),
        ({**good, "matchers": []}, "matchers"),
        ({**good, "reason": " "}, "reason"),
    ]
    for body, field in cases:
        answer = await running.http.post(base, json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert field in answer.json()["details"].get("field", "") + answer.text, (body, answer.text)
    made = (await running.http.post(base, json=good)).json()
    other = f"other-{uuid.uuid4().hex[:6]}"
    assert (await running.http.post("/api/v1/systems", json={"name": other})).status_code == 201
    user = f"o-{uuid.uuid4().hex[:6]}"
    headers = await user_with_token(running.http, user)
    assert (
        await running.http.put(f"/api/v1/systems/{other}/members/{user}", json={"role": "owner"})
    ).status_code == 201
    # the other system's owner: sees no silence of this system, cannot expire it through their own system
    assert (await running.http.get(base, headers=headers)).status_code == 404
    assert (await running.http.get(f"/api/v1/systems/{other}/silences", headers=headers)).json() == []
    gone = await running.http.delete(f"/api/v1/systems/{other}/silences/{made['id']}", headers=headers)
    assert gone.status_code == 404
    assert (await running.http.delete(f"{base}/{made['id']}")).status_code == 204
    assert (await running.http.get(base)).json() == []


async def test_a_threshold_change_shows_in_the_series_and_changes_no_rule_file(server: tuple[Listening, str]) -> None:
    running, system = server
    # A group on a cluster nothing answers at: thresholds need the group, not its instances.
    far = {"name": "far", "kubeconfig": FAR_KUBECONFIG}
    assert (await running.http.put("/api/v1/clusters/far", json=far)).status_code == 201
    assert (
        await running.http.post(f"/api/v1/systems/{system}/apps", json={"name": "web", "repository": "r.local/web"})
    ).status_code == 201
    group = {"name": "prod", "environment": "test", "cluster": "far"}
    assert (await running.http.post(f"/api/v1/systems/{system}/apps/web/groups", json=group)).status_code == 201
    rules_before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in RULE_FILE.parent.iterdir()}
    series = f'dockyard_alert_threshold{{app="web",group="prod",rule="rss",system="{system}"}}'

    async def value() -> str:
        text = (await running.http.get("/metrics")).text
        return next(line.split()[-1] for line in text.splitlines() if line.startswith(series))

    assert await value() == "0.9"
    changed = await running.http.put(
        f"/api/v1/systems/{system}/apps/web/groups/prod/alert-rules/rss", json={"threshold": 0.42}
    )
    assert changed.status_code == 200, changed.text
    assert await value() == "0.42"
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in RULE_FILE.parent.iterdir()} == rules_before


async def test_the_cli(server: tuple[Listening, str], receivers: tuple[HttpReceiver, SmtpSink], tmp_path: Path) -> None:
    running, system = server
    hook, _ = receivers
    env = {"DOCKYARD_SERVER": running.url, "DOCKYARD_TOKEN": ADMIN_TOKEN}

    async def cli(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(run, env, *args, ok=ok)

    secret = tmp_path / "secret"
    secret.write_text("cli-channel-secret-0123456789\n")
    await cli("channels", "add", system, "cli-robot", "--webhook", hook.url, "--secret-file", str(secret))
    listed = await cli("channels", "list", system)
    assert "cli-robot" in listed.stdout
    assert "cli-channel-secret" not in listed.stdout
    tested = await cli("channels", "test", system, "cli-robot")
    assert "sent" in tested.stdout
    assert verify("cli-channel-secret-0123456789", hook.posts[-1].body, hook.posts[-1].headers[SIGNATURE_HEADER])
    missing = await cli("channels", "add", system, "x", "--webhook", hook.url, ok=False)
    assert missing.returncode != 0
    assert "secret" in missing.stderr

    too_long = await cli("alerts", "silence", system, "--match", "app=web", "--for", "2h", "--reason", "r", ok=False)
    assert too_long.returncode != 0
    assert "duration_seconds" in too_long.stderr
    assert len(too_long.stderr.strip().splitlines()) == 1
    made = await cli("alerts", "silence", system, "--match", "app=web", "--for", "30m", "--reason", "deploying",
                     "-o", "json")  # fmt: skip
    silence_id = json.loads(made.stdout)["id"]
    assert silence_id in (await cli("alerts", "silences", system)).stdout
    await cli("alerts", "unsilence", system, silence_id)
    assert silence_id not in (await cli("alerts", "silences", system)).stdout
    assert (await cli("alerts", "list", system, "-o", "json")).stdout.strip() == "[]"
    defaults = await cli("alert-rules", "list", system, "--defaults")
    assert "DockyardInstanceRSSHigh" in defaults.stdout
    bad = await cli("alert-rules", "set", f"{system}/web", "rss", ok=False)
    assert "--threshold" in bad.stderr
