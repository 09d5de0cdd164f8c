"""SecretBox: sealing round trips, wrong keys and altered tokens fail with our error, rotation, derivation."""

from __future__ import annotations

import base64

import pytest

from dockyard.adapters.secretbox import SecretBox, SecretBoxError

KEY = SecretBox.generate_key()
OTHER = SecretBox.generate_key()
SECRET = "hunter2-db-password"


def test_seal_and_open_round_trip_and_hide_the_plaintext() -> None:
    box = SecretBox(KEY)
    token = box.seal(SECRET)
    assert SECRET not in token
    assert token.isascii()
    assert box.open(token) == SECRET
    assert box.seal(SECRET) != token  # a fresh IV each time
    assert box.open(box.seal("")) == ""
    assert box.open(box.seal("ünïcode ✓")) == "ünïcode ✓"


def test_a_wrong_key_cannot_open_and_the_error_holds_no_secret() -> None:
    token = SecretBox(KEY).seal(SECRET)
    with pytest.raises(SecretBoxError) as caught:
        SecretBox(OTHER).open(token)
    message = str(caught.value)
    assert SECRET not in message
    assert token not in message
    assert KEY not in message
    assert OTHER not in message


@pytest.mark.parametrize("position", [0, 10, 40, -5, -1])
def test_an_altered_token_does_not_open(position: int) -> None:
    box = SecretBox(KEY)
    token = box.seal(SECRET)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[position] ^= 0x01
    with pytest.raises(SecretBoxError):
        box.open(base64.urlsafe_b64encode(bytes(raw)).decode())


@pytest.mark.parametrize("garbage", ["", "not a token", "gAAAA", "é", "x" * 1000])
def test_garbage_does_not_open(garbage: str) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(KEY).open(garbage)


def test_rotation_opens_with_old_keys_and_seals_with_the_current_one() -> None:
    old_token = SecretBox(OTHER).seal(SECRET)
    rotated = SecretBox(KEY, old_keys=[OTHER])
    assert rotated.open(old_token) == SECRET
    new_token = rotated.seal(SECRET)
    assert SecretBox(KEY).open(new_token) == SECRET
    with pytest.raises(SecretBoxError):
        SecretBox(OTHER).open(new_token)
    resealed = rotated.reseal(old_token)
    assert SecretBox(KEY).open(resealed) == SECRET


@pytest.mark.parametrize(
    "key",
    ["", "short", base64.urlsafe_b64encode(b"x" * 16).decode(), base64.urlsafe_b64encode(b"x" * 33).decode(), "!" * 44],
)
def test_a_malformed_key_is_refused_without_echoing_it(key: str) -> None:
    with pytest.raises(SecretBoxError) as caught:
        SecretBox(key)
    assert "32 random bytes" in str(caught.value)
    if key:
        assert key not in str(caught.value)
    with pytest.raises(SecretBoxError, match="old secret key #1"):
        SecretBox(KEY, old_keys=[key])


def test_a_key_file_line_with_its_newline_is_a_key() -> None:
    assert SecretBox(KEY + "\n").open(SecretBox(KEY).seal(SECRET)) == SECRET


def test_derive_gives_a_stable_key_per_purpose_and_master_key() -> None:
    box = SecretBox(KEY)
    jwt = box.derive("jwt")
    assert len(jwt) == 32
    assert jwt == SecretBox(KEY).derive("jwt")
    assert jwt != box.derive("csrf")
    assert jwt != SecretBox(OTHER).derive("jwt")
    assert jwt != base64.urlsafe_b64decode(KEY)  # never the master key itself
    assert SecretBox(KEY, old_keys=[OTHER]).derive_all("jwt") == (jwt, SecretBox(OTHER).derive("jwt"))


@pytest.mark.parametrize("purpose", ["", "dockyard.secretbox.fernet", "dockyard.secretbox.fingerprint"])
def test_derive_refuses_the_box_own_purposes(purpose: str) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox(KEY).derive(purpose)


def test_fingerprints_are_keyed_and_stable() -> None:
    box = SecretBox(KEY)
    assert box.fingerprint(SECRET) == SecretBox(KEY).fingerprint(SECRET)
    assert box.fingerprint(SECRET) != box.fingerprint(SECRET + "!")
    assert box.fingerprint(SECRET) != SecretBox(OTHER).fingerprint(SECRET)
    assert SECRET not in box.fingerprint(SECRET)


def test_repr_hides_the_keys() -> None:
    assert KEY not in repr(SecretBox(KEY))
    assert KEY not in str(SecretBox(KEY))
