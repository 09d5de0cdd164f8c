"""Following a group's log stream as a client would over real HTTP: the app served by uvicorn on
loopback, a proxy that cuts every connection after a few seconds, and a server-sent events reader
that reconnects with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.integration.harness.sandboxes import free_port


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` (its lifespan already running) served over HTTP on loopback; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def cutting_proxy(base_url: str, *, seconds: float) -> AsyncIterator[tuple[str, list[int]]]:
    """A TCP proxy to ``base_url`` that closes each connection ``seconds`` after it opened (an idle
    or impatient load balancer); its base URL and how many connections it cut."""
    host, port = base_url.removeprefix("http://").split(":")
    cuts = [0]

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        tasks = [asyncio.create_task(pipe(reader, up_writer)), asyncio.create_task(pipe(up_reader, writer))]
        _, pending = await asyncio.wait(tasks, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        if pending and len(pending) == len(tasks):
            cuts[0] += 1
        for task in tasks:
            task.cancel()
        for w in (writer, up_writer):
            w.close()

    proxy = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{proxy.sockets[0].getsockname()[1]}", cuts
    finally:
        proxy.close()


@dataclass
class Received:
    """What a following client got: every event with its kind, data and arrival time."""

    events: list[tuple[str, dict[str, Any], float]] = field(default_factory=list)
    connections: int = 0
    last_id: str = ""

    def lines(self) -> list[dict[str, Any]]:
        return [data for kind, data, _ in self.events if kind == "line"]

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [data for k, data, _ in self.events if k == kind]


async def follow(
    base_url: str,
    path: str,
    *,
    headers: dict[str, str],
    params: dict[str, Any],
    received: Received,
    stop: asyncio.Event,
) -> None:
    """Follow ``path`` (``follow=true``) until ``stop``, reconnecting after every cut with the last
    event id; events go into ``received``."""
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=httpx.Timeout(10, read=60)) as http:
        while not stop.is_set():
            sent = dict(headers)
            if received.last_id:
                sent["Last-Event-ID"] = received.last_id
            received.connections += 1
            try:
                async with http.stream("GET", path, params={**params, "follow": "true"}, headers=sent) as stream:
                    assert stream.status_code == 200, await stream.aread()
                    await _read(stream, received, stop)
            except (httpx.TransportError, httpx.RemoteProtocolError):
                await asyncio.sleep(0.05)  # cut: connect again


async def _read(stream: httpx.Response, received: Received, stop: asyncio.Event) -> None:
    kind, data, event_id = "message", "", None
    async for line in stream.aiter_lines():
        if stop.is_set():
            return
        if line.startswith("id: "):
            event_id = line.removeprefix("id: ")
        elif line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "":
            if data:
                received.events.append((kind, json.loads(data), time.time()))
                if event_id is not None:
                    received.last_id = event_id
            kind, data, event_id = "message", "", None
