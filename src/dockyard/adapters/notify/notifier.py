"""The :class:`~dockyard.services.ports.Notifier` port: webhook POSTs and plain-text e-mail."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import urlsplit

import httpx

from dockyard.adapters.notify.errors import MailError, WebhookError


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mail goes out: ``host`` "" means e-mail is not configured (sending fails clearly)."""

    host: str = ""
    port: int = 25
    sender: str = "dockyard@localhost"
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0


class Notifier:
    def __init__(self, smtp: SmtpSettings, *, timeout: float = 10.0) -> None:
        self._smtp = smtp
        self._timeout = timeout

    async def post(self, url: str, body: bytes, *, headers: Mapping[str, str]) -> None:
        where = _where(url)
        try:
            async with httpx.AsyncClient(timeout=self._timeout, follow_redirects=False) as client:
                response = await client.post(url, content=body, headers={"Content-Type": "application/json", **headers})
        except httpx.HTTPError as e:
            raise WebhookError(f"cannot reach the webhook at {where}: {type(e).__name__}") from e
        if not 200 <= response.status_code < 300:
            raise WebhookError(f"the webhook at {where} answered {response.status_code}")

    async def mail(self, to: Sequence[str], subject: str, text: str) -> None:
        if not self._smtp.host:
            raise MailError("e-mail is not configured (DOCKYARD_SMTP_HOST)")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self._smtp.sender, ", ".join(to), subject
        message.set_content(text)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        smtp = self._smtp
        try:
            with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
                if smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if smtp.username:
                    client.login(smtp.username, smtp.password)
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as e:
            # smtplib's messages may echo the server's reply, never our credentials.
            raise MailError(f"cannot send e-mail through {smtp.host}:{smtp.port}: {type(e).__name__}") from e


def _where(url: str) -> str:
    """The URL's scheme, host and port only: a path or query may hold a receiver's token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"
