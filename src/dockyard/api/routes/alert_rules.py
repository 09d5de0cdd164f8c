"""/api/v1/systems/{system}/…/alert-rules: the built-in alert rules, overridden per application or
group by the system's owner; and the resolved thresholds as Prometheus series."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.alert_rules import EffectiveOut, OverrideIn, OverrideOut, RuleOut, SystemRulesOut
from dockyard.domain.access import require_admin
from dockyard.domain.alert_rules import RULES, Effective, Override
from dockyard.domain.model import AppPath
from dockyard.services import alert_rules

router = APIRouter(responses=ERRORS, tags=["alerts"])
S = "/api/v1/systems/{system}"


@router.get(f"{S}/alert-rules")
async def system_rules(system: str, platform: PlatformDep, caller: Caller) -> SystemRulesOut:
    """The built-in rules, the overrides in force, and every group's rules as they hold."""
    found = await alert_rules.of_system(platform, caller, system)
    return SystemRulesOut(
        rules=[RuleOut.of(r) for r in RULES.values()],
        overrides=[OverrideOut.of(o) for o in found.overrides],
        effective=[EffectiveOut.of(e) for e in found.effective],
    )


@router.get(f"{S}/alert-rules/history")
async def rule_history(system: str, platform: PlatformDep, caller: Caller) -> list[OverrideOut]:
    """Every change of the system's overrides (who, when, why), newest first."""
    return [OverrideOut.of(o) for o in await alert_rules.history(platform, caller, system)]


@router.put(f"{S}/apps/{{app}}/alert-rules/{{rule}}")
async def set_app_rule(
    system: str, app: str, rule: str, body: OverrideIn, platform: PlatformDep, caller: Caller
) -> OverrideOut:
    """Override a rule for the whole application (its groups inherit it unless they override it)."""
    return OverrideOut.of(await _set(platform, caller, AppPath(system, app), None, rule, body))


@router.delete(f"{S}/apps/{{app}}/alert-rules/{{rule}}")
async def clear_app_rule(
    system: str, app: str, rule: str, platform: PlatformDep, caller: Caller, reason: str = ""
) -> OverrideOut:
    """Remove the application's override (a revision saying so); 404 if there is none."""
    return OverrideOut.of(
        await alert_rules.clear_override(platform, caller, AppPath(system, app), None, rule, reason=reason)
    )


@router.put(f"{S}/apps/{{app}}/groups/{{group}}/alert-rules/{{rule}}")
async def set_group_rule(
    system: str, app: str, group: str, rule: str, body: OverrideIn, platform: PlatformDep, caller: Caller
) -> OverrideOut:
    """Override a rule for one group (beats the application's override and the default)."""
    return OverrideOut.of(await _set(platform, caller, AppPath(system, app), group, rule, body))


@router.delete(f"{S}/apps/{{app}}/groups/{{group}}/alert-rules/{{rule}}")
async def clear_group_rule(
    system: str, app: str, group: str, rule: str, platform: PlatformDep, caller: Caller, reason: str = ""
) -> OverrideOut:
    """Remove the group's override (it inherits the application's or the default); 404 if none."""
    return OverrideOut.of(
        await alert_rules.clear_override(platform, caller, AppPath(system, app), group, rule, reason=reason)
    )


@router.get("/metrics/alert-thresholds", response_class=PlainTextResponse)
async def threshold_series(platform: PlatformDep, caller: Caller) -> PlainTextResponse:
    """``dockyard_alert_threshold{system,app,group,rule}`` of every group whose rule is enabled, in
    Prometheus' text format (platform admins; to be served on Dockyard's /metrics)."""
    require_admin(caller, "reading every system's alert thresholds")
    body = exposition(await alert_rules.thresholds(platform))
    return PlainTextResponse(body, media_type="text/plain; version=0.0.4; charset=utf-8")


def exposition(effective: list[Effective]) -> str:
    """The thresholds in Prometheus' text exposition format (label values escaped)."""
    lines = [
        "# HELP dockyard_alert_threshold The threshold of a built-in alert rule for a group, resolved "
        "(group override > application override > default); absent: the rule is disabled there.",
        "# TYPE dockyard_alert_threshold gauge",
    ]
    for e in effective:
        labels = ",".join(
            f'{k}="{_escape(v)}"'
            for k, v in (("system", e.system), ("app", e.app), ("group", e.group), ("rule", e.rule))
        )
        lines.append(f"dockyard_alert_threshold{{{labels}}} {e.threshold!r}")
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


async def _set(
    platform: PlatformDep, caller: Caller, app: AppPath, group: str | None, rule: str, body: OverrideIn
) -> Override:
    threshold = None if body.threshold is None else float(body.threshold)
    return await alert_rules.set_override(
        platform, caller, app, group, rule, threshold=threshold, enabled=body.enabled, reason=body.reason
    )
