"""Serving the web console (``web/``, built into ``web/dist``) at ``/``.

Contract: ``GET /`` answers the console's ``index.html``, or, when the console is not built, a short
page saying how to build it (the API works either way). Any other ``GET``/``HEAD`` that no route
answers and that is not under ``/api/`` is a file of the build when one exists by that path (hashed
assets cached for a year), else ``index.html`` (the console's client-side routes: ``/systems/shop``).
Paths never leave the build directory. Everything under ``/api/`` keeps its JSON 404.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

import dockyard

NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>Dockyard</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>Dockyard</h1><p>The API is at <a href="/docs">/api/v1</a>, but the web console is not built.</p>
<p>Build it with <code>scripts/setup</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>),
then reload this page.</p></body></html>"""


def default_directory() -> Path:
    """``web/dist`` of the source tree this package runs from."""
    return Path(dockyard.__file__).resolve().parents[2] / "web" / "dist"


class Console:
    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()

    @property
    def built(self) -> bool:
        return (self.directory / "index.html").is_file()

    def index(self) -> Response:
        if not self.built:
            return HTMLResponse(NOT_BUILT)
        return FileResponse(self.directory / "index.html", headers={"Cache-Control": "no-cache"})

    def page(self, request: Request) -> Response | None:
        """What a GET nothing else answered gets, or None for the usual 404."""
        path = request.url.path
        if request.method not in ("GET", "HEAD") or path.startswith("/api/") or not self.built:
            return None
        wanted = (self.directory / path.lstrip("/")).resolve()
        if wanted.is_file() and wanted.is_relative_to(self.directory):
            immutable = wanted.parent.name == "assets"
            return FileResponse(
                wanted, headers={"Cache-Control": "public, max-age=31536000, immutable"} if immutable else None
            )
        return self.index()
