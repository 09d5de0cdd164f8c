"""Errors of the notify adapter.

NotifyError (domain NotifyFailure)
├── WebhookError   the receiver could not be reached, or answered other than 2xx
└── MailError      the SMTP server could not be reached or refused the message
"""

from __future__ import annotations

from dockyard.domain.failures import NotifyFailure


class NotifyError(NotifyFailure):
    pass


class WebhookError(NotifyError):
    pass


class MailError(NotifyError):
    pass
