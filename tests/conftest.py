from pathlib import Path

import pytest

_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def _private_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes the user's own state (the first admin's token file) or reads their CLI config."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("DOCKYARD_STATE_DIR", str(state))
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(state / "cli.yaml"))
