"""Builders of the domain's records for unit tests."""

from __future__ import annotations

from typing import Any

from dockyard.domain.live import PodRecord


def pod_record(**changes: Any) -> PodRecord:
    """A Running, Ready instance of shop/web/prod version 1 on node ``n1``, with ``changes`` applied."""
    fields: dict[str, Any] = {
        "namespace": "shop",
        "name": "web-prod-1",
        "uid": "u",
        "app": "web",
        "group": "prod",
        "version": "1",
        "phase": "Running",
        "ready": True,
        "restarts": 0,
        "pod_ip": "10.128.0.5",
        "host_ip": "127.0.0.1",
        "node": "n1",
        "created": 0.0,
        "reason": "",
        "deleting": False,
    }
    return PodRecord(**{**fields, **changes})
