"""The audit trail's rules: which requests are recorded, what is kept of them, and the hash chain.

Every entry is sealed with ``hash = SHA-256(canonical JSON of the entry, its ``seq`` and the previous
entry's hash)``; the first entry's previous hash is :data:`GENESIS`. The trail also keeps a *head*
(the last ``seq`` and ``hash``) that moves with every append. :func:`verify` then finds

- an edited entry (its content no longer matches its hash),
- an edited entry whose hash was recomputed (the next entry's ``prev_hash`` no longer matches),
- a deleted entry, first, middle or last (a gap in ``seq``, or the head ahead of the last entry),
- entries swapped or renumbered (``seq`` is part of the hash).

Limit: whoever can write the database can rewrite the whole chain from some entry on *and* its head;
that is found only by comparing the head with a copy kept elsewhere (``dockyard audit verify`` prints
it). The chain makes tampering evident, it does not prevent it.

Secrets never enter an entry: the body of a request is reduced by :func:`summarize_changes` to its
field paths, with values only for the harmless fields in :data:`VALUE_FIELDS` under the structures in
:data:`STRUCTURES`; reasons pass through :func:`redact`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["allowed", "denied", "error"]
OUTCOMES: tuple[Outcome, ...] = ("allowed", "denied", "error")
GENESIS = "0" * 64
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Column sizes: every string is cut to these before it is sealed, so what is stored is what was hashed.
MAX_ACTOR = 100
MAX_SOURCE_IP = 64
MAX_REQUEST_ID = 64
MAX_METHOD = 10
MAX_ACTION = 200
MAX_SYSTEM = 63
MAX_REASON = 1000
MAX_TARGET_VALUE = 100
MAX_KEY = 64
MAX_VALUE = 200
MAX_FIELDS = 200
MAX_DEPTH = 8

VALUE_FIELDS = frozenset(
    {
        "action",
        "admin",
        "business_id",
        "cluster",
        "cpu_millis",
        "deadline_seconds",
        "enabled",
        "environment",
        "expires_in_days",
        "flavor",
        "image",
        "instances",
        "memory_mib",
        "name",
        "new",
        "old",
        "port",
        "protocol",
        "replicas",
        "repository",
        "role",
        "strategy",
        "threshold",
        "user",
        "version",
    }
)
"""Fields whose values are recorded (when every enclosing key is in :data:`STRUCTURES`)."""

STRUCTURES = frozenset({"spec", "changes", "quota", "ports", "readiness", "liveness"})
"""Keys whose content has a fixed shape; below any other key (``env``, ``labels``, ``config_files``,
``secret_env``…) the keys are the user's own, so their values are never recorded."""

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_SECRETS = (
    re.compile(r"dy_[A-Za-z0-9_-]{6,}"),  # API tokens
    re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),  # credentials in a header's form
    re.compile(r"-----BEGIN [A-Z ]+-----[\s\S]*?(-----END [A-Z ]+-----|$)"),  # PEM keys and certificates
)


