"""The platform's master key: where it comes from, its first generation, and whether it fits the database.

The key is ``secret_key`` if set, else the content of ``secret_key_file``; earlier keys
(``secret_key_old``) still open what they sealed. :func:`ensure_secret_key` is for entry points
(the server, ``dockyard up``, ``dockyard db upgrade``): on a first start without a key it writes a new
one to ``secret_key_file`` (mode 0600, put in place atomically, never over an existing file, never
logged). Losing that file loses every sealed value: back it up with the database, or set
``DOCKYARD_SECRET_KEY`` (several replicas must share one key).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from dockyard.adapters.db.database import Database
from dockyard.adapters.db.errors import DatabaseConflictError
from dockyard.adapters.secretbox import SecretBox, SecretBoxError
from dockyard.domain.errors import InvalidInput, Unavailable
from dockyard.settings import Settings

CHECK = "master"
_CHECK_TEXT = "dockyard: the secret key of this database"


def ensure_secret_key(settings: Settings) -> bool:
    """Write a new key to ``secret_key_file`` unless a key is set or the file exists; True if written."""
    if settings.secret_key is not None or settings.secret_key_file.exists():
        return False
    return _create_private(settings.secret_key_file, SecretBox.generate_key() + "\n")


def open_box(settings: Settings) -> SecretBox:
    """The box of the configured keys; :class:`InvalidInput` (``secret_key``) if there is none or one
    is malformed. Messages never hold a key."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
    else:
        try:
            key = settings.secret_key_file.read_text()
        except FileNotFoundError:
            raise InvalidInput(
                "secret_key",
                f"no secret key: set DOCKYARD_SECRET_KEY, or start the server once to generate "
                f"{settings.secret_key_file}",
            ) from None
        except (OSError, UnicodeDecodeError) as e:
            raise InvalidInput(
                "secret_key", f"cannot read the secret key file {settings.secret_key_file}: {type(e).__name__}"
            ) from None
    try:
        return SecretBox(key, old_keys=[k.get_secret_value() for k in settings.secret_key_old])
    except SecretBoxError as e:
        raise InvalidInput("secret_key", str(e)) from None


async def check_database_key(db: Database, box: SecretBox) -> None:
    """Seal a known text into a database that has none; else check the box opens the one there.
    :class:`Unavailable` if it does not: this process would seal what the others cannot open."""
    for _ in range(2):
        async with db.unit_of_work() as uow:
            token = await uow.keys.get(CHECK)
        if token is not None:
            try:
                box.open(token)
            except SecretBoxError:
                raise Unavailable(
                    "the database's secrets were sealed with another key: set DOCKYARD_SECRET_KEY to that key "
                    "(or list it in DOCKYARD_SECRET_KEY_OLD)"
                ) from None
            return
        with contextlib.suppress(DatabaseConflictError):  # another process wrote it meanwhile: check that one
            async with db.unit_of_work() as uow:
                await uow.keys.add(CHECK, box.seal(_CHECK_TEXT))
            return
    raise Unavailable("cannot record the secret key's check in the database")


def _create_private(path: Path, content: str) -> bool:
    """Create ``path`` holding ``content``, readable by its owner only; False if it already exists.

    Written to a new temporary file first, then linked into place: the file appears whole or not at
    all, and an existing one (another process's new key) is never replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.link(fresh, path)
    except FileExistsError:
        return False
    finally:
        fresh.unlink(missing_ok=True)
    return True
