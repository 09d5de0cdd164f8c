"""Bodies of the operation endpoints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel

from dockyard.domain.model import Operation
from dockyard.domain.operations import to_data


class OperationOut(BaseModel):
    id: str
    action: str
    actor: str
    system: str
    app: str
    group: str
    params: dict[str, Any]
    status: str
    error: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, o: Operation) -> OperationOut:
        return cls(**{**vars(o), "params": to_data(o.params)})
