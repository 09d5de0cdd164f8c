"""Clusters registered by path before migration 0006: sealed at the next start when their file is usable."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from dockyard import bootstrap
from dockyard.adapters.db import migrate
from dockyard.adapters.db.engine import make_engine
from dockyard.adapters.kube.errors import KubeError
from dockyard.adapters.secretbox import SecretBox
from dockyard.domain.clusters import Cluster
from dockyard.settings import Settings

TOKEN = "legacy-bearer-token-42"
GOOD = (
    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
    "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
    f"users: [{{name: u, user: {{token: {TOKEN}}}}}]\ncontexts: [{{name: c, context: {{cluster: c, user: u}}}}]\n"
)


async def test_paths_are_sealed_when_usable_and_marked_otherwise(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'd.db'}"
    good = tmp_path / "good.kubeconfig"
    good.write_text(GOOD)
    with_files = tmp_path / "files.kubeconfig"
    with_files.write_text(GOOD.replace(f"token: {TOKEN}", "tokenFile: /etc/hostname"))
    engine = make_engine(url)
    try:
        await migrate.upgrade(engine, "0005")
        async with engine.begin() as conn:
            for name, kubeconfig in (
                ("good", str(good)),
                ("missing", str(tmp_path / "missing")),
                ("files", str(with_files)),
                ("here", "in-cluster"),
            ):
                await conn.execute(
                    text("INSERT INTO clusters (name, kubeconfig, labels) VALUES (:n, :k, '{}')"),
                    {"n": name, "k": kubeconfig},
                )
    finally:
        await engine.dispose()

    key = SecretBox.generate_key()
    with caplog.at_level(logging.INFO):
        platform = await bootstrap.start(Settings(database_url=url, secret_key=SecretStr(key)))
    try:
        async with platform.db.unit_of_work() as uow:
            clusters = {c.name: c for c in await uow.clusters.all()}
        assert {n: c.kubeconfig_form for n, c in clusters.items()} == {
            "good": "sealed",
            "missing": "path",
            "files": "path",
            "here": "in-cluster",
        }
        assert TOKEN not in clusters["good"].kubeconfig
        read = bootstrap.kubeconfig_reader(platform.box)
        assert TOKEN in read(clusters["good"])
        assert read(clusters["here"]) == "in-cluster"
        with pytest.raises(KubeError, match="register it again"):
            read(clusters["missing"])
        assert clusters["missing"].kubeconfig == str(tmp_path / "missing")  # kept, to be registered again
    finally:
        await platform.stop()
    assert TOKEN not in caplog.text
    assert "cluster missing: its kubeconfig file cannot be read" in caplog.text
    assert "cluster files: its kubeconfig file cannot be stored" in caplog.text


def test_a_kubeconfig_sealed_with_a_lost_key_is_a_kube_error() -> None:
    sealed = SecretBox(SecretBox.generate_key()).seal(GOOD)
    read = bootstrap.kubeconfig_reader(SecretBox(SecretBox.generate_key()))
    with pytest.raises(KubeError, match="sealed with a secret key that is not configured"):
        read(Cluster("far", sealed))
