"""The audit trail's pure rules: the hash chain and its verification, what is recorded, and what of a body."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable

import pytest

from dockyard.domain import audit
from dockyard.domain.audit import GENESIS, AuditEntry, AuditRecord, Break, Head

T0 = dt.datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=dt.UTC)


def _record(n: int, **changes: object) -> AuditRecord:
    return audit.new_record(
        at=T0 + dt.timedelta(seconds=n),
        actor="alice",
        source_ip="10.0.0.1",
        request_id=f"r-{n}",
        method="POST",
        action="create_group",
        target={"system": "shop", "app": "web"},
        outcome="allowed",
        status=201,
        reason="",
        changes={"fields": ["name"], "values": {"name": f"g{n}"}, **changes},
    )


def _chain(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    head = Head(0, GENESIS)
    for i in range(1, n + 1):
        entry = audit.seal(_record(i), after=head)
        entries.append(entry)
        head = Head(entry.seq, entry.hash)
    return entries


def _head(entries: list[AuditEntry]) -> Head:
    return Head(entries[-1].seq, entries[-1].hash) if entries else Head(0, GENESIS)


def _edit(entry: AuditEntry, *, rehash: bool = False, **fields: object) -> AuditEntry:
    record = dataclasses.replace(entry.record, **fields)  # type: ignore[arg-type]
    new_hash = audit.digest(entry.seq, record, entry.prev_hash) if rehash else entry.hash
    return dataclasses.replace(entry, record=record, hash=new_hash)


def _swap(entries: list[AuditEntry], i: int, j: int) -> list[AuditEntry]:
    out = list(entries)
    out[i], out[j] = out[j], out[i]
    return out


def test_sealing_is_deterministic_and_links_each_entry_to_the_last() -> None:
    entries = _chain(3)
    assert [e.seq for e in entries] == [1, 2, 3]
    assert entries[0].prev_hash == GENESIS
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert _chain(3) == entries
    assert all(len(e.hash) == 64 for e in entries)


def test_the_canonical_form_is_sorted_compact_json_with_utc_microseconds() -> None:
    record = _record(1)
    data = json.loads(audit.canonical(7, record, GENESIS))
    assert data["seq"] == 7
    assert data["prev_hash"] == GENESIS
    assert data["at"] == "2026-11-23T10:00:01.123456Z"
    text = audit.canonical(7, record, GENESIS).decode()
    assert text == json.dumps(data, sort_keys=True, separators=(",", ":"))
    # The same moment in another timezone, and a dict in another order, hash the same.
    other = dataclasses.replace(
        record,
        at=record.at.astimezone(dt.timezone(dt.timedelta(hours=8))),
        target={"app": "web", "system": "shop"},
    )
    assert audit.digest(7, other, GENESIS) == audit.digest(7, record, GENESIS)


# (name, how the trail is tampered with, the head kept with it, the expected first break)
Tamper = Callable[[list[AuditEntry]], list[AuditEntry]]
CASES: list[tuple[str, Tamper, Callable[[list[AuditEntry]], Head | None], Break | None]] = [
    ("intact", lambda es: es, _head, None),
    ("empty trail", lambda es: [], lambda es: Head(0, GENESIS), None),
    (
        "a field edited",
        lambda es: [*es[:2], _edit(es[2], actor="mallory"), *es[3:]],
        _head,
        Break(3, "entry 3 does not match its hash: it was edited"),
    ),
    (
        "changes edited",
        lambda es: [*es[:1], _edit(es[1], changes={}), *es[2:]],
        _head,
        Break(2, "entry 2 does not match its hash: it was edited"),
    ),
    (
        "a field edited and its hash recomputed",
        lambda es: [*es[:2], _edit(es[2], rehash=True, outcome="denied"), *es[3:]],
        _head,
        Break(4, "entry 4's prev_hash does not match entry 3's hash: one of them was edited"),
    ),
    (
        "the last entry edited and rehashed",
        lambda es: [*es[:4], _edit(es[4], rehash=True, status=500)],
        _head,
        Break(5, "the trail's head does not match entry 5's hash: one of them was edited"),
    ),
    (
        "a middle entry deleted",
        lambda es: [*es[:2], *es[3:]],
        _head,
        Break(3, "entry 3 missing: the entry after 2 is 4"),
    ),
    (
        "two middle entries deleted",
        lambda es: [es[0], *es[3:]],
        _head,
        Break(2, "entries 2-3 missing: the entry after 1 is 4"),
    ),
    (
        "the first entry deleted",
        lambda es: es[1:],
        _head,
        Break(1, "entry 1 missing: the entry after 0 is 2"),
    ),
    (
        "the last entry deleted (the head remembers it)",
        lambda es: es[:-1],
        _head,
        Break(5, "entry 5 missing: the trail ends at 4 but its head is at 5"),
    ),
    (
        "every entry deleted",
        lambda es: [],
        _head,
        Break(1, "entries 1-5 missing: the trail ends at 0 but its head is at 5"),
    ),
    (
        "the head deleted",
        lambda es: es,
        lambda es: None,
        Break(6, "the trail's head record is missing"),
    ),
    (
        "an entry inserted past the head",
        lambda es: es,
        lambda es: Head(es[3].seq, es[3].hash),
        Break(5, "entry 5 is past the trail's head (4): it was inserted"),
    ),
    (
        "two entries swapped",
        lambda es: _swap(es, 1, 3),
        _head,
        Break(2, "entries 2-3 missing: the entry after 1 is 4"),
    ),
    (
        "two neighbours swapped",
        lambda es: _swap(es, 2, 3),
        _head,
        Break(3, "entry 3 missing: the entry after 2 is 4"),
    ),
    (
        "two entries' contents swapped under their seqs",
        lambda es: [
            *es[:1],
            dataclasses.replace(es[3], seq=2, prev_hash=es[1].prev_hash, hash=es[1].hash),
            es[2],
            dataclasses.replace(es[1], seq=4, prev_hash=es[3].prev_hash, hash=es[3].hash),
            es[4],
        ],
        _head,
        Break(2, "entry 2 does not match its hash: it was edited"),
    ),
    (
        "an entry deleted and the rest renumbered",
        lambda es: [*es[:2], *(dataclasses.replace(e, seq=e.seq - 1) for e in es[3:])],
        _head,
        Break(3, "entry 3 does not match its hash: it was edited"),
    ),
    (
        "an entry repeated",
        lambda es: [*es[:3], es[2], *es[3:]],
        _head,
        Break(3, "entry 3 is out of order: it comes after entry 3"),
    ),
]


@pytest.mark.parametrize(("tamper", "head", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verify_names_the_first_entry_that_breaks_the_chain(
    tamper: Tamper, head: Callable[[list[AuditEntry]], Head | None], expected: Break | None
) -> None:
    original = _chain(5)
    result = audit.verify(tamper(original), head(original))
    assert result.first_bad == expected
    assert result.ok is (expected is None)


def test_checked_counts_the_entries_found_intact_before_the_break() -> None:
    entries = _chain(5)
    assert audit.verify(entries, _head(entries)).checked == 5
    assert audit.verify([*entries[:2], *entries[3:]], _head(entries)).checked == 2
    assert audit.verify(entries[:-1], _head(entries)).checked == 4


def test_a_rewritten_tail_with_its_head_is_only_found_by_a_head_kept_elsewhere() -> None:
    """The documented limit: rewriting the chain from an entry on, and the head, goes unnoticed by
    the trail alone; a copy of the head taken earlier shows it."""
    original = _chain(5)
    rewritten = original[:3]
    head = Head(0, GENESIS)
    for entry in rewritten:
        head = Head(entry.seq, entry.hash)
    for i in (4, 5):
        forged = audit.seal(_record(i + 100), after=head)
        rewritten.append(forged)
        head = Head(forged.seq, forged.hash)
    assert audit.verify(rewritten, head).ok
    assert head != _head(original)


def test_the_chain_can_be_checked_page_by_page() -> None:
    entries = _chain(7)
    check = audit.ChainCheck()
    assert all(check.feed(e) for e in entries[:4])
    assert all(check.feed(e) for e in entries[4:])
    assert check.finish(_head(entries)) == audit.verify(entries, _head(entries))
    broken = audit.ChainCheck()
    assert broken.feed(entries[0])
    assert not broken.feed(entries[2])
    assert not broken.feed(entries[3])  # after a break nothing more is looked at
    assert broken.finish(_head(entries)).first_bad == Break(2, "entry 2 missing: the entry after 1 is 3")


# which requests are recorded, and how they ended ----------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status", "denied", "recorded", "outcome"),
    [
        ("POST", "/api/v1/systems", 201, False, True, "allowed"),
        ("PUT", "/api/v1/clusters/c", 200, False, True, "allowed"),
        ("PATCH", "/api/v1/systems/s", 405, False, True, "error"),
        ("DELETE", "/api/v1/systems/s", 409, False, True, "error"),
        ("post", "/api/v1/systems", 422, False, True, "error"),
        ("POST", "/api/v1/systems", 500, False, True, "error"),
        ("POST", "/api/v1/systems", 403, False, True, "denied"),
        ("POST", "/api/v1/systems/s/apps", 404, True, True, "denied"),
        ("POST", "/api/v1/systems/s/apps", 404, False, True, "error"),
        ("GET", "/api/v1/systems", 200, False, False, "allowed"),
        ("GET", "/api/v1/systems/s", 404, False, False, "error"),
        ("GET", "/api/v1/systems/s", 404, True, True, "denied"),
        ("GET", "/api/v1/systems", 401, False, True, "denied"),
        ("GET", "/api/v1/audit", 403, False, True, "denied"),
        ("GET", "/api/v1/audit", 200, False, False, "allowed"),
        ("POST", "/healthz", 405, False, False, "error"),
        ("HEAD", "/api/v1/systems", 401, False, True, "denied"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/preview", 200, False, False, "allowed"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/preview", 422, False, False, "error"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/preview", 404, True, True, "denied"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/preview", 403, False, True, "denied"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/preview/x", 200, False, True, "allowed"),
        ("POST", "/api/v1/systems/s/apps/a/groups/g/deploy", 202, False, True, "allowed"),
    ],
)
def test_what_is_recorded_and_its_outcome(
    method: str, path: str, status: int, denied: bool, recorded: bool, outcome: str
) -> None:
    assert audit.should_record(method, path, status, denied=denied) is recorded
    assert audit.outcome_of(status, denied=denied) == outcome


@pytest.mark.parametrize(
    ("given", "valid"),
    [
        ("abc-123", True),
        ("A.b_c-9", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        (None, False),
        ("has space", False),
        ("new\nline", False),
        ("ünï", False),
        ("a/b", False),
    ],
)
def test_a_client_request_id_is_taken_only_when_sane(given: str | None, valid: bool) -> None:
    assert audit.valid_request_id(given) == (given if valid else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token dy_abcdefghijklmnop is revoked", "token *** is revoked"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: ***"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.sig-nature here", "jwt *** here"),
        ("key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- end", "key *** end"),
        ("system 'shop' does not exist", "system 'shop' does not exist"),
    ],
)
def test_credentials_are_redacted_from_reasons(text: str, expected: str) -> None:
    assert audit.redact(text) == expected


def test_records_are_cleaned_and_cut_to_their_columns() -> None:
    record = audit.new_record(
        at=T0,
        actor="a" * 300,
        source_ip="1.2.3.4",
        request_id="r",
        method="post",
        action="/api/v1/x\x00y",
        target={"system": "s" * 64, "app": "bad\nname"},
        outcome="error",
        status=404,
        reason="see dy_secretsecretsecret " + "x" * 2000,
        changes={},
    )
    assert len(record.actor) == audit.MAX_ACTOR
    assert record.method == "POST"
    assert record.action == "/api/v1/x?y"
    assert record.target == {"system": "s" * 64, "app": "bad?name"}
    assert record.system == ""  # too long to be a system's name: platform-wide, never another system's
    assert record.reason.startswith("see *** x")
    assert len(record.reason) == audit.MAX_REASON


def test_create_system_is_filed_under_the_new_system() -> None:
    changes = audit.summarize_changes({"name": "shop", "description": "d"})
    record = audit.new_record(
        at=T0,
        actor="admin",
        source_ip="",
        request_id="r",
        method="POST",
        action="create_system",
        target={},
        outcome="allowed",
        status=201,
        reason="",
        changes=changes,
    )
    assert record.system == "shop"


# what of a body is kept ---------------------------------------------------------------------------
SECRET = "hunter2-s3cr3t"


@pytest.mark.parametrize(
    ("body", "fields", "values"),
    [
        ({"name": "shop", "description": "d"}, ["name", "description"], {"name": "shop"}),
        (
            {"name": "shop", "quota": {"cpu_millis": 1000, "memory_mib": 0}},
            ["name", "quota.cpu_millis", "quota.memory_mib"],
            {"name": "shop", "quota.cpu_millis": 1000, "quota.memory_mib": 0},
        ),
        (
            {
                "spec": {
                    "image": "r/web:2",
                    "flavor": "small",
                    "instances": 3,
                    "ports": [{"name": "http", "port": 8080}],
                    "env": {"MODE": "prod", "name": SECRET},
                    "config_files": {"app.yaml": SECRET},
                    "pre_stop": ["sh", "-c", SECRET],
                },
                "reason": SECRET,
            },
            [
                "spec.image",
                "spec.flavor",
                "spec.instances",
                "spec.ports[0].name",
                "spec.ports[0].port",
                "spec.env.MODE",
                "spec.env.name",
                "spec.config_files.app.yaml",
                "spec.pre_stop",
                "reason",
            ],
            {
                "spec.image": "r/web:2",
                "spec.flavor": "small",
                "spec.instances": 3,
                "spec.ports[0].name": "http",
                "spec.ports[0].port": 8080,
            },
        ),
        ({"changes": {"image": "r/web:3"}}, ["changes.image"], {"changes.image": "r/web:3"}),
        (
            {"version": 2, "deadline_seconds": 60},
            ["version", "deadline_seconds"],
            {"version": 2, "deadline_seconds": 60},
        ),
        (
            {"name": "local", "kubeconfig": f"apiVersion: v1\ntoken: {SECRET}", "labels": {"name": SECRET}},
            ["name", "kubeconfig", "labels.name"],
            {"name": "local"},
        ),
        ({"user": "alice", "password": SECRET}, ["user", "password"], {"user": "alice"}),
        (
            {"name": "laptop", "token": SECRET, "expires_in_days": 7},
            ["name", "token", "expires_in_days"],
            {"name": "laptop", "expires_in_days": 7},
        ),
        (
            {"secret_env": {"DB_PASSWORD": SECRET, "name": SECRET}, "secrets": [{"name": SECRET}]},
            ["secret_env.DB_PASSWORD", "secret_env.name", "secrets[0].name"],
            {},
        ),
        (
            {"role": "owner", "user": "bob", "system": "shop"},
            ["role", "user", "system"],
            {"role": "owner", "user": "bob"},
        ),
        ({"name": {"nested": SECRET}}, ["name.nested"], {}),
        ({"name": ["a", SECRET]}, ["name"], {}),
        ({"owners": ["alice", "bob"], "env": {}}, ["owners", "env"], {}),
        (
            {"replicas": 2.5, "strategy": "rolling", "admin": True},
            ["replicas", "strategy", "admin"],
            {"replicas": 2.5, "strategy": "rolling", "admin": True},
        ),
        ({"replicas": float("nan")}, ["replicas"], {}),
        ({}, [], {}),
    ],
)
def test_a_body_is_summarized_as_its_fields_with_only_harmless_values(
    body: dict[str, object], fields: list[str], values: dict[str, object]
) -> None:
    summary = audit.summarize_changes(body)
    assert summary == {"fields": fields, "values": values}
    assert SECRET not in json.dumps(summary)


def test_secret_fields_never_show_their_values_however_they_are_nested() -> None:
    for key in ("password", "token", "kubeconfig", "secret_env", "secret", "env", "client_key", "config_files"):
        for body in (
            {key: SECRET},
            {key: {"name": SECRET, "value": SECRET}},
            {"spec": {key: SECRET}},
            {"spec": {key: {"image": SECRET}}},
            {"changes": {key: [{"name": SECRET}]}},
        ):
            assert SECRET not in json.dumps(audit.summarize_changes(body)), body


def test_long_or_odd_bodies_are_bounded() -> None:
    many = audit.summarize_changes({f"k{i}": i for i in range(1000)})
    assert len(many["fields"]) == audit.MAX_FIELDS
    assert many["truncated"] is True
    deep: dict[str, object] = {"name": "x"}
    for _ in range(50):
        deep = {"spec": deep}
    assert len(audit.summarize_changes(deep)["fields"]) == 1
    long = audit.summarize_changes({"name": "n" * 1000, "k" * 500: 1})
    assert len(long["values"]["name"]) == audit.MAX_VALUE
    assert max(len(f) for f in long["fields"]) == audit.MAX_KEY
    assert audit.summarize_changes({"name": "a\x00b\ud800"})["values"] == {"name": "a?b?"}
    for odd in ([], "text", 3, None):
        assert audit.summarize_changes(odd) == {"fields": [], "values": {}, "unreadable": True}
