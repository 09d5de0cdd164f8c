"""Log search's pure parts: user text as a LogsQL literal (tables, and a round trip through a reference
of Go's strconv.Unquote, which VictoriaLogs' lexer uses), the query of a search, request validation,
levels, and the record the shipper stores."""

from __future__ import annotations

import random
import re

import pytest

from dockyard.domain.errors import InvalidInput
from dockyard.domain.logs import NS, LogLine, Mark, parse_time
from dockyard.domain.logsearch import (
    DEFAULT_LIMIT,
    Search,
    last_mark_query,
    level_of,
    literal,
    logsql,
    record,
    search,
    time_filter,
)
from dockyard.domain.model import GroupPath

G = GroupPath("shop", "web", "prod")
NOW = parse_time("2026-12-02T14:00:00Z")
TAIL = " | sort by (_time desc) | limit 1000"


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("", '""'),
        ("plain", '"plain"'),
        ("two words", '"two words"'),
        ('say "hi"', r'"say \"hi\""'),
        ("back\\slash", r'"back\\slash"'),
        ("\\", r'"\\"'),
        ('\\"', r'"\\\""'),
        ("tab\there", r'"tab\u0009here"'),
        ("bell\x07", r'"bell\u0007"'),
        ("del\x7f", r'"del\u007f"'),
        ("日本 ünï", '"日本 ünï"'),
        ("\ud800", '"\ufffd"'),
        # LogsQL's own syntax is only text inside the quotes:
        ("error | stats count()", '"error | stats count()"'),
        ('_stream:{system="bank"} or *', r'"_stream:{system=\"bank\"} or *"'),
        ("*", '"*"'),
        ("a:b", '"a:b"'),
        ("`raw`", '"`raw`"'),
        ("'single'", "\"'single'\""),
        ('i(x) ~"re" !y -z', r'"i(x) ~\"re\" !y -z"'),
    ],
)
def test_literal(text: str, quoted: str) -> None:
    assert literal(text) == quoted


_ESCAPE = re.compile(r'\\(u[0-9a-fA-F]{4}|["\\])')


def go_unquote(quoted: str) -> str:
    """What Go's strconv.Unquote reads from the escapes :func:`literal` writes (a reference)."""
    assert quoted[0] == quoted[-1] == '"'
    body = quoted[1:-1]
    # An unescaped quote or a raw control character would end or break the literal.
    assert not re.search(r'(?<!\\)(\\\\)*"', body.replace('\\"', "")), body
    assert not any(ord(c) < 0x20 or ord(c) == 0x7F for c in body)
    return _ESCAPE.sub(lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" else m.group(1), body)


def test_literal_round_trips_any_text() -> None:
    rng = random.Random(18)
    alphabet = ['"', "\\", "*", "|", ":", "{", "}", "(", ")", " ", "\t", "\x00", "\x1f", "a", "Z", "9", "é", "日", "u"]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert go_unquote(literal(text)) == text


@pytest.mark.parametrize(
    ("wanted", "query"),
    [
        (Search(G), '_stream:{system="shop",app="web",group="prod"}' + TAIL),
        (
            Search(G, text='x" or _stream:{system="bank"} | delete'),
            '_stream:{system="shop",app="web",group="prod"} _msg:*"x\\" or _stream:{system=\\"bank\\"} | delete"*'
            + TAIL,
        ),
        (
            Search(G, instances=frozenset({"b", "a"}), versions=frozenset({"3"}), levels=frozenset({"error"})),
            '_stream:{system="shop",app="web",group="prod"} instance:in("a","b") version:in("3") level:in("error")'
            + TAIL,
        ),
        (Search(G, limit=5), '_stream:{system="shop",app="web",group="prod"} | sort by (_time desc) | limit 5'),
        (
            Search(GroupPath('s"', "a", "g"), instances=frozenset({'x") or ("'})),
            '_stream:{system="s\\"",app="a",group="g"} instance:in("x\\") or (\\"")' + TAIL,
        ),
    ],
)
def test_logsql(wanted: Search, query: str) -> None:
    assert logsql(wanted) == query


def test_the_text_stays_inside_its_filter() -> None:
    """Whatever the text, the query is the group's stream filter, one substring filter, the tail."""
    rng = random.Random(7)
    alphabet = ['"', "\\", "*", "|", " ", "}", "{", "a", "or", "_stream:", "limit"]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        query = logsql(Search(G, text=text))
        head = '_stream:{system="shop",app="web",group="prod"} _msg:*'
        assert query.startswith(head)
        assert query.endswith("*" + TAIL)
        assert go_unquote(query[len(head) : -len("*" + TAIL)]) == text


def test_search_from_a_request() -> None:
    wanted = search(
        G, q="boom", instances=["i-1", ""], versions=["2"], levels=["ERROR"], since="15m", until="5m", now=NOW
    )
    assert wanted == Search(
        G,
        text="boom",
        instances=frozenset({"i-1"}),
        versions=frozenset({"2"}),
        levels=frozenset({"error"}),
        since=NOW - 900 * NS,
        until=NOW - 300 * NS,
        limit=DEFAULT_LIMIT,
    )
    assert logsql(wanted) == (
        '_stream:{system="shop",app="web",group="prod"} '
        "_time:[2026-12-02T13:45:00.000000000Z, 2026-12-02T13:55:00.000000000Z) "
        'instance:in("i-1") version:in("2") level:in("error") _msg:*"boom"*' + TAIL
    )
    assert time_filter(NOW, None) == "_time:>=2026-12-02T14:00:00.000000000Z"
    assert time_filter(None, NOW + 1) == "_time:<2026-12-02T14:00:00.000000001Z"
    assert time_filter(None, None) == ""


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"q": "x" * 201}, "q"),
        ({"q": "two\nlines"}, "q"),
        ({"levels": ["loud"]}, "level"),
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "soon"}, "until"),
        ({"since": "5m", "until": "15m"}, "until"),
    ],
)
def test_bad_requests_name_the_field(values: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as e:
        search(G, now=NOW, **values)  # type: ignore[arg-type]
    assert e.value.field == field


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("ERROR boom", "error"),
        ("2026-12-02 [warn] disk", "warn"),
        ('{"level":"info","msg":"ok"}', "info"),
        ("level=debug x", "debug"),
        ("FATAL: out of memory", "error"),
        ("panic: nil map", "error"),
        ("CRITICAL thing", "error"),
        ("WARNING: x", "warn"),
        ("trace id=3", "debug"),
        ("errors=0 infos", ""),
        ("terror", ""),
        ("INFOS", ""),
        ("", ""),
        ("GET /healthz 200", ""),
        ("info then ERROR", "info"),
    ],
)
def test_level_of(text: str, level: str) -> None:
    assert level_of(text) == level


def test_record_carries_stream_fields_and_the_mark() -> None:
    line = LogLine(NOW + 5, "local", "web-prod-1", "3", "ERROR x")
    assert record(line, G, mark=Mark(NOW + 5, 2)) == {
        "_time": "2026-12-02T14:00:00.000000005Z",
        "_msg": "ERROR x",
        "cluster": "local",
        "system": "shop",
        "app": "web",
        "group": "prod",
        "version": "3",
        "instance": "web-prod-1",
        "level": "error",
        "n": "2",
    }


def test_last_mark_query_quotes_its_values() -> None:
    assert last_mark_query("local", 'x"y') == (
        '_stream:{cluster="local",instance="x\\"y"} | sort by (_time desc, n desc) | limit 1 | fields _time, n'
    )
