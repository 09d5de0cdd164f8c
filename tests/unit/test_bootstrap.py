"""The composition root: settings grouped as services read them, registry clients and git checkouts
with the configured credentials."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from dockyard import bootstrap
from dockyard.domain.images import RegistryAuth
from dockyard.settings import Settings


def test_services_get_the_build_settings_and_every_credential_to_redact(tmp_path: Path) -> None:
    settings = Settings(
        build_dir=tmp_path,
        build_concurrency=3,
        build_source_roots=["/srv/git"],
        registry_password=SecretStr("reg-secret"),
        git_password=SecretStr("git-secret"),
        image_keep=7,
    )
    config = bootstrap.config(settings)
    assert config.builds.work_dir == tmp_path / "work"
    assert (config.builds.concurrency, config.builds.source_roots) == (3, ("/srv/git",))
    assert config.builds.secrets == ("reg-secret", "git-secret")
    assert config.image_keep == 7
    assert bootstrap.config(Settings(build_dir=tmp_path)).builds.secrets == ()


def test_loopback_and_listed_registries_are_spoken_to_over_plain_http() -> None:
    registries = bootstrap.Registries(plain_http=("registry.lan:5000",))
    for repository, scheme in (
        ("127.0.0.1:5000/shop/web", "http"),
        ("localhost:5000/shop/web", "http"),
        ("registry.lan:5000/shop/web", "http"),
        ("harbor.example.com/shop/web", "https"),
    ):
        client, path = registries.open(repository)
        assert (str(client._client.base_url).split(":")[0], path) == (scheme, "shop/web")


def test_a_builder_gets_registry_credentials_only_when_both_are_configured() -> None:
    assert bootstrap.Registries(username="ci").auth("harbor.example.com/shop/web") == []
    assert bootstrap.Registries(username="ci", password="pw").auth("harbor.example.com:8443/shop/web") == [
        RegistryAuth(host="harbor.example.com:8443", username="ci", password="pw")
    ]


async def test_a_git_password_alone_goes_as_a_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str] = {}

    async def checkout(url: str, **kw: object) -> str:
        seen.update(username=str(kw["username"]), password=str(kw["password"]))
        return "0" * 40

    monkeypatch.setattr(bootstrap.git, "checkout", checkout)
    await bootstrap.Sources(password="tok").checkout(
        "https://git.example/r", ref_kind="branch", ref="main", into=tmp_path, on_line=print
    )
    assert seen == {"username": "x-access-token", "password": "tok"}
    await bootstrap.Sources().checkout(
        "https://git.example/r", ref_kind="branch", ref="main", into=tmp_path, on_line=print
    )
    assert seen == {"username": "", "password": ""}
