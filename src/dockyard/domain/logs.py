"""Live logs of a group's instances, as pure decisions: reading a kubelet's timestamped lines, where a
stream resumes, which lines a resumed read skips, filters, and merging several instances in time order.

A line of ``pods/log?timestamps=true`` is ``<RFC3339Nano> <text>``; its time is kept as integer
nanoseconds since the epoch (:func:`parse_line`), so lines compare exactly.

**Resume points.** For each instance a stream remembers a :class:`Mark`: the time of the last line it
sent and how many lines at exactly that time it sent (lines of one instance may share a timestamp).
A :class:`Cursor` holds one mark per instance (``cluster/instance``) and is written into each event's
id (:func:`encode_cursor`). A reconnect with that id asks each instance's log from the mark's second
(:func:`since_time`: the apiserver passes ``sinceTime`` on at one-second precision) and a
:class:`Resumed` reader skips every line before the mark and the first ``count`` lines at the mark's
time: no line lost, none sent twice, as long as an instance's log is in time order (a kubelet's is).

**Merging.** :func:`merge` orders finished reads; a following stream holds lines for a short while in
a :class:`Reorder` buffer and lets them go in time order once they are older than the hold, so lines
of instances read by separate connections come out in time order unless one arrives more than the
hold late.

**Filters** (:class:`LogFilter`) are applied by Dockyard after reading: the text filter is a plain
substring, never handed to any query language.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from dockyard.domain.errors import InvalidInput

NS = 1_000_000_000
MAX_TAIL = 10_000
DEFAULT_LIMIT = MAX_TAIL  # lines of one answer after a resume point
MAX_TEXT = 200  # characters of a text filter
_FRACTION = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")
# A cursor entry: <shared prefix length>:<rest of the key>@<nanoseconds, base 36>.<count>; a key is
# cluster/instance, both DNS names (a-z, 0-9, '-', '.').
_ENTRY = re.compile(r"\A([0-9]{1,3}):([a-z0-9./-]{0,507})@([0-9a-z]{1,14})\.([0-9]{1,9})\Z")
_KEY = re.compile(r"\A[a-z0-9][a-z0-9.-]{0,252}/[a-z0-9][a-z0-9.-]{0,252}\Z")
MAX_CURSOR = 64 * 1024  # characters of an encoded cursor


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of one instance, tagged with where it comes from."""

    time: int  # nanoseconds since the epoch
    cluster: str
    instance: str
    version: str
    text: str

    @property
    def key(self) -> str:
        return f"{self.cluster}/{self.instance}"

    @property
    def timestamp(self) -> str:
        return format_time(self.time)


@dataclass(frozen=True, slots=True)
class Mark:
    """Where an instance's stream is: the last line's time, and how many lines at that time were sent."""

    time: int
    count: int

    def after(self, time: int) -> Mark:
        """The mark once a line at ``time`` has been sent too (a line before the mark, out of its
        log's order, leaves it: a resumed read skips such a line anyway)."""
        if time < self.time:
            return self
        return Mark(self.time, self.count + 1) if time == self.time else Mark(time, 1)


@dataclass
class Cursor:
    """A stream's resume point: a :class:`Mark` per instance key (``cluster/instance``). Encoding it
    after every line costs one entry's formatting and a join (entries are kept formatted)."""

    marks: dict[str, Mark] = field(default_factory=dict)
    _keys: list[str] | None = field(default=None, init=False, repr=False)
    _heads: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _entries: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def sent(self, line: LogLine) -> None:
        key = line.key
        mark = self.marks.get(key)
        if mark is None:
            self._keys = None  # a new instance: the keys' order and front coding change
        self.marks[key] = mark.after(line.time) if mark else Mark(line.time, 1)
        self._entries.pop(key, None)

    def keep(self, keys: Iterable[str]) -> None:
        """Forget the marks of instances not in ``keys`` (gone: their logs cannot be read again)."""
        wanted = set(keys)
        self.marks = {k: m for k, m in self.marks.items() if k in wanted}
        self._keys = None

    def encode(self) -> str:
        if self._keys is None:
            self._keys = sorted(self.marks)
            self._heads = _front_coded(self._keys)
            self._entries = {}
        entries = self._entries
        for key in self._keys:
            if key not in entries:
                mark = self.marks[key]
                entries[key] = f"{self._heads[key]}@{_base36(mark.time)}.{mark.count}"
        return ",".join(entries[k] for k in self._keys)


