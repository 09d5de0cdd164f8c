"""Kubernetes resource quantities (``"1.5Gi"``, ``"250m"``, ``"1e3"``) as exact amounts. Pure."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_QUANTITY = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE])?$")
_SUFFIXES = {
    **{s: Decimal(1024) ** (i + 1) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"))},
    **{s: Decimal(10) ** e for s, e in (("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9))},
    **{s: Decimal(10) ** e for s, e in (("T", 12), ("P", 15), ("E", 18))},
}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity's amount (``"1.5Gi"``, ``"250m"``, ``"1e3"``, ``2``), ``None`` if not one."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    match = _QUANTITY.match(str(value).strip())
    if match is None:
        return None
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
        if suffix and suffix[0] in "eE" and len(suffix) > 1:
            return amount.scaleb(int(suffix[1:]))
        return amount * _SUFFIXES.get(suffix or "", Decimal(1))
    except InvalidOperation:
        return None
