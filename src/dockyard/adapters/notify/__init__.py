"""Sending notifications: webhook POSTs (httpx) and e-mail (SMTP, the standard library's smtplib in
a thread). Errors of its own (:mod:`.errors`); messages never hold a secret, a credential, a
signature or the body sent."""

from dockyard.adapters.notify.notifier import Notifier, SmtpSettings

__all__ = ["Notifier", "SmtpSettings"]
