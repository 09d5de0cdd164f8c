"""Local receivers of notifications for tests: an HTTP server keeping what is POSTed to it, and an
SMTP sink (aiosmtpd) keeping the messages it is given. Both on 127.0.0.1, free ports, in threads."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes
    received: float = field(default_factory=time.time)  # Unix time


@dataclass
class HttpReceiver:
    url: str
    posts: list[Posted] = field(default_factory=list)
    status: int = 200  # what it answers (a test may make it fail)


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            receiver.posts.append(Posted(self.path, dict(self.headers.items()), body))
            self.send_response(receiver.status)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpSink:
    port: int
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@contextmanager
def smtp_sink() -> Iterator[SmtpSink]:
    with socket.socket() as probe:  # aiosmtpd connects to its port to check it is up: it needs one given
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = SmtpSink(port=port)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
