"""Tokens and users: the first admin's token every test server starts with, and users made through the API."""

from __future__ import annotations

import httpx

ADMIN_TOKEN = "dy_" + "a" * 40  # the first admin's API token (``admin_token`` / DOCKYARD_ADMIN_TOKEN)


def bearer(token: str) -> dict[str, str]:
    """The headers that present ``token``."""
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)


async def user_with_token(http: httpx.AsyncClient, name: str, *, by: dict[str, str] = ADMIN) -> dict[str, str]:
    """A new user ``name`` (made by ``by``) and the headers of an API token of theirs."""
    made = await http.post("/api/v1/users", json={"name": name}, headers=by)
    assert made.status_code == 201, made.text
    token = await http.post(f"/api/v1/users/{name}/tokens", json={"name": "t"}, headers=by)
    assert token.status_code == 201, token.text
    return bearer(token.json()["token"])


async def user_with_password(
    http: httpx.AsyncClient, name: str, password: str, *, by: dict[str, str] = ADMIN
) -> dict[str, str]:
    """A new user ``name`` with ``password``, and the headers of a fresh login as them."""
    made = await http.post("/api/v1/users", json={"name": name, "password": password}, headers=by)
    assert made.status_code == 201, made.text
    session = await http.post("/api/v1/login", json={"user": name, "password": password})
    assert session.status_code == 200, session.text
    return bearer(session.json()["access_token"])
