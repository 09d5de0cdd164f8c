"""The console's types are generated from the OpenAPI document by schema name: every name the console
uses must stay in it, whichever module of api/schemas/ a body lives in."""

from __future__ import annotations

import re
from pathlib import Path

from dockyard import bootstrap
from dockyard.api.app import create_app
from dockyard.settings import Settings

WEB = Path(__file__).resolve().parents[3] / "web" / "src"


def test_every_schema_the_console_names_is_in_the_openapi_document() -> None:
    used = {
        name
        for path in WEB.rglob("*.ts*")
        if "node_modules" not in path.parts and path.name != "schema.d.ts"
        for name in re.findall(r"""[Ss]chemas\[["']([A-Za-z]+)["']\]""", path.read_text())
    }
    assert used, "the console names no schema: the pattern above no longer matches its code"
    document = create_app(bootstrap.server(Settings(console_dir=Path("/nonexistent")))).openapi()
    assert used <= set(document["components"]["schemas"])