def _front_coded(keys: list[str]) -> dict[str, str]:
    """Each sorted key as ``<length of the prefix shared with the key before>:<the rest>``."""
    heads, before = {}, ""
    for key in keys:
        shared = 0
        for a, b in zip(before, key, strict=False):
            if a != b:
                break
            shared += 1
        heads[key] = f"{shared}:{key[shared:]}"
        before = key
    return heads


def encode_cursor(marks: Mapping[str, Mark]) -> str:
    """The marks in key order, joined by ``,``: each ``<shared>:<rest>@<time base 36>.<count>``, its
    key being the first ``shared`` characters of the key before it followed by ``rest`` (group
    instances share long name prefixes)."""
    return Cursor(dict(marks)).encode()


def decode_cursor(text: str, *, field_name: str = "after") -> dict[str, Mark]:
    """The marks of an encoded cursor; :class:`InvalidInput` naming ``field_name`` if it is not one."""
    if not text:
        return {}
    if len(text) > MAX_CURSOR:
        raise InvalidInput(field_name, f"{field_name} is longer than {MAX_CURSOR} characters")
    marks: dict[str, Mark] = {}
    before = ""
    for entry in text.split(","):
        found = _ENTRY.match(entry)
        if found is None or int(found.group(1)) > len(before):
            raise InvalidInput(field_name, f"{field_name} is not a resume point this server gave")
        shared, rest, time, count = found.groups()
        key = before[: int(shared)] + rest
        if _KEY.match(key) is None or key <= before:
            raise InvalidInput(field_name, f"{field_name} is not a resume point this server gave")
        marks[key] = Mark(int(time, 36), int(count))
        before = key
    return marks


class Resumed:
    """Which lines of an instance's re-read log are new, given the instance's last :class:`Mark`
    (``None``: every line is). Feed it the lines' times in order."""

    def __init__(self, mark: Mark | None) -> None:
        self._mark = mark
        self._skipped = 0

    def new(self, time: int) -> bool:
        mark = self._mark
        if mark is None or time > mark.time:
            return True
        if time < mark.time:
            return False
        if self._skipped < mark.count:
            self._skipped += 1
            return False
        return True


