"""Alertmanager's HTTP API v2 (silences), :class:`Alertmanager`; errors in :mod:`.errors`."""

from dockyard.adapters.alertmanager.client import Alertmanager

__all__ = ["Alertmanager"]
