"""Searching a group's log history in the log store: the query, its LogsQL, and the stored record.

Pure: what a search asks (:class:`Search`), the LogsQL that asks it (:func:`logsql`), how a user's
text becomes a literal (:func:`literal`), a line's level (:func:`level_of`), and the record the
shipper stores for a line (:func:`record`).

Contract: no user value ever reaches LogsQL but through :func:`literal`, which always quotes: a search
text holding LogsQL syntax (``"``, ``|``, ``*``, ``:``, ``or``, ``_stream:{…}``) finds lines containing
exactly that text, case-sensitive, as the live logs' ``text`` filter does. Every query is confined to
one group by its stream fields, whatever the text.

Stored fields: ``_time`` (the line's runtime time, nanoseconds), ``_msg`` (its text), the stream
fields :data:`STREAM_FIELDS` (one stream per instance), ``level`` (:func:`level_of`) and ``n`` (how
many lines of the instance at exactly that time, this one included: with ``_time`` the instance's
:class:`~dockyard.domain.logs.Mark`, so the shipper resumes from the store without a duplicate).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from dockyard.domain.errors import InvalidInput
from dockyard.domain.logs import MAX_TEXT, LogLine, Mark, format_time, parse_since
from dockyard.domain.model import GroupPath

STREAM_FIELDS = ("cluster", "system", "app", "group", "version", "instance")
LEVELS = ("error", "warn", "info", "debug")
MAX_LIMIT = 10_000
DEFAULT_LIMIT = 1_000
# A level word standing alone (ERROR, [warn], level=info, "level":"debug"); the first one found wins.
_LEVEL = re.compile(
    r"(?<![A-Za-z0-9_])(FATAL|PANIC|CRIT(?:ICAL)?|ERR(?:OR)?|WARN(?:ING)?|INFO|DEBUG|TRACE)(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
_LEVEL_OF = {
    "fatal": "error",
    "panic": "error",
    "crit": "error",
    "critical": "error",
    "err": "error",
    "error": "error",
    "warn": "warn",
    "warning": "warn",
    "info": "info",
    "debug": "debug",
    "trace": "debug",
}


@dataclass(frozen=True)
class Search:
    """A search of one group's stored lines: containing ``text`` (plain, case-sensitive; "" any), of
    these instances, versions and levels (empty: all), from ``since`` until ``until`` (nanoseconds,
    ``until`` exclusive; None: unbounded), the newest ``limit``."""

    group: GroupPath
    text: str = ""
    instances: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset()
    levels: frozenset[str] = frozenset()
    since: int | None = None
    until: int | None = None
    limit: int = DEFAULT_LIMIT


def search(
    group: GroupPath,
    *,
    q: str = "",
    instances: Iterable[str] = (),
    versions: Iterable[str] = (),
    levels: Iterable[str] = (),
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
    now: int,
) -> Search:
    """A :class:`Search` from a request's values (``since``/``until``: RFC 3339 or a duration back
    from ``now``); :class:`InvalidInput` names the bad field (``q``, ``level``, ``since``, ``until``,
    ``limit``)."""
    if len(q) > MAX_TEXT:
        raise InvalidInput("q", f"q is longer than {MAX_TEXT} characters")
    if any(c in q for c in "\r\n"):
        raise InvalidInput("q", "q is one line: no line breaks")
    wanted_levels = frozenset(level.lower() for level in levels if level)
    unknown = sorted(wanted_levels - set(LEVELS))
    if unknown:
        raise InvalidInput("level", f"unknown level {unknown[0]!r}: one of {', '.join(LEVELS)}")
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput("limit", f"limit must be between 1 and {MAX_LIMIT} (got {limit})")
    start = _time(since, "since", now)
    end = _time(until, "until", now)
    if start is not None and end is not None and end <= start:
        raise InvalidInput("until", "until must be after since")
    return Search(
        group=group,
        text=q,
        instances=frozenset(i for i in instances if i),
        versions=frozenset(v for v in versions if v),
        levels=wanted_levels,
        since=start,
        until=end,
        limit=limit or DEFAULT_LIMIT,
    )


def _time(value: str | None, field: str, now: int) -> int | None:
    if not value:
        return None
    try:
        return parse_since(value, now=now)
    except InvalidInput as e:
        raise InvalidInput(field, str(e).replace("since", field)) from e


def literal(text: str) -> str:
    """``text`` as a LogsQL quoted string (Go's ``strconv.Unquote`` reads it back to ``text``):
    backslash and double quote escaped, control characters as ``\\uXXXX``; a lone surrogate (not
    text) becomes U+FFFD."""
    out = ['"']
    for c in text:
        code = ord(c)
        if c in '"\\':
            out.append("\\" + c)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)


def _one_of(field: str, values: frozenset[str]) -> str:
    return f"{field}:in({','.join(literal(v) for v in sorted(values))})"


def logsql(wanted: Search) -> str:
    """The LogsQL of ``wanted``: the group's streams, the time range (:func:`time_filter`), then the
    filters, the newest ``limit`` lines."""
    g = wanted.group
    parts = [f"_stream:{{system={literal(g.system)},app={literal(g.app)},group={literal(g.group)}}}"]
    if wanted.since is not None or wanted.until is not None:
        parts.append(time_filter(wanted.since, wanted.until))
    if wanted.instances:
        parts.append(_one_of("instance", wanted.instances))
    if wanted.versions:
        parts.append(_one_of("version", wanted.versions))
    if wanted.levels:
        parts.append(_one_of("level", wanted.levels))
    if wanted.text:
        parts.append(f"_msg:*{literal(wanted.text)}*")
    return " ".join(parts) + f" | sort by (_time desc) | limit {wanted.limit}"


def time_filter(since: int | None, until: int | None) -> str:
    """``_time`` from ``since`` (inclusive) until ``until`` (exclusive), RFC 3339 with nanoseconds
    (in LogsQL: the store's ``start``/``end`` parameters find nothing when they are equal)."""
    if since is not None and until is not None:
        return f"_time:[{format_time(since)}, {format_time(until)})"
    if since is not None:
        return f"_time:>={format_time(since)}"
    if until is not None:
        return f"_time:<{format_time(until)}"
    return ""


def last_mark_query(cluster: str, instance: str) -> str:
    """The LogsQL of an instance's newest stored line (its ``_time`` and ``n``: its mark)."""
    return (
        f"_stream:{{cluster={literal(cluster)},instance={literal(instance)}}}"
        " | sort by (_time desc, n desc) | limit 1 | fields _time, n"
    )


def level_of(text: str) -> str:
    """The line's level: the first level word standing alone in it (``ERROR``, ``[warn]``,
    ``level=info``, ``"level":"debug"``; fatal/panic/critical count as error, trace as debug), else ""."""
    found = _LEVEL.search(text[:200])
    return _LEVEL_OF[found.group(1).lower()] if found else ""


@dataclass(frozen=True)
class Stored:
    """A stored line as the search answers it."""

    line: LogLine
    level: str


def record(line: LogLine, group: GroupPath, *, mark: Mark) -> dict[str, str]:
    """The JSON line the shipper stores for ``line`` of an instance of ``group``; ``mark`` is the
    instance's mark with this line counted (its ``count`` goes in ``n``)."""
    return {
        "_time": format_time(line.time),
        "_msg": line.text,
        "cluster": line.cluster,
        "system": group.system,
        "app": group.app,
        "group": group.group,
        "version": line.version,
        "instance": line.instance,
        "level": level_of(line.text),
        "n": str(mark.count),
    }