@dataclass(frozen=True)
class AuditRecord:
    """What one request did, before it is sealed into the chain. Build it with :func:`new_record`."""

    at: dt.datetime
    actor: str
    source_ip: str
    request_id: str
    method: str
    action: str
    target: Mapping[str, str]
    system: str
    outcome: Outcome
    status: int
    reason: str
    changes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEntry:
    """A sealed entry: ``seq`` counts 1, 2, 3… without gaps; ``hash`` covers all the rest."""

    seq: int
    record: AuditRecord
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    """The last entry's ``seq`` and ``hash`` (``0`` and :data:`GENESIS` for an empty trail)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Break:
    """The first entry where the chain does not hold, and why."""

    seq: int
    reason: str


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad: Break | None
    head: Head | None


# recording ---------------------------------------------------------------------------------------
# POSTs that change nothing (the body is a question: "where would this land?"): audited as reads are,
# only when refused, so that a console previewing as one types neither fills the trail nor queues
# behind the trail's head lock.
_READS_BY_POST = re.compile(r"/api/v1/systems/[^/]+/apps/[^/]+/groups/[^/]+/preview")


def should_record(method: str, path: str, status: int, *, denied: bool) -> bool:
    """Mutations under ``/api/`` (not the POSTs that only ask, see ``_READS_BY_POST``), and every
    request that was refused for who made it."""
    if denied or status in (401, 403):
        return True
    return method.upper() in MUTATING and path.startswith("/api/") and not _READS_BY_POST.fullmatch(path)


def outcome_of(status: int, *, denied: bool) -> Outcome:
    """``denied`` for 401, 403 and hidden 404s; ``allowed`` below 400; ``error`` for everything else."""
    if denied or status in (401, 403):
        return "denied"
    return "allowed" if status < 400 else "error"


def valid_request_id(given: str | None) -> str | None:
    """``given`` if it is a sane request id (1–64 of ``A-Za-z0-9._-``), else None."""
    return given if given is not None and _REQUEST_ID.fullmatch(given) else None


def clean(value: str, limit: int) -> str:
    """``value`` without control characters or lone surrogates, cut to ``limit`` characters."""
    kept = "".join(
        "?" if unicodedata.category(c) in ("Cc", "Cs") or c in "\u2028\u2029" else c for c in value[: limit * 2]
    )
    return kept if len(kept) <= limit else kept[: limit - 1] + "…"


def redact(text: str) -> str:
    """``text`` with anything shaped like a credential (tokens, JWTs, PEM blocks) replaced by ``***``."""
    for pattern in _SECRETS:
        text = pattern.sub("***", text)
    return text


def new_record(
    *,
    at: dt.datetime,
    actor: str,
    source_ip: str,
    request_id: str,
    method: str,
    action: str,
    target: Mapping[str, str],
    outcome: Outcome,
    status: int,
    reason: str,
    changes: Mapping[str, Any],
) -> AuditRecord:
    """A record with every field cleaned and cut to its column's size.

    ``system`` is the target's ``system``; for ``create_system`` the new system's name, so a system's
    trail starts with its creation. A name too long to be a system's is platform-wide (``''``).
    """
    cleaned_target = {clean(k, MAX_KEY): clean(str(v), MAX_TARGET_VALUE) for k, v in target.items()}
    system = str(target.get("system", ""))
    if action == "create_system":
        system = str(changes.get("values", {}).get("name", ""))
    system = system if len(system) <= MAX_SYSTEM and system == clean(system, MAX_SYSTEM) else ""
    return AuditRecord(
        at=at.astimezone(dt.UTC),
        actor=clean(actor, MAX_ACTOR),
        source_ip=clean(source_ip, MAX_SOURCE_IP),
        request_id=clean(request_id, MAX_REQUEST_ID),
        method=clean(method.upper(), MAX_METHOD),
        action=clean(redact(action), MAX_ACTION),
        target=cleaned_target,
        system=system,
        outcome=outcome,
        status=status,
        reason=clean(redact(reason), MAX_REASON),
        changes=dict(changes),
    )


def summarize_changes(body: Any) -> dict[str, Any]:
    """What a JSON request body changes: ``{"fields": [paths], "values": {path: value}}``.

    Paths look like ``spec.ports[0].port``; a list of plain values is one field. ``values`` holds only
    fields named in :data:`VALUE_FIELDS` whose enclosing keys are all in :data:`STRUCTURES`, and only
    plain values (strings cut to :data:`MAX_VALUE`). At most :data:`MAX_FIELDS` paths are kept
    (``"truncated": true`` says more were left out). A body that is not a JSON object gives
    ``{"fields": [], "values": {}, "unreadable": true}``.
    """
    if not isinstance(body, dict):
        return {"fields": [], "values": {}, "unreadable": True}
    summary = _Summary()
    summary.add_object(body, "", ())
    out: dict[str, Any] = {"fields": summary.fields, "values": summary.values}
    if summary.truncated:
        out["truncated"] = True
    return out


class _Summary:
    def __init__(self) -> None:
        self.fields: list[str] = []
        self.values: dict[str, Any] = {}
        self.truncated = False

    def add_object(self, node: dict[Any, Any], path: str, keys: tuple[str, ...]) -> None:
        for raw, child in node.items():
            key = clean(str(raw), MAX_KEY)
            self.add(child, f"{path}.{key}" if path else key, (*keys, key))

    def add(self, node: Any, path: str, keys: tuple[str, ...]) -> None:
        """Add ``node``'s leaf paths; a list's items share the list's key (``ports[0].port``)."""
        if self.truncated:
            return
        if len(keys) < MAX_DEPTH and isinstance(node, dict) and node:
            self.add_object(node, path, keys)
        elif len(keys) < MAX_DEPTH and isinstance(node, list) and any(isinstance(i, (dict, list)) for i in node):
            for i, item in enumerate(node):
                self.add(item, f"{path}[{i}]", keys)
        elif len(self.fields) >= MAX_FIELDS:
            self.truncated = True
        else:
            self.fields.append(path)
            if keys[-1] in VALUE_FIELDS and all(k in STRUCTURES for k in keys[:-1]) and _plain(node):
                self.values[path] = clean(node, MAX_VALUE) if isinstance(node, str) else node


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int)) or (isinstance(value, float) and math.isfinite(value))