def since_time(mark: Mark | None, since: int | None) -> str | None:
    """The ``sinceTime`` to read an instance's log from: the mark's second (the apiserver keeps
    whole seconds), else the requested ``since``; ``None``: from its start."""
    start = mark.time if mark is not None else since
    if start is None:
        return None
    return dt.datetime.fromtimestamp(start // NS, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> int:
    """Nanoseconds since the epoch of an RFC 3339 time (fraction up to nanoseconds); ``ValueError``."""
    found = _FRACTION.match(text)
    if found is None:
        raise ValueError(f"not an RFC 3339 time: {text[:40]!r}")
    whole, fraction, zone = found.groups()
    seconds = dt.datetime.fromisoformat(whole + ("+00:00" if zone == "Z" else zone)).timestamp()
    return int(seconds) * NS + int((fraction or "0").ljust(9, "0"))


def format_time(time: int) -> str:
    """RFC 3339 in UTC with nanoseconds, fixed width (so it sorts as text too)."""
    seconds, nanos = divmod(time, NS)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def parse_line(raw: str) -> tuple[int, str] | None:
    """``(time, text)`` of a ``timestamps=true`` log line; ``None`` if it has no timestamp."""
    stamp, _, text = raw.partition(" ")
    try:
        return parse_time(stamp), text.rstrip("\r\n")
    except ValueError:
        return None


@dataclass(frozen=True)
class LogFilter:
    """Which lines a reader wants: of these instances and versions (empty: all), containing ``text``
    (a plain substring, case-sensitive), at or after ``since`` (nanoseconds)."""

    instances: frozenset[str] = frozenset()
    versions: frozenset[str] = frozenset()
    text: str = ""
    since: int | None = None

    def wants_instance(self, instance: str, version: str) -> bool:
        return (not self.instances or instance in self.instances) and (not self.versions or version in self.versions)

    def wants(self, line: LogLine) -> bool:
        return (
            self.wants_instance(line.instance, line.version)
            and (self.since is None or line.time >= self.since)
            and self.text in line.text
        )


def log_filter(
    *, instances: Iterable[str] = (), versions: Iterable[str] = (), text: str = "", since: str | None = None, now: int
) -> LogFilter:
    """A :class:`LogFilter` from a request's values; ``since`` is an RFC 3339 time or a duration
    (``90s``, ``15m``, ``2h``, ``1d``) back from ``now``. :class:`InvalidInput` names a bad field."""
    if len(text) > MAX_TEXT:
        raise InvalidInput("text", f"text is longer than {MAX_TEXT} characters")
    if any(c in text for c in "\r\n"):
        raise InvalidInput("text", "text is one line: no line breaks")
    return LogFilter(
        instances=frozenset(i for i in instances if i),
        versions=frozenset(v for v in versions if v),
        text=text,
        since=parse_since(since, now=now) if since else None,
    )


_DURATION = re.compile(r"^(\d{1,9})(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(value: str, *, now: int) -> int:
    """Nanoseconds of ``since``: an RFC 3339 time, or a duration back from ``now``."""
    duration = _DURATION.match(value)
    if duration is not None:
        return now - int(duration.group(1)) * _UNIT[duration.group(2)] * NS
    try:
        return parse_time(value)
    except ValueError:
        raise InvalidInput("since", "since is an RFC 3339 time (2026-12-02T14:00:00Z) or a duration (15m)") from None


def check_tail(tail: int | None) -> int | None:
    if tail is not None and not 0 <= tail <= MAX_TAIL:
        raise InvalidInput("tail", f"tail is between 0 and {MAX_TAIL}")
    return tail


def _order(line: LogLine) -> tuple[int, str, str]:
    return (line.time, line.cluster, line.instance)


def merge(reads: Iterable[Iterable[LogLine]]) -> Iterator[LogLine]:
    """Each instance's lines (each in its own order) as one sequence in time order; lines at the same
    time by cluster and instance, an instance's own keeping their order."""
    return heapq.merge(*reads, key=_order)


def last(lines: Iterable[LogLine], tail: int | None) -> list[LogLine]:
    """The last ``tail`` lines (all of them for ``None``)."""
    kept = list(lines)
    if tail is None:
        return kept
    return kept[max(0, len(kept) - tail) :] if tail else []


class Reorder:
    """Lines of several instances as they arrive, let go in time order once held ``hold`` nanoseconds
    (by the clock the caller passes: arrival, not the lines' own times). An instance's lines never
    overtake each other."""

    def __init__(self, hold: int) -> None:
        self._hold = hold
        self._heap: list[tuple[int, str, str, int, int, LogLine]] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, line: LogLine, *, arrived: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (line.time, line.cluster, line.instance, self._seq, arrived, line))

    def ready(self, *, now: int) -> list[LogLine]:
        """The lines to send now: in time order, while the earliest was held long enough. A line held
        long enough lets go every line before it, held or not (they would otherwise come after it)."""
        due = [entry for entry in self._heap if now - entry[4] >= self._hold]
        if not due:
            return []
        upto = max(entry[:4] for entry in due)
        out: list[LogLine] = []
        while self._heap and self._heap[0][:4] <= upto:
            out.append(heapq.heappop(self._heap)[5])
        return out

    def drain(self) -> list[LogLine]:
        out = [entry[5] for entry in sorted(self._heap)]
        self._heap.clear()
        return out


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out
