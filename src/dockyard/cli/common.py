"""What every CLI command over the API shares: the --server/--token options and a client that turns
API errors into one printed line and exit code 1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from dockyard.cli.client import ApiError, Client
from dockyard.cli.errors import fail

ServerOpt = Annotated[str | None, typer.Option("--server", help="Dockyard server URL [$DOCKYARD_SERVER]")]
TokenOpt = Annotated[str | None, typer.Option("--token", help="API token [$DOCKYARD_TOKEN]", show_default=False)]


@contextmanager
def client(server: str | None, token: str | None) -> Iterator[Client]:
    try:
        made = Client(server, token)
    except ApiError as e:
        fail(e)
    try:
        yield made
    except ApiError as e:
        fail(e)
    finally:
        made.close()


def k(key: str) -> Callable[[dict[str, Any]], Any]:
    """A table column reading ``key`` of each item."""
    return lambda d: d.get(key)
