"""Write the API's OpenAPI description to a file (the console's client is generated from it).

python -m dockyard.api.openapi web/openapi.json
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from dockyard.api.app import create_app
from dockyard.bootstrap import Server
from dockyard.services.platform import Platform


def _never() -> AbstractAsyncContextManager[Platform]:
    raise AssertionError("the schema is written without running the platform")


def main(argv: list[str]) -> None:
    schema = create_app(Server(running=_never, console_dir=Path("/nonexistent"))).openapi()
    text = json.dumps(schema, indent=1, sort_keys=True) + "\n"
    target = Path(argv[0])
    if not target.exists() or target.read_text() != text:  # unchanged: the console need not be rebuilt
        target.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
