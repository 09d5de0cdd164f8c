"""Live logs' pure decisions: timestamps, resume points, resumed reads, filters, merging: tables of cases,
and a property check that cutting a stream anywhere and resuming loses and repeats no line."""

from __future__ import annotations

import random

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.logs import (
    NS,
    Cursor,
    LogLine,
    Mark,
    Reorder,
    Resumed,
    decode_cursor,
    encode_cursor,
    format_time,
    last,
    log_filter,
    merge,
    parse_line,
    parse_time,
    since_time,
)

T0 = parse_time("2026-12-02T14:00:00Z")


def line(at: int, instance: str = "web-1", text: str = "x", cluster: str = "local", version: str = "1") -> LogLine:
    return LogLine(at, cluster, instance, version, text)


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("2026-12-02T14:00:00Z", 0),
        ("2026-12-02T14:00:00.5Z", 500_000_000),
        ("2026-12-02T14:00:00.000000001Z", 1),
        ("2026-12-02T14:00:00.123456789Z", 123_456_789),
        ("2026-12-02T16:00:00.25+02:00", 250_000_000),  # the same instant in another zone
    ],
)
def test_times_are_exact_nanoseconds(text: str, nanos: int) -> None:
    assert parse_time(text) == T0 + nanos


def test_a_time_prints_fixed_width_in_utc_and_reads_back() -> None:
    assert format_time(T0 + 5) == "2026-12-02T14:00:00.000000005Z"
    assert parse_time(format_time(T0 + 123)) == T0 + 123


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("2026-12-02T14:00:00.000000001Z hello world", (T0 + 1, "hello world")),
        ("2026-12-02T14:00:00Z ", (T0, "")),
        ("2026-12-02T14:00:00Z keeps  inner  spaces \r\n", (T0, "keeps  inner  spaces ")),
        ("no timestamp here", None),
        ("", None),
    ],
)
def test_kubelet_lines(raw: str, parsed: tuple[int, str] | None) -> None:
    assert parse_line(raw) == parsed


@pytest.mark.parametrize(
    ("mark", "time", "after"),
    [
        (Mark(10, 1), 10, Mark(10, 2)),  # another line at the same time
        (Mark(10, 3), 11, Mark(11, 1)),  # a later time starts a new count
        (Mark(10, 2), 9, Mark(10, 2)),  # a line out of its log's order leaves the mark
    ],
)
def test_a_mark_counts_lines_at_its_time(mark: Mark, time: int, after: Mark) -> None:
    assert mark.after(time) == after


@pytest.mark.parametrize(
    ("mark", "times", "new"),
    [
        (None, [5, 5, 6], [True, True, True]),
        (Mark(5, 1), [4, 5, 5, 6], [False, False, True, True]),  # one line at 5 was sent: the second is new
        (Mark(5, 2), [5, 5, 5], [False, False, True]),
        (Mark(5, 3), [5, 5, 5], [False, False, False]),
        (Mark(5, 1), [6, 7], [True, True]),  # the line at 5 is no longer in the read (since cut it): all new
    ],
)
def test_a_resumed_read_skips_what_was_sent(mark: Mark | None, times: list[int], new: list[bool]) -> None:
    skip = Resumed(mark)
    assert [skip.new(t) for t in times] == new


@pytest.mark.parametrize(
    ("mark", "since", "expected"),
    [
        (Mark(T0 + 999_999_999, 2), None, "2026-12-02T14:00:00Z"),  # the mark's second: whole seconds only
        (None, T0 + 61 * NS, "2026-12-02T14:01:01Z"),
        (Mark(T0 + 5 * NS, 1), T0, "2026-12-02T14:00:05Z"),  # the mark wins over since
        (None, None, None),
    ],
)
def test_since_time(mark: Mark | None, since: int | None, expected: str | None) -> None:
    assert since_time(mark, since) == expected


def test_a_cursor_round_trips_through_its_text() -> None:
    marks = {"local/web-7d9f-abcde": Mark(T0 + 17, 3), "idc-b/web-7d9f-xyz12": Mark(T0, 1)}
    text = encode_cursor(marks)
    assert text == f"0:idc-b/web-7d9f-xyz12@{_b36(T0)}.1,0:local/web-7d9f-abcde@{_b36(T0 + 17)}.3"
    assert decode_cursor(text) == marks
    assert decode_cursor("") == {}


def test_a_cursor_writes_the_prefix_instances_share_once() -> None:
    marks = {f"local/web-prod-7d9f8c6b5-{n:05d}": Mark(n, 1) for n in range(3)}
    marks["local/web-prod-5c4b3a2-00001"] = Mark(0, 0)
    text = encode_cursor(marks)
    assert text == "0:local/web-prod-5c4b3a2-00001@0.0,15:7d9f8c6b5-00000@0.1,29:1@1.1,29:2@2.1"
    assert decode_cursor(text) == marks


def test_a_cursor_kept_formatted_encodes_like_one_made_anew() -> None:
    cursor = Cursor()
    rng = random.Random(7)
    for n in range(500):
        cursor.sent(line(T0 + rng.randrange(5), f"web-{rng.randrange(30)}", cluster=rng.choice(["a", "b"])))
        if n % 97 == 0:
            cursor.keep(k for k in list(cursor.marks) if not k.endswith("-3"))
        assert cursor.encode() == encode_cursor(cursor.marks)


def _b36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out or "0"


