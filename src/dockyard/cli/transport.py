"""The CLI's only network boundary: one HTTP/1.1 connection to the Dockyard server, standard library only.

:class:`Transport` is the whole interface the client needs (send one request, get the whole answer;
close); :class:`HttpTransport` implements it with ``http.client`` over one kept-alive connection, and
unit tests swap in a fake. httpx is not used here: with httpcore it was half of a client command's
start-up (issue 15), and a command sends a few small JSON requests to one server.

Errors::

    TransportError      the server could not be reached or the connection broke; never an HTTP status
"""

from __future__ import annotations

import os
import select
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

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

    https: the certificate and host name are checked against the system's CAs (or ``$SSL_CERT_FILE``,
    ``$SSL_CERT_DIR``; ``ssl`` is imported only then). A plain http server is never spoken TLS to.
    Proxies come from the environment as they did with httpx: ``$HTTP_PROXY`` / ``$HTTPS_PROXY`` /
    ``$ALL_PROXY`` (an ``http://`` proxy, its user and password sent to it alone), ``$NO_PROXY``; to an
    https server through a proxy, a tunnel (``CONNECT``), so the proxy never sees the requests."""

    def __init__(self, server: str, *, timeout: float) -> None:
        self._server = server
        self._prefix = urlparse(server).path.rstrip("/")
        self._timeout = timeout
        self._proxy = _proxy_for(server)
        self._client: ModuleType | None = None
        self._connection: http.client.HTTPConnection | None = None

    def send(self, method: str, target: str, headers: Mapping[str, str], body: bytes | None) -> Response:
        if self._client is None:
            # One module for the connection and its errors: a copy without ssl has its own classes.
            self._client = _http_client(tls=urlparse(self._server).scheme == "https")
        headers = dict(headers)
        target = self._prefix + target
        if self._proxy is not None and urlparse(self._server).scheme == "http":
            # Through an http proxy, a plain request names the whole URL and carries the proxy's login.
            target = f"http://{urlparse(self._server).netloc}{target}"
            headers.update(_proxy_login(self._proxy))
        try:
            connection = self._connect(self._client)
            connection.request(method, target, body=body, headers=headers)
            answer = connection.getresponse()
            response = Response(answer.status, answer.reason, answer.read())
        except TransportError:
            raise
        except (OSError, self._client.HTTPException) as e:
            self.close()
            raise TransportError(_why(e, self._timeout)) from e
        if answer.will_close:
            self.close()
        return response

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self, client: ModuleType) -> http.client.HTTPConnection:
        """The kept-alive connection, unless the server closed it meanwhile (an idle socket that is
        readable has an end of file waiting): reopened rather than retried, so a POST is never sent twice."""
        if self._connection is not None and self._connection.sock is not None:
            readable, _, _ = select.select([self._connection.sock], [], [], 0)
            if readable:
                self.close()
        if self._connection is None:
            host, port = _host_and_port(self._server)
            https = urlparse(self._server).scheme == "https"
            if self._proxy is not None:
                proxy_host, proxy_port = _host_and_port(self._proxy, proxy=True)
                if urlparse(self._proxy).scheme != "http":
                    raise TransportError(f"the proxy {_without_login(self._proxy)}: only http:// proxies are supported")
                connection: http.client.HTTPConnection = (
                    client.HTTPSConnection(proxy_host, proxy_port, timeout=self._timeout, context=_verifying_context())
                    if https
                    else client.HTTPConnection(proxy_host, proxy_port, timeout=self._timeout)
                )
                if https:
                    connection.set_tunnel(host, port, headers=_proxy_login(self._proxy))
            elif https:
                connection = client.HTTPSConnection(host, port, timeout=self._timeout, context=_verifying_context())
            else:
                connection = client.HTTPConnection(host, port, timeout=self._timeout)
            self._connection = connection
        return self._connection


def _host_and_port(url: str, *, proxy: bool = False) -> tuple[str, int | None]:
    parsed = urlparse(url)
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if parsed.scheme not in ("http", "https") or not host:
        what = f"the proxy {_without_login(url)} is not" if proxy else "not"
        raise TransportError(f"{what} an http:// or https:// URL with a host (and a numeric port)")
    return host, port


def _proxy_for(server: str) -> str | None:
    """The proxy ``$HTTP_PROXY`` / ``$HTTPS_PROXY`` / ``$ALL_PROXY`` names for ``server`` (either case),
    unless ``$NO_PROXY`` excludes it; None when there is none. urllib reads them, and is imported only
    when one is set (it imports ``ssl``)."""
    if not any(name.lower() in ("http_proxy", "https_proxy", "all_proxy") for name in os.environ):
        return None
    import urllib.request

    url = urlparse(server)
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(url.netloc):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


def _proxy_login(proxy: str) -> dict[str, str]:
    """The ``Proxy-Authorization`` header for the user and password in the proxy's URL, if any."""
    url = urlparse(proxy)
    if url.username is None:
        return {}
    import base64

    login = f"{unquote(url.username)}:{unquote(url.password or '')}".encode()
    return {"Proxy-Authorization": f"Basic {base64.b64encode(login).decode()}"}


def _without_login(url: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(netloc=parsed.netloc.rpartition("@")[2]).geturl()


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
