"""Alertmanager's webhook → history → channels: authenticated by its own credential, each alert told
once per channel as firing and once as resolved, webhook bodies signed, the secret never shown; a
test action; who may see what. The notifier runs in the server (executor on)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dockyard.domain.alerts import SIGNATURE_HEADER, verify
from tests.receivers import HttpReceiver, SmtpSink, http_receiver, smtp_sink
from tests.unit.api.alerting_world import AUTH, ok, user, world_client

S = "/api/v1/systems/shop"
AM_TOKEN = "alertmanager-credential-0123456789abcdef"
AM = {"Authorization": f"Bearer {AM_TOKEN}"}
CHANNEL_SECRET = "channel-secret-Zq9-never-shown"


@pytest.fixture
def receivers() -> Iterator[tuple[HttpReceiver, SmtpSink]]:
    with http_receiver() as hook, smtp_sink() as sink:
        yield hook, sink


@pytest.fixture
def world(tmp_path: Path, receivers: tuple[HttpReceiver, SmtpSink]) -> Iterator[TestClient]:
    _, sink = receivers
    yield from world_client(
        tmp_path,
        executor=True,
        alertmanager_webhook_token=AM_TOKEN,
        smtp_host="127.0.0.1",
        smtp_port=sink.port,
        smtp_from="dockyard@example.org",
    )


def body(status: str, *, fingerprint: str = "799e873b644a882b", system: str = "shop") -> dict[str, Any]:
    ends = "0001-01-01T00:00:00Z" if status == "firing" else "2026-12-02T10:20:00.5Z"
    alert = {
        "status": status,
        "labels": {"alertname": "DockyardInstanceRSSHigh", "system": system, "app": "web", "group": "prod",
                   "pod": "web-1", "severity": "warning"},
        "annotations": {"summary": "shop/web/prod web-1: rss at 95% of its flavor"},
        "startsAt": "2026-12-02T10:16:39.054930003Z",
        "endsAt": ends,
        "generatorURL": "",
        "fingerprint": fingerprint,
    }  # fmt: skip
    return {"receiver": "dockyard", "status": status, "alerts": [alert], "version": "4", "groupKey": "{}:{}"}


def eventually(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def channels(world: TestClient, hook: HttpReceiver) -> None:
    webhook = {"name": "robot", "kind": "webhook", "target": hook.url, "secret": CHANNEL_SECRET}
    ok(world.post(f"{S}/channels", json=webhook, headers=AUTH), 201)
    mail = {"name": "oncall", "kind": "email", "target": "oncall@example.org, lead@example.org"}
    ok(world.post(f"{S}/channels", json=mail, headers=AUTH), 201)


def test_the_webhook_takes_only_alertmanager_credential(world: TestClient) -> None:
    assert world.post("/api/v1/alerts/webhook", json=body("firing")).status_code == 401
    assert world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AUTH).status_code == 401  # an admin
    wrong = {"Authorization": "Bearer " + AM_TOKEN[:-1] + "x"}
    assert world.post("/api/v1/alerts/webhook", json=body("firing"), headers=wrong).status_code == 401
    assert ok(world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AM)).json() == {"queued": 0}
    trail = ok(world.get("/api/v1/audit", params={"action": "alertmanager_webhook"}, headers=AUTH)).json()["items"]
    assert [(e["actor"], e["outcome"]) for e in trail][:4] == [
        ("alertmanager", "allowed"), ("", "denied"), ("", "denied"), ("", "denied")
    ]  # fmt: skip
    bad = body("firing")
    bad["alerts"][0]["fingerprint"] = "not hex!"
    answer = world.post("/api/v1/alerts/webhook", json=bad, headers=AM)
    assert answer.status_code == 422
    assert "alerts[0].fingerprint" in answer.text


def test_alerts_are_told_once_each_and_resolved_too(
    world: TestClient, receivers: tuple[HttpReceiver, SmtpSink], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    hook, sink = receivers
    channels(world, hook)
    for _ in range(3):  # Alertmanager repeats a firing alert with each group notification
        ok(world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AM))
    eventually(lambda: len(hook.posts) >= 1 and len(sink.messages) >= 1, "the firing alert told")
    ok(world.post("/api/v1/alerts/webhook", json=body("resolved"), headers=AM))
    ok(world.post("/api/v1/alerts/webhook", json=body("resolved"), headers=AM))
    eventually(lambda: len(hook.posts) >= 2 and len(sink.messages) >= 2, "the resolved alert told")
    time.sleep(2.5)  # a notifier round or two more: nothing else arrives
    assert [json.loads(p.body)["kind"] for p in hook.posts] == ["firing", "resolved"]
    assert [m["Subject"] for m in sink.messages] == [
        "[Dockyard] [FIRING] DockyardInstanceRSSHigh shop/web/prod",
        "[Dockyard] [RESOLVED] DockyardInstanceRSSHigh shop/web/prod",
    ]
    assert sink.messages[0]["To"] == "oncall@example.org, lead@example.org"
    for post in hook.posts:
        assert verify(CHANNEL_SECRET, post.body, post.headers[SIGNATURE_HEADER])
        assert not verify("another secret", post.body, post.headers[SIGNATURE_HEADER])
    sent = json.loads(hook.posts[0].body)
    assert sent["alert"]["labels"]["pod"] == "web-1"
    assert sent["system"] == "shop"

    (alert,) = ok(world.get(f"{S}/alerts", headers=AUTH)).json()
    assert alert["status"] == "resolved"
    assert alert["ends_at"].startswith("2026-12-02T10:20:00.5")
    told = sorted((t["channel"], t["kind"], t["state"]) for t in alert["told"])
    assert told == [
        ("oncall", "firing", "sent"), ("oncall", "resolved", "sent"),
        ("robot", "firing", "sent"), ("robot", "resolved", "sent"),
    ]  # fmt: skip
    assert ok(world.get(f"{S}/alerts", params={"state": "firing"}, headers=AUTH)).json() == []
    assert ok(world.get(f"{S}/alerts/{alert['id']}", headers=AUTH)).json()["fingerprint"] == "799e873b644a882b"
    # the secret: in no answer, no log line
    listed = ok(world.get(f"{S}/channels", headers=AUTH))
    assert CHANNEL_SECRET not in listed.text
    assert {c["has_secret"] for c in listed.json()} == {True, False}
    assert CHANNEL_SECRET not in caplog.text
    audit = ok(world.get("/api/v1/audit", params={"system": "shop"}, headers=AUTH))
    assert CHANNEL_SECRET not in audit.text


def test_an_alert_id_out_of_the_databases_range_is_422_not_a_crash(world: TestClient) -> None:
    answer = world.get(f"{S}/alerts/16935399040526749696", headers=AUTH)  # schemathesis: SQLite overflowed
    assert (answer.status_code, answer.json()["details"]["field"]) == (422, "alert_id"), answer.text
    assert world.get(f"{S}/alerts/2147483647", headers=AUTH).status_code == 404


def test_a_new_episode_of_the_same_alert_is_told_again(
    world: TestClient, receivers: tuple[HttpReceiver, SmtpSink]
) -> None:
    hook, _ = receivers
    channels(world, hook)
    ok(world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AM))
    again = body("firing")
    again["alerts"][0]["startsAt"] = "2026-12-02T11:00:00Z"
    ok(world.post("/api/v1/alerts/webhook", json=again, headers=AM))
    eventually(lambda: len(hook.posts) >= 2, "both episodes told")
    assert len(ok(world.get(f"{S}/alerts", headers=AUTH)).json()) == 2


def test_a_failing_receiver_is_retried_and_the_error_holds_no_secret(
    world: TestClient, receivers: tuple[HttpReceiver, SmtpSink]
) -> None:
    hook, _ = receivers
    hook.status = 500
    target = hook.url + "?token=receiver-token-in-query"
    ok(world.post(f"{S}/channels", json={"name": "robot", "kind": "webhook", "target": target,
                                         "secret": CHANNEL_SECRET}, headers=AUTH), 201)  # fmt: skip
    ok(world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AM))
    eventually(lambda: len(hook.posts) >= 1, "a first attempt")
    hook.status = 200
    eventually(lambda: len(hook.posts) >= 2, "a retry", timeout=30)
    (alert,) = ok(world.get(f"{S}/alerts", headers=AUTH)).json()

    def sent() -> bool:
        (a,) = ok(world.get(f"{S}/alerts", headers=AUTH)).json()
        return a["told"][0]["state"] == "sent"

    eventually(sent, "the delivery recorded as sent")
    (alert,) = ok(world.get(f"{S}/alerts", headers=AUTH)).json()
    assert alert["told"][0]["attempts"] == 2
    assert hook.posts[0].body == hook.posts[1].body  # the same notification, not a new one


def test_send_a_test(world: TestClient, receivers: tuple[HttpReceiver, SmtpSink]) -> None:
    hook, sink = receivers
    channels(world, hook)
    robot = ok(world.post(f"{S}/channels/robot/test", headers=AUTH)).json()
    assert (robot["kind"], robot["state"], robot["error"]) == ("test", "sent", "")
    assert json.loads(hook.posts[-1].body)["kind"] == "test"
    assert verify(CHANNEL_SECRET, hook.posts[-1].body, hook.posts[-1].headers[SIGNATURE_HEADER])
    mail = ok(world.post(f"{S}/channels/oncall/test", headers=AUTH)).json()
    assert mail["state"] == "sent"
    assert sink.messages[-1]["Subject"] == "[Dockyard] shop: test notification"
    assert world.post(f"{S}/channels/nope/test", headers=AUTH).status_code == 404


def test_channel_input_is_checked(world: TestClient) -> None:
    cases = [
        ({"name": "Bad Name", "kind": "email", "target": "a@b.org"}, "name"),
        ({"name": "x", "kind": "sms", "target": "a@b.org"}, "kind"),
        ({"name": "x", "kind": "email", "target": "not-an-address"}, "target"),
        ({"name": "x", "kind": "webhook", "target": "ftp://h/x", "secret": CHANNEL_SECRET}, "target"),
        ({"name": "x", "kind": "webhook", "target": "http://u:p@h/x", "secret": CHANNEL_SECRET}, "target"),
        ({"name": "x", "kind": "webhook", "target": "http://h/x"}, "secret"),
        ({"name": "x", "kind": "webhook", "target": "http://h/x", "secret": "short"}, "secret"),
        ({"name": "x", "kind": "email", "target": "a@b.org", "secret": CHANNEL_SECRET}, "secret"),
    ]
    for sent, field in cases:
        answer = world.post(f"{S}/channels", json=sent, headers=AUTH)
        assert answer.status_code == 422, (sent, answer.text)
        assert field in answer.text, (sent, answer.text)
        assert CHANNEL_SECRET not in answer.text
    mail = {"name": "oncall", "kind": "email", "target": "a@b.org"}
    ok(world.post(f"{S}/channels", json=mail, headers=AUTH), 201)
    assert world.post(f"{S}/channels", json=mail, headers=AUTH).status_code == 409
    assert world.delete(f"{S}/channels/oncall", headers=AUTH).status_code == 204
    assert world.delete(f"{S}/channels/oncall", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:9/hook",  # loopback (allowed in this world: see below)
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data",  # the clouds' metadata service
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://[::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:172.16.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_a_webhook_into_internal_networks_is_refused(tmp_path: Path, target: str) -> None:
    for world in world_client(tmp_path, channel_allowed_networks=[]):
        sent = {"name": "x", "kind": "webhook", "target": target, "secret": CHANNEL_SECRET}
        answer = world.post(f"{S}/channels", json=sent, headers=AUTH)
        assert answer.status_code == 422, answer.text
        assert answer.json()["details"]["field"] == "target"
        assert "internal" in answer.json()["message"] or "loopback" in answer.json()["message"]
        assert world.get(f"{S}/channels", headers=AUTH).json() == []


def test_an_allowed_network_is_reached_and_a_refused_one_is_not_sent_to(
    world: TestClient, receivers: tuple[HttpReceiver, SmtpSink]
) -> None:
    """The world allows 127.0.0.0/8 (as the administrator's setting would): the loopback receiver is
    told; a channel whose host is refused when it is sent to (as after a DNS change) is not."""
    hook, _ = receivers
    channels(world, hook)
    robot = ok(world.post(f"{S}/channels/robot/test", headers=AUTH)).json()
    assert robot["state"] == "sent"
    platform = world.app.state.platform
    platform.config = replace(platform.config, alerts=replace(platform.config.alerts, channel_allowed_networks=()))
    before = len(hook.posts)
    refused = ok(world.post(f"{S}/channels/robot/test", headers=AUTH)).json()
    assert refused["state"] != "sent"
    assert "internal" in refused["error"]
    assert len(hook.posts) == before


def test_another_system_sees_none_of_it(world: TestClient, receivers: tuple[HttpReceiver, SmtpSink]) -> None:
    hook, _ = receivers
    channels(world, hook)
    ok(world.post("/api/v1/alerts/webhook", json=body("firing"), headers=AM))
    stranger = user(world, "sam", system="other", role="owner")
    viewer = user(world, "vera", system="shop", role="viewer")
    for path in (f"{S}/alerts", f"{S}/channels", f"{S}/alerts/1", f"{S}/silences"):
        assert world.get(path, headers=stranger).status_code == 404, path
    assert world.post(f"{S}/channels/robot/test", headers=stranger).status_code == 404
    assert ok(world.get("/api/v1/systems/other/alerts", headers=stranger)).json() == []
    assert len(ok(world.get(f"{S}/alerts", headers=viewer)).json()) == 1
    assert world.post(f"{S}/channels/robot/test", headers=viewer).status_code == 403
    assert dt.datetime.now(dt.UTC)  # (the alert's history is the system's alone)


def test_silences_of_a_missing_system_are_404_before_asking_alertmanager(world: TestClient) -> None:
    # This world has no Alertmanager: a system that does not exist is still a 404, never a 503.
    for method in ("GET", "DELETE"):
        path = "/api/v1/systems/nosuch/silences" + ("/abc" if method == "DELETE" else "")
        answer = world.request(method, path, headers=AUTH)
        assert answer.status_code == 404, (method, answer.text)
    assert world.delete(f"{S}/silences/abc", headers=AUTH).status_code == 503
