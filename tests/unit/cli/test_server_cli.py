from pathlib import Path

import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app
from dockyard.settings import Settings


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"DOCKYARD_DATABASE_URL": "mysql://x"},
            "error: setting database_url (DOCKYARD_DATABASE_URL): "
            "Value error, must start with sqlite+aiosqlite:// or postgresql+asyncpg://",
        ),
        ({"DOCKYARD_PORT": "0"}, "error: setting port (DOCKYARD_PORT): Input should be greater than or equal to 1"),
    ],
)
def test_bad_settings_are_one_error_line(env: dict[str, str], message: str) -> None:
    result = CliRunner().invoke(app, ["server"], env=env)
    assert result.exit_code == 1
    assert result.output.strip() == message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql+asyncpg://dock:s3cret-pw@127.0.0.1:1/dockyard",
            "error: cannot open and migrate the database: ConnectionRefusedError: Connect call failed ('127.0.0.1', 1)",
        ),
        (
            "postgresql+asyncpg://dock:s3cret-pw@127.0.0.1:notaport/dockyard",
            "error: the database URL is not usable (ValueError)",
        ),
    ],
)
def test_an_unusable_database_is_one_line_without_the_password(url: str, message: str) -> None:
    result = CliRunner().invoke(app, ["server"], env={"DOCKYARD_DATABASE_URL": url})
    assert result.exit_code == 1
    assert result.output.strip() == message
    assert "s3cret-pw" not in result.output


def test_a_broken_config_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("port: [8080\n")
    result = CliRunner().invoke(app, ["server"], env={"DOCKYARD_CONFIG": str(config)})
    assert result.exit_code == 1
    assert result.output.startswith(f"error: config file {config}: ParserError: ")
    assert len(result.output.strip().splitlines()) == 1


def test_settings_come_from_the_config_file_under_the_environment(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("port: 9090\nhost: 127.0.0.2\n")
    settings = load_settings_from(config, {"DOCKYARD_PORT": "9191"})
    assert (settings.host, settings.port) == ("127.0.0.2", 9191)


def load_settings_from(config: Path, env: dict[str, str]) -> Settings:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DOCKYARD_CONFIG", str(config))
        for key, value in env.items():
            patch.setenv(key, value)
        return Settings()


@pytest.mark.parametrize(
    ("problem", "owner", "running", "count", "said"),
    [
        (None, None, False, 1, ""),  # the machine can: one real node
        ("a real node needs root", None, False, 0, "no real node: a real node needs root; going on"),
        (None, "/other", True, 0, "no real node: the sandbox in /other runs this machine's real node"),
        (None, "/other", False, 1, ""),  # a stale marker: taken over
        (None, "/mine", True, 1, ""),  # this sandbox already has it
    ],
)
def test_dockyard_up_starts_a_real_node_when_the_machine_can(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    problem: str | None,
    owner: str | None,
    running: bool,
    count: int,
    said: str,
) -> None:
    from dockyard.cli.server import _real_nodes_here
    from dockyard.sandbox import realnode
    from dockyard.sandbox.layout import Layout

    monkeypatch.setattr(realnode, "host_problem", lambda: problem)
    monkeypatch.setattr(realnode, "owner", lambda: Path(owner) if owner else None)
    monkeypatch.setattr(realnode, "running_in", lambda _root: running)
    assert _real_nodes_here(Layout(Path("/mine"))) == count
    assert said in capsys.readouterr().out


def test_dockyard_up_lets_builds_take_sources_from_the_local_sources_directory_only(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from dockyard.cli.server import with_local_sources

    monkeypatch.setenv("HOME", str(tmp_path))
    sources = tmp_path / ".local" / "share" / "dockyard" / "sources"
    given = Settings(build_source_roots=["/srv/git"])
    local = with_local_sources(given)
    assert local.build_source_roots == ["/srv/git", str(sources)]
    assert sources.is_dir()
    assert sources.stat().st_mode & 0o777 == 0o700
    assert with_local_sources(local).build_source_roots == local.build_source_roots  # added once
    assert given.build_source_roots == ["/srv/git"]  # `dockyard server` is unchanged
    assert Settings().build_source_roots == []  # no file:// at all by default
