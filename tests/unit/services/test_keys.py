"""The master key: generated once into a private file, read back, checked against the database."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from dockyard import bootstrap
from dockyard.adapters.db.database import Database
from dockyard.adapters.secretbox import SecretBox
from dockyard.domain.errors import InvalidInput, Unavailable
from dockyard.services import keys
from dockyard.settings import Settings

KEY = SecretBox.generate_key()


def _settings(tmp_path: Path, **more: object) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'd.db'}", secret_key_file=tmp_path / "state" / "key", **more
    )  # type: ignore[arg-type]


def test_a_first_start_writes_a_private_key_file_once(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert bootstrap.ensure_secret_key(settings)
    content = settings.secret_key_file.read_text()
    assert stat.S_IMODE(settings.secret_key_file.stat().st_mode) == 0o600
    assert not bootstrap.ensure_secret_key(settings)
    assert settings.secret_key_file.read_text() == content  # never replaced
    assert [p.name for p in settings.secret_key_file.parent.iterdir()] == ["key"]  # no temporary file left
    box = bootstrap.open_box(settings)
    assert box.open(SecretBox(content).seal("x")) == "x"


def test_an_existing_key_file_is_never_overwritten(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.secret_key_file.parent.mkdir()
    settings.secret_key_file.write_text(KEY)
    assert not bootstrap.ensure_secret_key(settings)
    assert settings.secret_key_file.read_text() == KEY


def test_a_configured_key_needs_no_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path, secret_key=SecretStr(KEY))
    assert not bootstrap.ensure_secret_key(settings)
    assert not settings.secret_key_file.exists()
    assert bootstrap.open_box(settings).open(SecretBox(KEY).seal("x")) == "x"


def test_old_keys_open_what_they_sealed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    old = SecretBox.generate_key()
    monkeypatch.setenv("DOCKYARD_SECRET_KEY", KEY)
    monkeypatch.setenv("DOCKYARD_SECRET_KEY_OLD", f"{SecretBox.generate_key()}, {old}")
    box = bootstrap.open_box(Settings())
    assert box.open(SecretBox(old).seal("x")) == "x"


def test_no_key_or_a_malformed_one_is_an_error_naming_the_setting_not_the_key(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no secret key") as caught:
        bootstrap.open_box(_settings(tmp_path))
    assert caught.value.field == "secret_key"
    bad = "not-a-key-but-a-password-someone-typed"
    with pytest.raises(InvalidInput) as caught:
        bootstrap.open_box(_settings(tmp_path, secret_key=SecretStr(bad)))
    assert bad not in str(caught.value)


async def test_a_database_refuses_a_start_with_another_key(tmp_path: Path) -> None:
    first = _settings(tmp_path, secret_key=SecretStr(KEY))
    platform = await bootstrap.start(first)
    await platform.stop()
    other = SecretBox.generate_key()
    with pytest.raises(Unavailable, match="sealed with another key"):
        await bootstrap.start(_settings(tmp_path, secret_key=SecretStr(other)))
    rotated = await bootstrap.start(_settings(tmp_path, secret_key=SecretStr(other), secret_key_old=[SecretStr(KEY)]))
    await rotated.stop()


async def test_the_key_check_is_written_once(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'd.db'}")
    try:
        await db.upgrade()
        box = SecretBox(KEY)
        await keys.check_database_key(db, box)
        async with db.unit_of_work() as uow:
            token = await uow.keys.get(keys.CHECK)
        await keys.check_database_key(db, box)
        async with db.unit_of_work() as uow:
            assert await uow.keys.get(keys.CHECK) == token
    finally:
        await db.dispose()