@pytest.mark.parametrize(
    "bad",
    [
        "local/web-1",  # no mark
        "local/web-1@zz",  # no count
        "local/Web-1@1.1",  # not a DNS name
        "local/web-1@1.1;DROP TABLE",
        "local/web-1@1.1,",  # an empty entry
        "x" * 70_000,
        "local/web-1@1.1\nevent: end",
    ],
)
def test_a_cursor_that_is_not_one_is_refused_naming_the_field(bad: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(bad, field_name="after")
    assert refused.value.field == "after"


def test_a_cursor_forgets_instances_that_are_gone() -> None:
    cursor = Cursor()
    for item in (line(1, "a"), line(1, "a"), line(2, "b")):
        cursor.sent(item)
    assert cursor.marks == {"local/a": Mark(1, 2), "local/b": Mark(2, 1)}
    cursor.keep(["local/b"])
    assert cursor.marks == {"local/b": Mark(2, 1)}


@pytest.mark.parametrize(
    ("kwargs", "wanted", "unwanted"),
    [
        ({"text": "ERROR"}, line(T0, text="an ERROR here"), line(T0, text="an error here")),  # case-sensitive
        ({"text": '{app="x"} | .*'}, line(T0, text='q={app="x"} | .*'), line(T0, text="app=x")),  # literal, no regex
        ({"instances": ["web-1"]}, line(T0, "web-1"), line(T0, "web-2")),
        ({"versions": ["2"]}, line(T0, version="2"), line(T0, version="1")),
        ({"since": "2026-12-02T14:00:01Z"}, line(T0 + NS), line(T0 + NS - 1)),
        ({"since": "90s"}, line(T0 + 30 * NS), line(T0 - NS)),  # now = T0 + 120 s
    ],
)
def test_filters(kwargs: dict[str, object], wanted: LogLine, unwanted: LogLine) -> None:
    got = log_filter(now=T0 + 120 * NS, **kwargs)  # type: ignore[arg-type]
    assert got.wants(wanted)
    assert not got.wants(unwanted)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "15 m"}, "since"),
        ({"text": "a\nb"}, "text"),
        ({"text": "x" * 201}, "text"),
    ],
)
def test_bad_filters_name_their_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        log_filter(now=T0, **kwargs)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_merge_orders_by_time_then_cluster_and_instance_keeping_each_instances_order() -> None:
    a = [line(1, "a", "a1"), line(3, "a", "a2"), line(3, "a", "a3")]
    b = [line(2, "b", "b1"), line(3, "b", "b2")]
    c = [line(3, "a", "c1", cluster="idc-b")]
    assert [x.text for x in merge([a, b, c])] == ["a1", "b1", "c1", "a2", "a3", "b2"]


@pytest.mark.parametrize(("tail", "expected"), [(None, 5), (2, 2), (0, 0), (9, 5)])
def test_last(tail: int | None, expected: int) -> None:
    lines = [line(i) for i in range(5)]
    assert last(lines, tail) == (lines[5 - expected :] if expected else [])


def test_reorder_holds_lines_then_lets_them_go_in_time_order() -> None:
    buffer = Reorder(hold=100)
    buffer.push(line(20, "b", "b@20"), arrived=0)
    buffer.push(line(10, "a", "a@10"), arrived=50)  # came later, written earlier
    assert buffer.ready(now=99) == []  # nothing held long enough
    # b@20 is due; a@10 is not yet, but sorts before it and goes with it.
    assert [x.text for x in buffer.ready(now=100)] == ["a@10", "b@20"]
    buffer.push(line(30, "a", "a@30"), arrived=120)
    buffer.push(line(25, "b", "b@25"), arrived=200)
    assert [x.text for x in buffer.ready(now=220)] == ["b@25", "a@30"]  # a@30 due: b@25 goes first
    buffer.push(line(40, "a", "a@40"), arrived=300)
    assert [x.text for x in buffer.drain()] == ["a@40"]
    assert len(buffer) == 0


def test_reorder_keeps_an_instances_lines_at_one_time_in_order() -> None:
    buffer = Reorder(hold=0)
    for i in range(5):
        buffer.push(line(7, "a", f"a{i}"), arrived=0)
    assert [x.text for x in buffer.ready(now=0)] == [f"a{i}" for i in range(5)]


@pytest.mark.parametrize("seed", range(200))
def test_a_stream_cut_anywhere_and_resumed_loses_and_repeats_no_line(seed: int) -> None:
    """Several instances whose logs share timestamps; the merged stream is cut after a random line,
    resumed from the cursor of the last line sent (each instance re-read from its mark's second, as
    the apiserver's whole-second sinceTime does), cut again...: every line is seen exactly once."""
    rng = random.Random(seed)
    logs: dict[str, list[LogLine]] = {}
    for name in ("a", "b", "c"):
        at, lines = T0, []
        for i in range(rng.randint(0, 30)):
            at += rng.choice([0, 0, 1, NS // 3, NS])  # equal timestamps are common
            lines.append(line(at, name, f"{name}{i}"))
        logs[name] = lines
    wanted = {x.text for lines in logs.values() for x in lines}
    seen: list[str] = []
    marks: dict[str, Mark] = {}
    for _ in range(100):
        cursor = Cursor(dict(marks))
        reads = []
        for name, lines in logs.items():
            mark = marks.get(f"local/{name}")
            start = since_time(mark, None)
            skip = Resumed(mark)
            reread = [x for x in lines if start is None or x.time >= parse_time(start)]
            reads.append([x for x in reread if skip.new(x.time)])
        merged = list(merge(reads))
        if not merged:
            break
        for x in merged[: rng.randint(1, len(merged))]:
            cursor.sent(x)
            seen.append(x.text)
        marks = decode_cursor(cursor.encode())
    assert sorted(seen) == sorted(wanted)
    assert len(seen) == len(set(seen))
