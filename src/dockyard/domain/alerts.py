"""Alerts as Dockyard receives them from Alertmanager, the notification channels of a system, and
what is told to whom: pure decisions and shapes.

- :func:`parse_webhook` reads Alertmanager's webhook body (version "4") into :class:`Received` alerts;
  anything malformed is an :class:`InvalidInput` naming the field.
- An alert's *episode* is its fingerprint and ``startsAt``: Alertmanager repeats a firing alert with
  each group notification; an episode is told to each channel at most once as firing and once as
  resolved (:func:`to_tell`), so repeats and duplicated deliveries notify nobody twice.
- Channels: ``webhook`` (a generic JSON body signed with HMAC-SHA256 over the exact bytes sent:
  ``X-Dockyard-Signature: sha256=<hex>``; the secret is stored sealed and never shown) and ``email``.
- Sending is retried with :func:`backoff` up to :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from dockyard.domain.errors import InvalidInput

Status = Literal["firing", "resolved"]
ChannelKind = Literal["webhook", "email"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = ("webhook", "email")
SIGNATURE_HEADER = "X-Dockyard-Signature"
MAX_ATTEMPTS = 8
MAX_ALERTS = 1000  # per webhook body (Alertmanager's max_alerts is 0: all of a group)
_FINGERPRINT = re.compile(r"[0-9a-f]{1,32}")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}")
_CHANNEL_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?")
_NEVER = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert with no end yet


@dataclass(frozen=True)
class Received:
    """One alert of a webhook body."""

    fingerprint: str
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None

    @property
    def system(self) -> str:
        return self.labels.get("system", "")


@dataclass(frozen=True)
class Alert:
    """An alert episode as Dockyard keeps it (the history)."""

    id: int
    fingerprint: str
    system: str
    app: str
    group: str
    name: str  # the alertname
    status: Status
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    received_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class Channel:
    """Where a system's alerts are told: ``target`` is the webhook's URL or the e-mail addresses
    (comma-separated). ``secret`` (webhook only) is sealed; services open it only to sign."""

    id: int
    system: str
    name: str
    kind: ChannelKind
    target: str
    secret: str  # sealed; "" for e-mail
    created_by: str
    created_at: dt.datetime


@dataclass(frozen=True)
class Delivery:
    """One notification of an alert episode (or a test) to one channel, and how it went."""

    id: int
    alert_id: int | None  # None: a test
    channel: str
    kind: str  # firing | resolved | test
    state: str  # pending | sent | failed
    attempts: int
    error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def parse_webhook(body: Any) -> list[Received]:
    """Alertmanager's webhook body as alerts; InvalidInput naming the field otherwise."""
    if not isinstance(body, Mapping):
        raise InvalidInput("body", "must be a JSON object (Alertmanager's webhook, version 4)")
    if body.get("version") != "4":
        raise InvalidInput("version", 'must be "4"')
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or len(alerts) > MAX_ALERTS:
        raise InvalidInput("alerts", f"must be a list of at most {MAX_ALERTS} alerts")
    return [_alert(a, f"alerts[{i}]") for i, a in enumerate(alerts)]


def _alert(raw: Any, field: str) -> Received:
    if not isinstance(raw, Mapping):
        raise InvalidInput(field, "must be an object")
    fingerprint = raw.get("fingerprint")
    if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
        raise InvalidInput(f"{field}.fingerprint", "must be Alertmanager's hexadecimal fingerprint")
    status = raw.get("status")
    if status not in ("firing", "resolved"):
        raise InvalidInput(f"{field}.status", "must be firing or resolved")
    labels = _strings(raw.get("labels"), f"{field}.labels")
    if not labels.get("alertname"):
        raise InvalidInput(f"{field}.labels", "must hold an alertname")
    starts = _time(raw.get("startsAt"), f"{field}.startsAt")
    ends_raw = raw.get("endsAt")
    ends = None if ends_raw in (None, "", _NEVER) else _time(ends_raw, f"{field}.endsAt")
    return Received(
        fingerprint, status, labels, _strings(raw.get("annotations", {}), f"{field}.annotations"), starts, ends
    )


