"""The CLI's only network boundary: one HTTP/1.1 connection to the Dockyard server, standard library only.

:class:`Transport` is the whole interface the client needs (send one request, get the whole answer;
close); :class:`HttpTransport` implements it with ``http.client`` over one kept-alive connection, and
unit tests swap in a fake. httpx is not used here: with httpcore it was half of a client command's
start-up (issue 15), and a command sends a few small JSON requests to one server.

Errors::

    TransportError      the server could not be reached or the connection broke; never an HTTP status
"""

from __future__ import annotations

import select
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

if TYPE_CHECKING:
    import http.client
    import ssl
    from collections.abc import Mapping
    from types import ModuleType


class TransportError(Exception):
    """No answer from the server; ``str()`` says why in a few words (``connection refused``...)."""


@dataclass(frozen=True)
class Response:
    """A whole answer: status, reason phrase and body (read to its end, so the connection is free)."""

    status: int
    reason: str
    body: bytes


class Transport(Protocol):
    def send(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        """Send ``method target`` (``target``: the path with its query string) and return the answer;
        raise :class:`TransportError` when there is none."""
        ...

    def close(self) -> None: ...


class HttpTransport:
    """Requests to the server at ``server`` (``http://`` or ``https://``, maybe with a path prefix that
    every target is put under) over one connection, kept alive between requests and reopened when the
    server closed it while idle. ``timeout`` (seconds) bounds the connect and every read and write.

    https: the certificate and host name are checked against the system's CAs (``ssl`` is imported only
    then). A plain http server is never spoken TLS to, so it needs no context at all."""

    def __init__(self, server: str, *, timeout: float) -> None:
        self._server = server
        self._prefix = urlparse(server).path.rstrip("/")
        self._timeout = timeout
        self._connection: http.client.HTTPConnection | None = None

    def send(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        client = _http_client(tls=urlparse(self._server).scheme == "https")
        try:
            connection = self._connect()
            connection.request(method, self._prefix + target, body=body, headers=dict(headers))
            answer = connection.getresponse()
            response = Response(answer.status, answer.reason, answer.read())
        except TransportError:
            raise
        except (OSError, client.HTTPException) as e:
            self.close()
            raise TransportError(_why(e, self._timeout)) from e
        if answer.will_close:
            self.close()
        return response

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        """The kept-alive connection, unless the server closed it meanwhile (an idle socket that is
        readable has an end of file waiting): reopened rather than retried, so a POST is never sent twice."""
        if self._connection is not None and self._connection.sock is not None:
            readable, _, _ = select.select([self._connection.sock], [], [], 0)
            if readable:
                self.close()
        if self._connection is None:
            url = urlparse(self._server)
            try:
                host, port = url.hostname, url.port
            except ValueError:
                host = port = None
            if url.scheme not in ("http", "https") or not host:
                raise TransportError("not an http:// or https:// URL with a host (and a numeric port)")
            if url.scheme == "https":
                self._connection = _http_client(tls=True).HTTPSConnection(
                    host, port, timeout=self._timeout, context=_verifying_context()
                )
            else:
                self._connection = _http_client(tls=False).HTTPConnection(host, port, timeout=self._timeout)
        return self._connection


_WITHOUT_TLS: list[ModuleType] = []


def _http_client(*, tls: bool) -> ModuleType:
    """``http.client``; for a plain http server when nothing imported it yet, a copy of our own loaded
    without ``ssl``, which ``http.client`` imports only to define ``HTTPSConnection`` (~5 ms, a
    twentieth of a client command). ``ssl`` is hidden for that one import (a ``None`` in
    ``sys.modules`` makes ``import ssl`` fail, which ``http.client`` allows), and the copy is taken out
    of ``sys.modules`` and of the ``http`` package right after: any other ``import http.client`` in
    the process gets the whole module, ``HTTPSConnection`` included."""
    if tls or "http.client" in sys.modules or "ssl" in sys.modules:
        import http.client

        return http.client
    if not _WITHOUT_TLS:
        import http

        sys.modules["ssl"] = None  # type: ignore[assignment]
        try:
            import http.client as copy
        finally:
            del sys.modules["ssl"]
            sys.modules.pop("http.client", None)
            vars(http).pop("client", None)
        _WITHOUT_TLS.append(copy)
    return _WITHOUT_TLS[0]


def _verifying_context() -> ssl.SSLContext:
    """The system's CAs (or ``$SSL_CERT_FILE`` / ``$SSL_CERT_DIR``), host names checked."""
    import ssl

    return ssl.create_default_context()


def _why(error: Exception, timeout: float) -> str:
    """A few words for a failed request: ``timed out after 30 s``, ``Connection refused``..."""
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g} s"
    return str(getattr(error, "strerror", None) or error) or type(error).__name__
