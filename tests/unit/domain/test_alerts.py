"""Alertmanager's webhook body, what an episode's channels are told, signatures, channels' input."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from dockyard.domain.alerts import (
    Alert,
    backoff,
    check_channel,
    email_message,
    parse_webhook,
    payload,
    sign,
    to_tell,
    verify,
)
from dockyard.domain.errors import InvalidInput


def body(**alert: Any) -> dict[str, Any]:
    base = {
        "status": "firing",
        "labels": {"alertname": "DockyardInstanceRSSHigh", "system": "shop", "app": "web", "group": "prod"},
        "annotations": {"summary": "s"},
        "startsAt": "2026-12-02T10:16:39.054930003Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "799e873b644a882b",
    }
    return {"version": "4", "status": "firing", "alerts": [{**base, **alert}]}


def test_a_webhook_body_is_read() -> None:
    (alert,) = parse_webhook(body())
    assert (alert.fingerprint, alert.status, alert.system) == ("799e873b644a882b", "firing", "shop")
    assert alert.starts_at == dt.datetime(2026, 12, 2, 10, 16, 39, 54930, tzinfo=dt.UTC)  # nanoseconds cut
    assert alert.ends_at is None  # Alertmanager's "no end yet"
    (resolved,) = parse_webhook(body(status="resolved", endsAt="2026-12-02T10:20:00Z"))
    assert resolved.ends_at == dt.datetime(2026, 12, 2, 10, 20, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "body"),
        ({**body(), "version": "3"}, "version"),
        ({**body(), "alerts": {}}, "alerts"),
        (body(fingerprint="ZZ"), "alerts[0].fingerprint"),
        (body(status="pending"), "alerts[0].status"),
        (body(labels={"system": "shop"}), "alerts[0].labels"),
        (body(labels={"alertname": "A", "n": 1}), "alerts[0].labels"),
        (body(startsAt="yesterday"), "alerts[0].startsAt"),
        (body(startsAt="2026-12-02T10:00:00"), "alerts[0].startsAt"),  # no zone
        (body(endsAt=5), "alerts[0].endsAt"),
        (body(annotations=[]), "alerts[0].annotations"),
    ],
)
def test_a_malformed_body_names_the_field(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        parse_webhook(raw)
    assert e.value.field == field


@pytest.mark.parametrize(
    ("told", "now", "expected"),
    [
        (set(), "firing", ["firing"]),  # a new episode
        ({"firing"}, "firing", []),  # Alertmanager repeats it: nobody is told twice
        ({"firing"}, "resolved", ["resolved"]),
        ({"firing", "resolved"}, "resolved", []),  # a duplicated delivery
        (set(), "resolved", ["firing", "resolved"]),  # fired and resolved between two deliveries
        ({"firing", "resolved"}, "firing", []),  # (the same start again: still the same episode)
    ],
)
def test_what_an_episode_tells(told: set[str], now: str, expected: list[str]) -> None:
    assert to_tell(frozenset(told), now) == expected  # type: ignore[arg-type]


def test_the_signature_is_hmac_sha256_of_the_exact_body() -> None:
    # RFC 4231 test case 2
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )
    assert verify("Jefe", b"what do ya want for nothing?", sign("Jefe", b"what do ya want for nothing?"))
    assert not verify("Jefe", b"what do ya want for nothing!", sign("Jefe", b"what do ya want for nothing?"))


ALERT = Alert(
    1, "799e873b644a882b", "shop", "web", "prod", "DockyardInstanceRSSHigh", "firing",
    {"alertname": "DockyardInstanceRSSHigh", "pod": "web-1"}, {"summary": "rss at 95%"},
    dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC), None, dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC),
    dt.datetime(2026, 12, 2, 10, tzinfo=dt.UTC),
)  # fmt: skip


def test_messages() -> None:
    sent = json.loads(payload(ALERT, "firing", system="shop", channel="robot"))
    assert sent["alert"]["labels"]["pod"] == "web-1"
    assert sent["kind"] == "firing"
    assert json.loads(payload(None, "test", system="shop", channel="robot"))["kind"] == "test"
    subject, text = email_message(ALERT, "resolved", system="shop")
    assert subject == "[Dockyard] [RESOLVED] DockyardInstanceRSSHigh shop/web/prod"
    assert "rss at 95%" in text


def test_backoff_grows_and_is_bounded() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 20)] == [1, 2, 4, 8, 300]


@pytest.mark.parametrize(
    ("name", "kind", "target", "field"),
    [
        ("Robot", "webhook", "https://h/x", "name"),
        ("robot", "sms", "x", "kind"),
        ("robot", "webhook", "file:///etc/passwd", "target"),
        ("robot", "webhook", "https://user:pw@h/x", "target"),
        ("robot", "email", "a@b.org, nope", "target"),
        ("robot", "email", ",".join(f"a{i}@b.org" for i in range(21)), "target"),
    ],
)
def test_channel_input(name: str, kind: str, target: str, field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        check_channel(name, kind, target)
    assert e.value.field == field


def test_a_channel_target_is_normalised() -> None:
    assert check_channel("oncall", "email", " a@b.org , c@d.org") == ("oncall", "email", "a@b.org,c@d.org")
