"""Secrets at rest: seal text under the platform's master key, open it again, derive keys from it.

A master key is 32 random bytes written in URL-safe base64 (:meth:`SecretBox.generate_key`). It is
never used as a cipher key itself: HKDF-SHA256 derives one key per purpose from it, and sealing uses
Fernet (AES-128-CBC with HMAC-SHA256, random IV, timestamp) under the purpose
``dockyard.secretbox.fernet``. Other parts get keys of their own with :meth:`SecretBox.derive`.

Rotation: a box holds the current key and any number of old ones; :meth:`~SecretBox.open` tries the
current key first, then the old ones; :meth:`~SecretBox.seal` always uses the current key.

Errors: only :class:`SecretBoxError` (the domain's ``SealFailure``), whose message never holds a key, a
token or a plaintext.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dockyard.domain.failures import SealFailure

KEY_BYTES = 32
_RESERVED = "dockyard.secretbox."
_FERNET = _RESERVED + "fernet"
_FINGERPRINT = _RESERVED + "fingerprint"


class SecretBoxError(SealFailure):
    """A key that is not a key, or a sealed value that cannot be opened with the box's keys."""


class SecretBox:
    """Seal and open text under ``key`` (current) and ``old_keys`` (for opening only)."""

    def __init__(self, key: str, *, old_keys: Sequence[str] = ()) -> None:
        self._master = _decode_key(key, "the secret key")
        self._old = tuple(_decode_key(k, f"old secret key #{i + 1}") for i, k in enumerate(old_keys))
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_hkdf(m, _FERNET))) for m in (self._master, *self._old)]
        )
        self._fingerprint_key = _hkdf(self._master, _FINGERPRINT)

    @staticmethod
    def generate_key() -> str:
        """A new master key: 32 random bytes, URL-safe base64 (44 characters)."""
        return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()

    def __repr__(self) -> str:
        return f"SecretBox(<{1 + len(self._old)} key(s) hidden>)"

    def seal(self, plaintext: str) -> str:
        """``plaintext`` encrypted and authenticated under the current key, as ASCII text."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def open(self, token: str) -> str:
        """The plaintext of a :meth:`seal`\\ ed token, under the current or an old key."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode()
        except (InvalidToken, UnicodeError, TypeError, AttributeError):
            raise SecretBoxError(
                "a sealed value cannot be opened: it was sealed with a key that is not configured, or altered"
            ) from None

    def reseal(self, token: str) -> str:
        """A token sealed under an old key, sealed again under the current one (same plaintext)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, TypeError, AttributeError):
            raise SecretBoxError("a sealed value cannot be resealed: no configured key opens it") from None

    def derive(self, purpose: str) -> bytes:
        """32 bytes for ``purpose`` (e.g. ``"jwt"``): HKDF-SHA256 of the current master key with the
        purpose as info. Equal purposes give equal keys; the box's own purposes are refused."""
        return _hkdf(self._master, _check_purpose(purpose))

    def derive_all(self, purpose: str) -> tuple[bytes, ...]:
        """:meth:`derive` under the current key, then under each old key: to verify what was signed
        before a rotation."""
        checked = _check_purpose(purpose)
        return tuple(_hkdf(m, checked) for m in (self._master, *self._old))

    def fingerprint(self, plaintext: str) -> str:
        """A keyed digest of ``plaintext`` (HMAC-SHA256 under a derived key, hex): equal values give
        equal fingerprints under one key, and it cannot be guessed from without the key, as a plain
        SHA-256 of a short secret could."""
        return hmac.new(self._fingerprint_key, plaintext.encode(), hashlib.sha256).hexdigest()


def _decode_key(key: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeError, AttributeError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise SecretBoxError(f"{what} must be {KEY_BYTES} random bytes in URL-safe base64 (44 characters)")
    return raw


def _check_purpose(purpose: str) -> str:
    if not isinstance(purpose, str) or not purpose or purpose.startswith(_RESERVED):
        raise SecretBoxError(f"a key purpose must be a non-empty string not starting with {_RESERVED!r}")
    return purpose


def _hkdf(master: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()).derive(master)
