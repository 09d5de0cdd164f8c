"""/api/v1/clusters and /api/v1/users, /api/v1/tokens: platform-wide resources."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas import ClusterIn, ClusterOut, NewTokenOut, TokenIn, TokenOut, UserIn, UserOut
from dockyard.domain.clusters import Cluster
from dockyard.domain.errors import InvalidInput, NotFound
from dockyard.services import clusters as svc
from dockyard.services import identity
from dockyard.services.platform import Platform

router = APIRouter(prefix="/api/v1", responses=ERRORS)


def _cluster(platform: Platform, c: Cluster) -> ClusterOut:
    connection = platform.live.connection(c.name)
    return ClusterOut(name=c.name, labels=c.labels, connected=connection.connected, detail=connection.detail)


@router.get("/clusters", tags=["clusters"])
async def list_clusters(platform: PlatformDep, caller: Caller) -> list[ClusterOut]:
    """Registered clusters and whether Dockyard's watches on them are connected (never credentials)."""
    return [_cluster(platform, c) for c in await svc.visible_clusters(platform, caller)]


@router.get("/clusters/{name}", tags=["clusters"])
async def get_cluster(name: str, platform: PlatformDep, caller: Caller) -> ClusterOut:
    for c in await svc.visible_clusters(platform, caller):
        if c.name == name:
            return _cluster(platform, c)
    raise NotFound(f"cluster {name!r} is not registered")


@router.put("/clusters/{name}", tags=["clusters"], status_code=status.HTTP_200_OK)
async def register_cluster(
    name: str, body: ClusterIn, platform: PlatformDep, caller: Caller, response: Response
) -> ClusterOut:
    """Register or update a cluster (platform admins); 201 when new."""
    if body.name != name:
        raise InvalidInput("name", f"the body's name {body.name!r} differs from the path's {name!r}")
    if await svc.register(platform, caller, name=name, kubeconfig=body.kubeconfig, labels=body.labels):
        response.status_code = status.HTTP_201_CREATED
    return await get_cluster(name, platform, caller)


@router.post("/users", tags=["identity"], status_code=status.HTTP_201_CREATED)
async def create_user(body: UserIn, platform: PlatformDep, caller: Caller) -> UserOut:
    """Create a user (platform admins)."""
    await identity.create_user(platform, caller, name=body.name, admin=body.admin)
    return UserOut(name=body.name, admin=body.admin)


@router.get("/users/me", tags=["identity"])
async def me(caller: Caller) -> UserOut:
    return UserOut(name=caller.name, admin=caller.admin)


@router.post("/users/{user}/tokens", tags=["identity"], status_code=status.HTTP_201_CREATED)
async def create_token(user: str, body: TokenIn, platform: PlatformDep, caller: Caller) -> NewTokenOut:
    """A new API token for ``user`` (``me`` for yourself; others' need an admin). Shown once."""
    owner = caller.name if user == "me" else user
    record, secret = await identity.create_token(
        platform, caller, name=body.name, expires_in_days=body.expires_in_days, user=owner
    )
    return NewTokenOut(
        id=record.id,
        name=record.name,
        created_at=record.created_at,
        expires_at=record.expires_at,
        revoked=False,
        token=secret,
    )


@router.get("/users/me/tokens", tags=["identity"])
async def list_tokens(platform: PlatformDep, caller: Caller) -> list[TokenOut]:
    return [
        TokenOut(
            id=t.id, name=t.name, created_at=t.created_at, expires_at=t.expires_at, revoked=t.revoked_at is not None
        )
        for t in await identity.list_tokens(platform, caller)
    ]


@router.delete("/users/me/tokens/{token_id}", tags=["identity"], status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: str, platform: PlatformDep, caller: Caller) -> None:
    await identity.revoke_token(platform, caller, token_id)