def _strings(raw: Any, field: str) -> dict[str, str]:
    if not isinstance(raw, Mapping) or len(raw) > 100:
        raise InvalidInput(field, "must be an object of at most 100 strings")
    out = {}
    for k, v in raw.items():
        if not isinstance(k, str) or not isinstance(v, str) or len(k) > 100 or len(v) > 4000:
            raise InvalidInput(field, "keys and values must be strings (keys ≤ 100, values ≤ 4000 characters)")
        out[k] = v
    return out


def _time(raw: Any, field: str) -> dt.datetime:
    if not isinstance(raw, str):
        raise InvalidInput(field, "must be an RFC 3339 time")
    try:
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as e:
        raise InvalidInput(field, "must be an RFC 3339 time") from e
    if parsed.tzinfo is None:
        raise InvalidInput(field, "must carry a time zone")
    # Alertmanager sends nanoseconds; Python keeps microseconds: the episode key is stable either way.
    return parsed.astimezone(dt.UTC)


def to_tell(told: frozenset[str], now: Status) -> list[Status]:
    """What an episode's channels are told when it arrives with status ``now``, given the kinds
    already queued for it (``told``): each kind once. A resolved episode seen for the first time (it
    fired and resolved between two deliveries) is told as firing, then as resolved."""
    out: list[Status] = []
    if "firing" not in told:
        out.append("firing")
    if now == "resolved" and "resolved" not in told:
        out.append("resolved")
    return out


def sign(secret: str, body: bytes) -> str:
    """The signature header's value of ``body``: ``sha256=`` and the HMAC-SHA256 in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is ``body``'s (constant time); for receivers and tests."""
    return hmac.compare_digest(sign(secret, body), signature)


def payload(alert: Alert | None, kind: str, *, system: str, channel: str) -> bytes:
    """The webhook channel's JSON body: the alert (None: a test message), compact, keys sorted."""
    data: dict[str, Any] = {"kind": kind, "system": system, "channel": channel}
    if alert is not None:
        data["alert"] = {
            "id": alert.id,
            "fingerprint": alert.fingerprint,
            "name": alert.name,
            "status": kind,
            "app": alert.app,
            "group": alert.group,
            "labels": alert.labels,
            "annotations": alert.annotations,
            "starts_at": alert.starts_at.isoformat(),
            "ends_at": alert.ends_at.isoformat() if alert.ends_at else None,
        }
    else:
        data["message"] = "a test notification from Dockyard"
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def email_message(alert: Alert | None, kind: str, *, system: str) -> tuple[str, str]:
    """The e-mail's subject and plain-text body."""
    if alert is None:
        return f"[Dockyard] {system}: test notification", f"A test notification for system {system} from Dockyard.\n"
    where = "/".join(p for p in (alert.system, alert.app, alert.group) if p)
    subject = f"[Dockyard] [{kind.upper()}] {alert.name} {where}"
    summary = alert.annotations.get("summary", "")
    lines = [
        f"{alert.name} is {kind} for {where}.",
        summary,
        "",
        f"started: {alert.starts_at.isoformat()}",
        f"ended: {alert.ends_at.isoformat() if alert.ends_at else '-'}",
        "labels: " + ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items())),
        f"fingerprint: {alert.fingerprint}",
    ]
    return subject, "\n".join(lines) + "\n"


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 1, 2, 4, … up to 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))


def check_channel(name: str, kind: str, target: str) -> tuple[str, ChannelKind, str]:
    """A channel's name, kind and target, checked (InvalidInput naming the field)."""
    if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
        raise InvalidInput("name", "must be a DNS label (a-z, 0-9, '-', at most 40)")
    if kind == "webhook":
        parts = urlsplit(target) if isinstance(target, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(target) > 2000:
            raise InvalidInput("target", "a webhook channel's target must be an http(s) URL")
        if parts.username or parts.password:
            raise InvalidInput("target", "put no credentials in the URL: the body is signed with the channel's secret")
        return name, "webhook", target
    if kind == "email":
        addresses = [a.strip() for a in target.split(",")] if isinstance(target, str) else []
        if not addresses or len(addresses) > 20 or not all(_EMAIL.fullmatch(a) for a in addresses):
            raise InvalidInput("target", "an e-mail channel's target must be 1 to 20 addresses, comma-separated")
        return name, "email", ",".join(addresses)
    raise InvalidInput("kind", f"must be one of {', '.join(CHANNEL_KINDS)}")
