"""Errors of the Alertmanager adapter.

AlertmanagerError (domain AlertmanagerFailure)    cannot be reached, or answered 5xx
└── AlertmanagerRefusedError (domain AlertmanagerRefused)   answered 4xx (``status`` kept)
"""

from __future__ import annotations

from dockyard.domain.failures import AlertmanagerFailure, AlertmanagerRefused


class AlertmanagerError(AlertmanagerFailure):
    pass


class AlertmanagerRefusedError(AlertmanagerError, AlertmanagerRefused):
    def __init__(self, message: str, *, status: int) -> None:
        AlertmanagerRefused.__init__(self, message, status=status)
