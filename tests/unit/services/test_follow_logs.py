"""A group's followed log stream over a fake ``pods/log`` (the kubelet's semantics: ``sinceTime`` at
whole seconds, ``tailLines``, follow until cut): merged order, resume after a cut with no line lost or
repeated, instances attached later, ``end`` for one gone, readers reopening a cut log, filters, keep-alives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager

import pytest

from dockyard.domain.clusters import Cluster
from dockyard.domain.failures import ClusterNotFound, ClusterRefused, ClusterUnavailable
from dockyard.domain.live import PodRecord
from dockyard.domain.logs import NS, LogFilter, decode_cursor, format_time, parse_time
from dockyard.services import logs as svc
from dockyard.services.logs import Event, Follow, Source

T0 = parse_time("2026-12-02T14:00:00Z")
CLUSTER = Cluster(name="local", kubeconfig="sealed")


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(svc, "EVERY", 0.05)
    monkeypatch.setattr(svc, "TICK", 0.01)
    monkeypatch.setattr(svc, "RETRY", 0.05)
    monkeypatch.setattr(svc, "GONE_GRACE", 0.05)


def pod(name: str, version: str = "1") -> PodRecord:
    return PodRecord(
        namespace="shop",
        name=name,
        uid=name,
        app="web",
        group="prod",
        version=version,
        phase="Running",
        ready=True,
        restarts=0,
        pod_ip="",
        host_ip="",
        node="n",
        created=0.0,
        reason="",
        deleting=False,
    )


class FakeLogs:
    """Each pod's log as ``(time, text)`` lines; a followed read waits for more; ``cuts``: how many
    lines each successive read sends before it is cut (an apiserver or a proxy closing it)."""

    def __init__(self) -> None:
        self.lines: dict[str, list[tuple[int, str]]] = {}
        self.changed = asyncio.Condition()
        self.refuse: set[str] = set()
        self.cuts: list[int] = []
        self.opened: list[tuple[str, str | None, int | None]] = []

    async def write(self, name: str, at: int, text: str) -> None:
        async with self.changed:
            self.lines.setdefault(name, []).append((at, text))
            self.changed.notify_all()

    @asynccontextmanager
    async def read(
        self,
        cluster: Cluster,
        namespace: str,
        pod: str,
        *,
        container: str,
        follow: bool,
        since_time: str | None = None,
        tail_lines: int | None = None,
    ) -> AsyncIterator[AsyncIterator[str]]:
        self.opened.append((pod, since_time, tail_lines))
        if pod in self.refuse:
            raise ClusterRefused("container is waiting to start", status=400)
        if pod not in self.lines:
            raise ClusterNotFound(f"pods {pod!r} not found", status=404)
        yield self._stream(pod, follow, since_time, tail_lines)

    async def _stream(self, pod: str, follow: bool, since: str | None, tail: int | None) -> AsyncIterator[str]:
        start = parse_time(since) if since else None
        chosen = [i for i, (at, _) in enumerate(self.lines[pod]) if start is None or at >= start]
        if tail is not None:
            chosen = chosen[len(chosen) - tail :] if tail else []
        position = chosen[0] if chosen else len(self.lines[pod])
        sent, cut = 0, self.cuts.pop(0) if self.cuts else None
        while True:
            while position < len(self.lines[pod]):
                if cut is not None and sent >= cut:
                    raise ClusterUnavailable("the proxy closed the stream")
                at, text = self.lines[pod][position]
                position += 1
                if start is None or at >= start:
                    yield f"{format_time(at)} {text}"
                    sent += 1
            if cut is not None and sent >= cut:
                raise ClusterUnavailable("the proxy closed the stream")
            if not follow:
                return
            async with self.changed:
                await self.changed.wait_for(lambda at=position: at < len(self.lines[pod]))  # type: ignore[misc]


class Group:
    def __init__(self, *names: str) -> None:
        self.pods = [pod(n) for n in names]

    async def look(self) -> list[Source]:
        return [Source(CLUSTER, p) for p in self.pods]


async def collect(stream: AsyncIterator[Event], until: int, *, kinds: tuple[str, ...] = ("line",)) -> list[Event]:
    out: list[Event] = []
    async with asyncio.timeout(10):
        async for event in stream:
            if event.kind in kinds:
                out.append(event)
            if len([e for e in out if e.kind == "line"]) >= until:
                break
    return out


def follow(fake: FakeLogs, group: Group, **kwargs: object) -> Follow:
    options: dict[str, object] = {"wanted": LogFilter(), "after": {}, "tail": None, "hold": 0.05, **kwargs}
    return Follow(fake, group.look, **options)  # type: ignore[arg-type]


async def test_instances_merge_in_time_order_tagged_with_their_source() -> None:
    fake, group = FakeLogs(), Group("web-a", "web-b")
    for i in range(6):
        await fake.write("web-a" if i % 2 else "web-b", T0 + i * NS // 10, f"line {i}")
    stream = follow(fake, group).events(await group.look())
    got = await collect(stream, 6, kinds=("line", "attach"))
    assert [e.kind for e in got[:2]] == ["attach", "attach"]
    lines = [e.line for e in got[2:] if e.line]
    assert [x.text for x in lines] == [f"line {i}" for i in range(6)]
    assert [x.instance for x in lines] == ["web-b", "web-a"] * 3
    assert {(x.cluster, x.version) for x in lines} == {("local", "1")}
    await stream.aclose()


@pytest.mark.parametrize("cut", [1, 3, 5, 8, 11])
async def test_a_stream_cut_and_resumed_from_its_last_id_loses_and_repeats_nothing(cut: int) -> None:
    """Lines of two instances, many at equal timestamps and within one second; the client reads
    ``cut`` lines, goes away, and comes back with the last id."""
    fake, group = FakeLogs(), Group("web-a", "web-b")
    texts = []
    for i in range(12):
        name = "web-a" if i % 3 else "web-b"
        at = T0 + (i // 4) * 1000  # four lines at each time, all in the same second
        await fake.write(name, at, f"{name} {i}")
        texts.append(f"{name} {i}")
    first = follow(fake, group).events(await group.look())
    seen = [e for e in await collect(first, cut)]
    await first.aclose()
    last_id = seen[-1].cursor
    again = follow(fake, group, after=decode_cursor(last_id)).events(await group.look())
    rest = await collect(again, 12 - cut)
    await fake.write("web-a", T0 + 5000, "web-a later")
    rest += await collect(again, 1)
    await again.aclose()
    got = [e.line.text for e in seen + rest if e.line]
    assert sorted(got) == sorted([*texts, "web-a later"])
    assert len(got) == len(set(got))


async def test_a_reader_whose_log_was_cut_reopens_it_from_where_it_was() -> None:
    fake, group = FakeLogs(), Group("web-a")
    fake.cuts = [2, 4, 6]  # each reopened read starts at the mark's second: 0 and 2 new lines, then 2 more
    for i in range(7):
        await fake.write("web-a", T0 + (i // 3), f"n{i}")  # three lines per timestamp
    stream = follow(fake, group).events(await group.look())
    got = await collect(stream, 7)
    await stream.aclose()
    assert [e.line.text for e in got if e.line] == [f"n{i}" for i in range(7)]
    assert len(fake.opened) == 4


async def test_an_instance_that_starts_later_is_attached_from_its_first_line() -> None:
    fake, group = FakeLogs(), Group("web-a")
    await fake.write("web-a", T0, "a0")
    stream = follow(fake, group, tail=1).events(await group.look())
    assert [e.line.text for e in await collect(stream, 1) if e.line] == ["a0"]
    for i in range(3):
        await fake.write("web-new", T0 + NS + i, f"new{i}")
    group.pods.append(pod("web-new", version="2"))
    got = await collect(stream, 3, kinds=("line", "attach"))
    await stream.aclose()
    assert got[0].kind == "attach"
    assert got[0].source
    assert got[0].source.pod.name == "web-new"
    assert [(e.line.text, e.line.version) for e in got[1:] if e.line] == [("new0", "2"), ("new1", "2"), ("new2", "2")]
    assert ("web-new", None, None) in fake.opened  # its whole log, not a tail


async def test_an_instance_gone_ends_after_its_last_lines_and_leaves_the_resume_point() -> None:
    fake, group = FakeLogs(), Group("web-a", "web-b")
    await fake.write("web-a", T0, "a0")
    await fake.write("web-b", T0 + 1, "b0")
    stream = follow(fake, group).events(await group.look())
    got = await collect(stream, 2)
    assert "local/web-b" in decode_cursor(got[-1].cursor)
    group.pods = [p for p in group.pods if p.name != "web-b"]
    async with asyncio.timeout(5):
        end = await anext(e async for e in stream if e.kind == "end")
    await stream.aclose()
    assert end.source
    assert end.source.pod.name == "web-b"
    assert set(decode_cursor(end.cursor)) == {"local/web-a"}


async def test_a_log_not_servable_yet_is_asked_again_until_it_is() -> None:
    fake, group = FakeLogs(), Group("web-a")
    await fake.write("web-a", T0, "hello")
    fake.refuse.add("web-a")
    stream = follow(fake, group).events(await group.look())
    task = asyncio.ensure_future(collect(stream, 1))
    await asyncio.sleep(0.2)
    fake.refuse.clear()
    got = await task
    await stream.aclose()
    assert [e.line.text for e in got if e.line] == ["hello"]
    assert len(fake.opened) >= 2


async def test_the_text_filter_hides_lines_yet_a_resume_after_it_repeats_nothing() -> None:
    fake, group = FakeLogs(), Group("web-a")
    for i, text in enumerate(["x ERROR 1", "fine", "x ERROR 2", "fine", "x ERROR 3"]):
        await fake.write("web-a", T0, f"{text} #{i}")  # all at one time: the count decides
    wanted = LogFilter(text="ERROR")
    first = follow(fake, group, wanted=wanted).events(await group.look())
    got = await collect(first, 2)
    await first.aclose()
    again = follow(fake, group, wanted=wanted, after=decode_cursor(got[-1].cursor)).events(await group.look())
    rest = await collect(again, 1)
    await again.aclose()
    assert [e.line.text for e in got + rest if e.line] == ["x ERROR 1 #0", "x ERROR 2 #2", "x ERROR 3 #4"]


async def test_an_idle_stream_sends_keep_alives() -> None:
    fake, group = FakeLogs(), Group("web-a")
    fake.lines["web-a"] = []
    stream = follow(fake, group, keepalive=0.1).events(await group.look())
    async with asyncio.timeout(5):
        kinds = [e.kind async for e in _first(stream, 3)]
    assert kinds == ["attach", "keepalive", "keepalive"]


async def _first(stream: AsyncGenerator[Event, None], n: int) -> AsyncIterator[Event]:
    count = 0
    async for event in stream:
        yield event
        count += 1
        if count == n:
            await stream.aclose()
            return


async def test_tail_zero_shows_only_new_lines_even_after_the_log_is_reopened() -> None:
    fake, group = FakeLogs(), Group("web-a")
    old = parse_time(format_time(time.time_ns())) - 60 * NS
    for i in range(3):
        await fake.write("web-a", old + i, f"old{i}")
    fake.cuts = [0, 0]  # the first two reads are cut at once
    stream = follow(fake, group, tail=0).events(await group.look())
    await asyncio.sleep(0.3)
    await fake.write("web-a", time.time_ns(), "new")
    got = await collect(stream, 1)
    await stream.aclose()
    assert [e.line.text for e in got if e.line] == ["new"]
    assert len(fake.opened) >= 3


async def test_a_reconnect_ends_at_once_the_instances_of_its_resume_point_gone_meanwhile() -> None:
    fake, group = FakeLogs(), Group("web-a", "web-b")
    await fake.write("web-a", T0, "a0")
    await fake.write("web-b", T0 + 1, "b0")
    first = follow(fake, group).events(await group.look())
    got = await collect(first, 2)
    await first.aclose()
    group.pods = [p for p in group.pods if p.name != "web-b"]
    again = follow(fake, group, after=decode_cursor(got[-1].cursor)).events(await group.look())
    end = await anext(again)
    await again.aclose()
    assert (end.kind, end.gone) == ("end", ("local", "web-b"))
    assert set(decode_cursor(end.cursor)) == {"local/web-a"}
