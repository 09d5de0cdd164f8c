"""`dockyard cluster register` reads a kubeconfig file here and sends one context, files embedded."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import typer
import yaml

from dockyard.cli.kubeconfigs import read_kubeconfig
from dockyard.domain.clusters import check_kubeconfig

KUBECONFIG = """
apiVersion: v1
kind: Config
current-context: dev
contexts:
- {name: dev, context: {cluster: dev, user: dev}}
- {name: prod, context: {cluster: prod, user: prod, namespace: ops}}
clusters:
- {name: dev, cluster: {server: 'https://dev:6443', certificate-authority: ca.crt}}
- {name: prod, cluster: {server: 'https://prod:6443', certificate-authority-data: UFJPRA==}}
users:
- {name: dev, user: {client-certificate: certs/dev.crt, client-key: certs/dev.key}}
- {name: prod, user: {tokenFile: prod-token}}
"""


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    (tmp_path / "certs").mkdir()
    (tmp_path / "ca.crt").write_bytes(b"CA")
    (tmp_path / "certs" / "dev.crt").write_bytes(b"CERT")
    (tmp_path / "certs" / "dev.key").write_bytes(b"KEY")
    (tmp_path / "prod-token").write_text("prod-secret\n")
    path = tmp_path / "config"
    path.write_text(KUBECONFIG)
    return path


def test_the_current_context_is_sent_with_its_files_embedded(kubeconfig: Path) -> None:
    sent = read_kubeconfig(kubeconfig)
    data = yaml.safe_load(sent)
    assert [c["name"] for c in data["contexts"]] == ["dev"]
    assert data["clusters"] == [
        {"name": "dev", "cluster": {"server": "https://dev:6443", "certificate-authority-data": "Q0E="}}
    ]
    user = data["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == b"CERT"
    assert base64.b64decode(user["client-key-data"]) == b"KEY"
    assert "prod-secret" not in sent
    check_kubeconfig(sent)  # what the server accepts


def test_another_context_can_be_chosen(kubeconfig: Path) -> None:
    data = yaml.safe_load(read_kubeconfig(kubeconfig, context="prod"))
    assert data["current-context"] == "prod"
    assert data["users"] == [{"name": "prod", "user": {"token": "prod-secret"}}]
    assert data["contexts"][0]["context"]["namespace"] == "ops"


@pytest.mark.parametrize(
    ("content", "context"),
    [
        ("{not yaml: [", None),
        ("- a list\n", None),
        (KUBECONFIG, "staging"),
        (KUBECONFIG.replace("ca.crt", "no.crt"), None),
    ],
)
def test_problems_are_one_line_errors(
    kubeconfig: Path, content: str, context: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig.write_text(content)
    with pytest.raises(typer.Exit):
        read_kubeconfig(kubeconfig, context=context)
    assert capsys.readouterr().err.startswith(f"error: kubeconfig {kubeconfig}")
