import pytest
from typer.testing import CliRunner

from dockyard.cli.main import app


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
