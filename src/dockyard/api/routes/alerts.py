"""/api/v1/alerts/webhook (Alertmanager's receiver) and, per system, alerts (history), notification
channels and silences."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dockyard.api.deps import Caller, PlatformDep, RowId
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.alerts import (
    AlertOut,
    ChannelIn,
    ChannelOut,
    DeliveryOut,
    SilenceIn,
    SilenceOut,
    WebhookOut,
)
from dockyard.domain.access import Principal
from dockyard.services import alerts, channels, silences

router = APIRouter(responses=ERRORS, tags=["alerts"])
ALERTMANAGER = Principal(name="alertmanager")
S = "/api/v1/systems/{system}"
_bearer = HTTPBearer(
    auto_error=False, description="Alertmanager's own credential (DOCKYARD_ALERTMANAGER_WEBHOOK_TOKEN)"
)


@router.post("/api/v1/alerts/webhook")
async def alertmanager_webhook(
    request: Request,
    platform: PlatformDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    body: Annotated[Any, Body()] = None,
) -> WebhookOut:
    """Alertmanager's webhook receiver (version 4): records the alerts, queues their notifications.
    Only Alertmanager's dedicated credential is accepted (401 otherwise)."""
    queued = await alerts.receive(platform, credentials.credentials if credentials else None, body)
    request.state.principal = ALERTMANAGER  # the audit trail's actor of what it delivered
    return WebhookOut(queued=queued)


@router.get(f"{S}/alerts")
async def list_alerts(
    system: str,
    platform: PlatformDep,
    caller: Caller,
    state: Annotated[str | None, Query(description="firing | resolved")] = None,
) -> list[AlertOut]:
    """The system's alerts, newest first, each with who was told what."""
    return [AlertOut.of(t) for t in await alerts.history(platform, caller, system, status=state)]


@router.get(f"{S}/alerts/{{alert_id}}")
async def show_alert(system: str, alert_id: RowId, platform: PlatformDep, caller: Caller) -> AlertOut:
    return AlertOut.of(await alerts.show(platform, caller, system, alert_id))


@router.get(f"{S}/channels")
async def list_channels(system: str, platform: PlatformDep, caller: Caller) -> list[ChannelOut]:
    """The system's notification channels (secrets are never shown)."""
    return [ChannelOut.of(c) for c in await channels.of_system(platform, caller, system)]


@router.post(f"{S}/channels", status_code=status.HTTP_201_CREATED)
async def add_channel(system: str, body: ChannelIn, platform: PlatformDep, caller: Caller) -> ChannelOut:
    """Add a webhook (signed JSON) or e-mail channel; the system's owner."""
    made = await channels.add(
        platform, caller, system, name=body.name, kind=body.kind, target=body.target, secret=body.secret
    )
    return ChannelOut.of(made)


@router.delete(f"{S}/channels/{{name}}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_channel(system: str, name: str, platform: PlatformDep, caller: Caller) -> Response:
    await channels.remove(platform, caller, system, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(f"{S}/channels/{{name}}/test")
async def test_channel(system: str, name: str, platform: PlatformDep, caller: Caller) -> DeliveryOut:
    """Send a test notification now; answers how it went (a failed first attempt is retried)."""
    return DeliveryOut.of(await channels.send_test(platform, caller, system, name))


@router.get(f"{S}/silences")
async def list_silences(system: str, platform: PlatformDep, caller: Caller, expired: bool = False) -> list[SilenceOut]:
    """The system's silences in Alertmanager (active and pending; expired ones too with ``expired``)."""
    return [SilenceOut.of(s) for s in await silences.of_system(platform, caller, system, expired=expired)]


@router.post(f"{S}/silences", status_code=status.HTTP_201_CREATED)
async def create_silence(system: str, body: SilenceIn, platform: PlatformDep, caller: Caller) -> SilenceOut:
    """Silence alerts of the system matching ``matchers`` for ``duration_seconds`` (at most the
    platform's maximum), with a reason; the caller is its owner. It expires by itself."""
    made = await silences.create(
        platform, caller, system, matchers=body.matchers, duration_seconds=body.duration_seconds, reason=body.reason
    )
    return SilenceOut.of(made)


@router.delete(f"{S}/silences/{{silence_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def expire_silence(system: str, silence_id: str, platform: PlatformDep, caller: Caller) -> Response:
    """End a silence of the system now."""
    await silences.expire(platform, caller, system, silence_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
