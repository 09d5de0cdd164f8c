"""What Dockyard ships for Prometheus: its rule files (``rules/*.yml``), as package data.

Prometheus loads them from :func:`rules_dir` (the sandbox's generated configuration points at it; a
production Prometheus is given the same files). Their series names are what
:mod:`dockyard.domain.metrics` queries.
"""

from __future__ import annotations

from pathlib import Path


def rules_dir() -> Path:
    """The directory of Dockyard's rule files."""
    return Path(__file__).parent / "rules"
