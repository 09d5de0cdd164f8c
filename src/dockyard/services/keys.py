"""Whether the platform's master key fits the database.

Where the key comes from and its first generation are :func:`dockyard.bootstrap.open_box` and
:func:`dockyard.bootstrap.ensure_secret_key`.
"""

from __future__ import annotations

import contextlib

from dockyard.domain.errors import Unavailable
from dockyard.domain.failures import DatabaseConflict, SealFailure
from dockyard.services.ports import Database, SecretBox

CHECK = "master"
_CHECK_TEXT = "dockyard: the secret key of this database"


async def check_database_key(db: Database, box: SecretBox) -> None:
    """Seal a known text into a database that has none; else check the box opens the one there.
    :class:`Unavailable` if it does not: this process would seal what the others cannot open."""
    for _ in range(2):
        async with db.unit_of_work() as uow:
            token = await uow.keys.get(CHECK)
        if token is not None:
            try:
                box.open(token)
            except SealFailure:
                raise Unavailable(
                    "the database's secrets were sealed with another key: set DOCKYARD_SECRET_KEY to that key "
                    "(or list it in DOCKYARD_SECRET_KEY_OLD)"
                ) from None
            return
        with contextlib.suppress(DatabaseConflict):  # another process wrote it meanwhile: check that one
            async with db.unit_of_work() as uow:
                await uow.keys.add(CHECK, box.seal(_CHECK_TEXT))
            return
    raise Unavailable("cannot record the secret key's check in the database")