# the chain ---------------------------------------------------------------------------------------
def canonical(seq: int, record: AuditRecord, prev_hash: str) -> bytes:
    """The bytes an entry's hash covers: sorted keys, no spaces, ASCII, times as UTC microseconds."""
    data = {
        "seq": seq,
        "prev_hash": prev_hash,
        "at": record.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": record.actor,
        "source_ip": record.source_ip,
        "request_id": record.request_id,
        "method": record.method,
        "action": record.action,
        "target": dict(record.target),
        "system": record.system,
        "outcome": record.outcome,
        "status": record.status,
        "reason": record.reason,
        "changes": dict(record.changes),
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode()


def digest(seq: int, record: AuditRecord, prev_hash: str) -> str:
    return hashlib.sha256(canonical(seq, record, prev_hash)).hexdigest()


def seal(record: AuditRecord, *, after: Head) -> AuditEntry:
    """``record`` as the entry that follows ``after`` (the current head)."""
    seq = after.seq + 1
    return AuditEntry(seq=seq, record=record, prev_hash=after.hash, hash=digest(seq, record, after.hash))


class ChainCheck:
    """:func:`verify` one entry at a time (for a trail read in pages, oldest first)."""

    def __init__(self) -> None:
        self.checked = 0
        self.first_bad: Break | None = None
        self._last = Head(0, GENESIS)

    def feed(self, entry: AuditEntry) -> bool:
        """Check the next entry; False once the chain is broken (later entries are not looked at)."""
        if self.first_bad is None:
            self.first_bad = self._check(entry)
            if self.first_bad is None:
                self.checked += 1
                self._last = Head(entry.seq, entry.hash)
        return self.first_bad is None

    def _check(self, entry: AuditEntry) -> Break | None:
        expected = self._last.seq + 1
        if entry.seq > expected:
            missing = f"entry {expected}" if entry.seq == expected + 1 else f"entries {expected}-{entry.seq - 1}"
            return Break(expected, f"{missing} missing: the entry after {self._last.seq} is {entry.seq}")
        if entry.seq < expected:
            return Break(entry.seq, f"entry {entry.seq} is out of order: it comes after entry {self._last.seq}")
        if digest(entry.seq, entry.record, entry.prev_hash) != entry.hash:
            return Break(entry.seq, f"entry {entry.seq} does not match its hash: it was edited")
        if entry.prev_hash != self._last.hash:
            before = f"entry {self._last.seq}'s hash" if self._last.seq else "the start of the trail"
            return Break(entry.seq, f"entry {entry.seq}'s prev_hash does not match {before}: one of them was edited")
        return None

    def finish(self, head: Head | None) -> Verification:
        """The result, checking the entries read against the trail's ``head`` (None: it is missing)."""
        if self.first_bad is None:
            self.first_bad = self._check_head(head)
        return Verification(ok=self.first_bad is None, checked=self.checked, first_bad=self.first_bad, head=head)

    def _check_head(self, head: Head | None) -> Break | None:
        last = self._last
        if head is None:
            return Break(last.seq + 1, "the trail's head record is missing")
        if head.seq > last.seq:
            missing = f"entry {head.seq}" if head.seq == last.seq + 1 else f"entries {last.seq + 1}-{head.seq}"
            return Break(last.seq + 1, f"{missing} missing: the trail ends at {last.seq} but its head is at {head.seq}")
        if head.seq < last.seq:
            return Break(head.seq + 1, f"entry {head.seq + 1} is past the trail's head ({head.seq}): it was inserted")
        if head.hash != last.hash:
            return Break(last.seq, f"the trail's head does not match entry {last.seq}'s hash: one of them was edited")
        return None


def verify(entries: Iterable[AuditEntry], head: Head | None) -> Verification:
    """Check a whole trail, oldest first, against its head; names the first entry that breaks it."""
    check = ChainCheck()
    for entry in entries:
        if not check.feed(entry):
            break
    return check.finish(head)


@dataclass(frozen=True)
class AuditQuery:
    """A filter over the trail, newest first: entries before ``before`` (a ``seq``, for paging) that
    match every field given; ``since`` is inclusive, ``until`` exclusive."""

    system: str | None = None
    actor: str | None = None
    action: str | None = None
    outcome: Outcome | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before: int | None = None
    limit: int = 100
