"""The REST API as the tests drive it: making the objects a test needs, and waiting for operations,
releases and groups to reach a state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from dockyard.services.platform import Platform
from tests.integration.harness.sandboxes import Sandbox
from tests.integration.harness.waiting import Not, eventually


async def register_cluster(
    http: httpx.AsyncClient,
    sandbox: Sandbox,
    *,
    name: str = "local",
    labels: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    """Register ``sandbox`` as cluster ``name`` by its kubeconfig's content."""
    body = {"name": name, "kubeconfig": sandbox.kubeconfig.read_text(), "labels": labels or {}}
    made = await http.put(f"/api/v1/clusters/{name}", json=body, headers=headers)
    assert made.status_code in (200, 201), made.text


async def create(
    http: httpx.AsyncClient, *steps: tuple[str, dict[str, Any]], headers: dict[str, str] | None = None
) -> None:
    """POST each ``(path, body)`` in order, each answered 201."""
    for path, body in steps:
        made = await http.post(path, json=body, headers=headers)
        assert made.status_code == 201, f"POST {path}: {made.status_code} {made.text}"


async def create_group(
    http: httpx.AsyncClient,
    system: str,
    *,
    app: str = "web",
    group: str = "prod",
    cluster: str = "local",
    environment: str = "prod",
    repository: str = "registry.local/shop/web",
    headers: dict[str, str] | None = None,
    **app_fields: Any,
) -> str:
    """System ``system`` with application ``app`` and group ``group`` in ``cluster``; the group's path."""
    base = f"/api/v1/systems/{system}"
    await create(
        http,
        ("/api/v1/systems", {"name": system}),
        (f"{base}/apps", {"name": app, "repository": repository, **app_fields}),
        (f"{base}/apps/{app}/groups", {"name": group, "environment": environment, "cluster": cluster}),
        headers=headers,
    )
    return f"{base}/apps/{app}/groups/{group}"


async def operation_ended(
    http: httpx.AsyncClient, operation_id: str, *, timeout: float = 120, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The operation once it has ended (succeeded or failed)."""

    async def ended() -> dict[str, Any] | Not:
        got: dict[str, Any] = (await http.get(f"/api/v1/operations/{operation_id}", headers=headers)).json()
        return got if got["status"] in ("succeeded", "failed") else Not(got)

    return await eventually(ended, f"operation {operation_id} to end", timeout=timeout)


@dataclass
class Api:
    """A client of an in-process server, as the admin, in system ``system`` with application ``web``."""

    http: httpx.AsyncClient
    platform: Platform
    system: str

    def path(self, group: str = "prod", app: str = "web") -> str:
        return f"/api/v1/systems/{self.system}/apps/{app}/groups/{group}"

    @property
    def group(self) -> str:
        """The path of group ``prod``."""
        return self.path()

    async def wait(self, operation: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        """The operation (an answer holding its ``id``) once it has ended."""
        return await operation_ended(self.http, operation["id"], timeout=timeout)

    async def act(
        self, action: str, body: dict[str, Any], *, group: str = "prod", timeout: float = 120
    ) -> dict[str, Any]:
        """POST ``action`` (deploy, scale, rollback, reconcile…) on the group; the operation, which must succeed."""
        response = await self.http.post(f"{self.path(group)}/{action}", json=body)
        assert response.status_code == 202, response.text
        done = await self.wait(response.json(), timeout)
        assert (done["status"], done["error"]) == ("succeeded", ""), done
        return done

    async def release_when(
        self, release_id: str, status: str, *, step: int | None = None, group: str = "prod", timeout: float = 120
    ) -> dict[str, Any]:
        """The release once it is ``status`` (at ``step``, if given)."""

        async def reached() -> dict[str, Any] | Not:
            got: dict[str, Any] = (await self.http.get(f"{self.path(group)}/releases/{release_id}")).json()
            return got if got["status"] == status and (step is None or got["step"] == step) else Not(got)

        return await eventually(reached, f"release {release_id} {status} at step {step}", timeout=timeout)

    async def group_when(self, state: str, *, group: str = "prod", timeout: float = 60) -> dict[str, Any]:
        """The group once its status reads ``state`` (healthy, drifted, degraded…)."""

        async def reached() -> dict[str, Any] | Not:
            got: dict[str, Any] = (await self.http.get(self.path(group))).json()
            return got if got["status"]["state"] == state else Not(got)

        return await eventually(reached, f"group {group} {state}", timeout=timeout)
