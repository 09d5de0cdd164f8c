"""`dockyard login --sso` (cli/sso.py) in pieces: the PKCE challenge, the authorization address, the
provider's answer checked (state, refusal), the loopback listener, and each refusal of the command as
one line with nothing saved. The whole flow against a real provider: tests/integration/test_sso.py."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from dockyard.cli import sso
from dockyard.cli.client import SSO_ENDED, ApiError, Client, write_cli_config
from dockyard.cli.main import app
from dockyard.cli.transport import Response
from tests.unit.cli.conftest import FakeApi

OFFER = sso.Offer(issuer="https://idp.example", client_id="dockyard-cli", scopes="openid profile groups")
ATTEMPT = sso.Attempt(state="the-state", nonce="the-nonce", verifier="dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DOCKYARD_CLI_CONFIG", str(tmp_path / "cli.yaml"))
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    monkeypatch.delenv("DOCKYARD_SERVER", raising=False)
    return tmp_path / "cli.yaml"


def test_the_challenge_is_rfc_7636s_s256() -> None:
    assert ATTEMPT.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636, appendix B
    fresh = sso.Attempt.new()
    assert len(fresh.verifier) >= 43
    assert len({fresh.state, fresh.nonce, fresh.verifier}) == 3


def test_the_authorization_address_asks_for_a_code_with_pkce() -> None:
    url = sso.authorization_url(
        "https://idp.example/authorize?tenant=a",
        offer=sso.Offer(OFFER.issuer, OFFER.client_id, "profile"),
        redirect_uri="http://127.0.0.1:5555/callback",
        attempt=ATTEMPT,
    )
    parts = urlsplit(url)
    assert parts.netloc == "idp.example"
    assert parts.path == "/authorize"
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "tenant": "a",
        "response_type": "code",
        "client_id": "dockyard-cli",
        "redirect_uri": "http://127.0.0.1:5555/callback",
        "scope": "openid profile",
        "state": "the-state",
        "nonce": "the-nonce",
        "code_challenge": ATTEMPT.challenge,
        "code_challenge_method": "S256",
    }
    assert ATTEMPT.verifier not in url  # only the challenge travels through the browser


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ({"code": "c", "state": "the-state"}, None),
        ({"code": "c", "state": "another"}, "state is not this sign-in's"),
        ({"code": "c"}, "state is not this sign-in's"),
        ({"state": "the-state"}, "no authorization code"),
        ({"error": "access_denied", "state": "the-state"}, "refused the sign-in: access_denied"),
        ({"error": "access_denied", "error_description": "the user said no"}, "access_denied (the user said no)"),
    ],
)
def test_the_providers_answer_is_checked(query: dict[str, str], refused: str | None) -> None:
    if refused is None:
        assert sso.code_of(query, ATTEMPT) == "c"
    else:
        with pytest.raises(sso.SignInFailed, match=refused.replace("(", r"\(").replace(")", r"\)")):
            sso.code_of(query, ATTEMPT)


@pytest.mark.parametrize(
    ("answer", "refused"),
    [
        ({"enabled": False, "login_url": None}, "not configured on http://fake"),
        ({"enabled": True, "login_url": "/auth/login"}, "does not offer single sign-on to the CLI"),  # older server
        ({"enabled": True, "issuer": "https://idp.example", "cli_client_id": None}, "DOCKYARD_OIDC_CLI_CLIENT_ID"),
        ([], "not configured"),
    ],
)
def test_a_server_without_single_sign_on_for_the_cli_is_refused(answer: object, refused: str) -> None:
    with pytest.raises(sso.SignInFailed, match=refused):
        sso.offer_of(answer, "http://fake")
    on = {"enabled": True, "issuer": "https://idp.example/", "cli_client_id": "dockyard-cli", "scopes": "openid"}
    assert sso.offer_of(on, "http://fake") == sso.Offer("https://idp.example", "dockyard-cli", "openid")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (the test's own http URL)
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def _browse(*urls: str) -> tuple[threading.Thread, list[tuple[int, str]]]:
    seen: list[tuple[int, str]] = []
    thread = threading.Thread(target=lambda: seen.extend(_get(u) for u in urls))
    thread.start()
    return thread, seen


def test_the_loopback_takes_the_callback_with_this_sign_ins_state() -> None:
    with sso.Loopback() as loopback:
        assert loopback.redirect_uri.startswith("http://127.0.0.1:")
        assert loopback.redirect_uri.endswith("/callback")
        base = loopback.redirect_uri.removesuffix("/callback")
        thread, seen = _browse(f"{base}/favicon.ico", f"{loopback.redirect_uri}?code=abc&state=the-state")
        assert loopback.wait(ATTEMPT, timeout=10) == "abc"
        thread.join()
    assert [status for status, _ in seen] == [404, 200]
    assert "close this tab" in seen[1][1]


def test_the_loopback_refuses_another_state_and_gives_up_after_its_timeout() -> None:
    with sso.Loopback() as loopback:
        thread, seen = _browse(f"{loopback.redirect_uri}?code=abc&state=forged")
        with pytest.raises(sso.SignInFailed, match="state is not this sign-in's"):
            loopback.wait(ATTEMPT, timeout=10)
        thread.join()
    assert seen[0][0] == 400
    with sso.Loopback() as loopback, pytest.raises(sso.SignInFailed, match=r"no answer from the browser within 0.2 s"):
        loopback.wait(ATTEMPT, timeout=0.2)


def _login(config: Path) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["login", "--sso", "--timeout", "5"])
    assert not config.exists()  # nothing saved
    return done.exit_code, done.output


def test_login_sso_refusals_are_one_line_and_save_nothing(api: FakeApi, config: Path) -> None:
    api.answers[("GET", "/api/v1/auth/sso")] = {"enabled": False, "login_url": None}
    code, output = _login(config)
    assert code == 1
    assert output == "error: single sign-on is not configured on http://fake\n"

    # The provider cannot be reached (nothing listens on port 1).
    api.answers[("GET", "/api/v1/auth/sso")] = {"enabled": True, "issuer": "http://127.0.0.1:1", "cli_client_id": "c"}
    code, output = _login(config)
    assert code == 1
    assert output.startswith("error: cannot reach the identity provider at http://127.0.0.1:1: ")
    assert output.count("\n") == 1

    api.answers[("GET", "/api/v1/auth/sso")] = lambda _: (_ for _ in ()).throw(ApiError(0, "cannot reach it"))
    assert _login(config) == (1, "error: cannot reach it\n")

    both = CliRunner().invoke(app, ["login", "--sso", "--token", "dy_x"])
    assert both.exit_code == 1
    assert "give --user" in both.output


def test_an_expired_sso_token_says_to_sign_in_again(config: Path) -> None:
    write_cli_config("http://dockyard.example", user="sso:alice", id_token="eyJ.a.b")

    class Refusing:
        def send(self, method: str, target: str, headers: object, body: object) -> Response:
            assert headers["Authorization"] == "Bearer eyJ.a.b"  # type: ignore[index]
            return Response(401, "Unauthorized", b'{"code":"unauthenticated","message":"not signed in"}')

        def close(self) -> None:
            pass

    with pytest.raises(ApiError) as refused:
        Client(transport=Refusing()).get("/api/v1/systems")
    assert str(refused.value) == SSO_ENDED
    assert "dockyard login --sso" in SSO_ENDED
