"""/api/v1/systems/{system}/…/alert-rules: the built-in alert rules, overridden per application or
group by the system's owner (the resolved thresholds are series on /metrics: api/alert_metrics.py)."""

from __future__ import annotations

from fastapi import APIRouter

from dockyard.api.deps import Caller, PlatformDep
from dockyard.api.errors import ERRORS
from dockyard.api.schemas.alert_rules import EffectiveOut, OverrideIn, OverrideOut, RuleOut, SystemRulesOut
from dockyard.domain.alert_rules import RULES, Override
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


async def _set(
    platform: PlatformDep, caller: Caller, app: AppPath, group: str | None, rule: str, body: OverrideIn
) -> Override:
    threshold = None if body.threshold is None else float(body.threshold)
    return await alert_rules.set_override(
        platform, caller, app, group, rule, threshold=threshold, enabled=body.enabled, reason=body.reason
    )
