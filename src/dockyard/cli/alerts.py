"""`dockyard alerts ...` (history, silences), `dockyard alert-rules ...` (thresholds per application
or group) and `dockyard channels ...` (where a system's alerts are told)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from dockyard.cli.client import query, segment
from dockyard.cli.common import ServerOpt, TokenOpt
from dockyard.cli.common import client as _client
from dockyard.cli.common import k as _k
from dockyard.cli.errors import fail
from dockyard.cli.output import Format, OutputOpt, show
from dockyard.cli.targets import pairs

alerts = typer.Typer(help="Alerts of a system: history (who was told), silences.", no_args_is_help=True)
rules = typer.Typer(help="Alert rules: the built-in rules' thresholds per application or group.", no_args_is_help=True)
channels = typer.Typer(help="Notification channels of a system: webhook (signed) and e-mail.", no_args_is_help=True)

_ALERTS = [
    ("ID", _k("id")),
    ("STATUS", _k("status")),
    ("ALERT", _k("name")),
    ("APP", _k("app")),
    ("GROUP", _k("group")),
    ("STARTED", _k("starts_at")),
    ("ENDED", _k("ends_at")),
    ("TOLD", lambda a: ", ".join(f"{t['channel']}:{t['kind']}:{t['state']}" for t in a["told"])),
]
_SILENCES = [
    ("ID", _k("id")),
    ("STATE", _k("state")),
    ("MATCHERS", lambda s: ",".join(f"{m['name']}{'=' if m['equal'] else '!='}{m['value']}" for m in s["matchers"])),
    ("ENDS", _k("ends_at")),
    ("OWNER", _k("owner")),
    ("REASON", _k("reason")),
]
_EFFECTIVE = [
    ("APP", _k("app")),
    ("GROUP", _k("group")),
    ("RULE", _k("rule")),
    ("THRESHOLD", _k("threshold")),
    ("ENABLED", _k("enabled")),
    ("FROM", _k("source")),
]
_REVISIONS = [
    ("APP", _k("app")),
    ("GROUP", lambda r: r["group"] or "*"),
    ("RULE", _k("rule")),
    ("REV", _k("revision")),
    ("THRESHOLD", lambda r: "(removed)" if r["cleared"] else r["threshold"]),
    ("ENABLED", _k("enabled")),
    ("BY", _k("changed_by")),
    ("AT", _k("changed_at")),
    ("REASON", _k("reason")),
]
_CHANNELS = [
    ("NAME", _k("name")),
    ("KIND", _k("kind")),
    ("TARGET", _k("target")),
    ("SECRET", lambda c: "set" if c["has_secret"] else "-"),
    ("BY", _k("created_by")),
]
_DELIVERY = [("CHANNEL", _k("channel")), ("KIND", _k("kind")), ("STATE", _k("state")), ("ERROR", _k("error"))]
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(text: str) -> float:
    """``90s``, ``30m``, ``2h``, ``1d`` or ``1h30m`` in seconds; fail otherwise."""
    parts = _DURATION.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        fail(f"--for {text!r} must be a duration like 30m, 2h or 1d")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def _base(system: str) -> str:
    return f"/api/v1/systems/{segment(system)}"


# --- alerts ------------------------------------------------------------------------------------------


@alerts.command("list")
def list_alerts(
    system: str,
    state: Annotated[str | None, typer.Option(help="firing or resolved")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """SYSTEM's alerts, newest first, and who was told."""
    with _client(server, token) as client:
        show(client.get(f"{_base(system)}/alerts", state=state), output, _ALERTS)


@alerts.command("show")
def show_alert(
    system: str, alert_id: int, output: OutputOpt = Format.yaml, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """One alert of SYSTEM: labels, annotations, and each notification."""
    with _client(server, token) as client:
        show(client.get(f"{_base(system)}/alerts/{alert_id}"), output, _ALERTS)


@alerts.command("silence")
def silence(
    system: str,
    match: Annotated[list[str], typer.Option("--match", help="LABEL=VALUE the alerts carry (repeatable)")],
    duration: Annotated[str, typer.Option("--for", help="how long: 30m, 2h, 1d (at most the platform's maximum)")],
    reason: Annotated[str, typer.Option(help="why (shown with the silence)")],
    exclude: Annotated[list[str] | None, typer.Option("--not", help="LABEL=VALUE they do not carry")] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Silence SYSTEM's alerts matching every --match (and no --not) for --for; it expires by itself."""
    matchers: list[dict[str, Any]] = [{"name": k, "value": v} for k, v in pairs(match, "--match").items()]
    matchers += [{"name": k, "value": v, "equal": False} for k, v in pairs(exclude or [], "--not").items()]
    body = {"matchers": matchers, "duration_seconds": seconds(duration), "reason": reason}
    with _client(server, token) as client:
        show(client.post(f"{_base(system)}/silences", body), output, _SILENCES)


@alerts.command("silences")
def list_silences(
    system: str,
    expired: Annotated[bool, typer.Option("--expired", help="expired ones too")] = False,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """SYSTEM's silences."""
    with _client(server, token) as client:
        show(client.get(f"{_base(system)}/silences", expired=expired or None), output, _SILENCES)


@alerts.command("unsilence")
def unsilence(system: str, silence_id: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """End one of SYSTEM's silences now."""
    with _client(server, token) as client:
        client.delete(f"{_base(system)}/silences/{segment(silence_id)}")
    print(f"silence {silence_id} expired")


# --- alert rules -------------------------------------------------------------------------------------


def _rule_path(target: str, rule: str) -> str:
    pieces = target.split("/")
    if len(pieces) not in (2, 3) or not all(pieces):
        fail(f"{target!r} is not SYSTEM/APP or SYSTEM/APP/GROUP")
    path = f"{_base(pieces[0])}/apps/{segment(pieces[1])}"
    if len(pieces) == 3:
        path += f"/groups/{segment(pieces[2])}"
    return f"{path}/alert-rules/{segment(rule)}"


@rules.command("list")
def list_rules(
    system: str,
    defaults: Annotated[bool, typer.Option("--defaults", help="the built-in rules and their defaults")] = False,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Each group's rules as they hold (threshold, enabled, and where the threshold comes from)."""
    with _client(server, token) as client:
        found = client.get(f"{_base(system)}/alert-rules")
    if defaults:
        columns = [("RULE", _k("rule")), ("ALERT", _k("alert")), ("DEFAULT", _k("threshold")), ("UNIT", _k("unit"))]
        show(found["rules"], output, columns, [("SUMMARY", _k("summary"))])
    else:
        show(found if output.structured else found["effective"], output, _EFFECTIVE)


@rules.command("set")
def set_rule(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP[/GROUP]")],
    rule: str,
    threshold: Annotated[float | None, typer.Option(help="the rule's threshold here")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable", help="whether it fires here")] = None,
    reason: str = "",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Override RULE for an application or one group (a new revision; takes effect at the next scrape)."""
    if threshold is None and enabled is None:
        fail("give --threshold, --enable or --disable")
    body: dict[str, Any] = {"reason": reason}
    if threshold is not None:
        body["threshold"] = threshold
    if enabled is not None:
        body["enabled"] = enabled
    with _client(server, token) as client:
        show(client.put(_rule_path(target, rule), body), output, _REVISIONS)


@rules.command("unset")
def unset_rule(
    target: Annotated[str, typer.Argument(metavar="SYSTEM/APP[/GROUP]")],
    rule: str,
    reason: str = "",
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Remove the override: the group or application inherits again."""
    with _client(server, token) as client:
        show(client.delete(f"{_rule_path(target, rule)}?{query({'reason': reason})}"), output, _REVISIONS)


@rules.command("history")
def rule_history(
    system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Every change of SYSTEM's overrides: who, when, why."""
    with _client(server, token) as client:
        show(client.get(f"{_base(system)}/alert-rules/history"), output, _REVISIONS)


# --- channels ----------------------------------------------------------------------------------------


@channels.command("list")
def list_channels(
    system: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """SYSTEM's notification channels (secrets are never shown)."""
    with _client(server, token) as client:
        show(client.get(f"{_base(system)}/channels"), output, _CHANNELS)


@channels.command("add")
def add_channel(
    system: str,
    name: str,
    webhook: Annotated[str | None, typer.Option(help="a webhook URL (bodies signed with the secret)")] = None,
    email: Annotated[str | None, typer.Option(help="e-mail addresses, comma-separated")] = None,
    secret_file: Annotated[
        Path | None, typer.Option(help="the webhook's signing secret, from a file [$DOCKYARD_CHANNEL_SECRET]")
    ] = None,
    output: OutputOpt = Format.table,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Add a channel to SYSTEM: --webhook URL (with a secret, never on the command line) or --email."""
    if (webhook is None) == (email is None):
        fail("give one of --webhook URL or --email ADDRESSES")
    body: dict[str, Any] = {"name": name, "kind": "webhook" if webhook else "email", "target": webhook or email}
    if webhook:
        secret = _secret(secret_file)
        if not secret:
            fail("a webhook channel needs a secret: --secret-file FILE or $DOCKYARD_CHANNEL_SECRET")
        body["secret"] = secret
    with _client(server, token) as client:
        show(client.post(f"{_base(system)}/channels", body), output, _CHANNELS)


def _secret(path: Path | None) -> str:
    if path is not None:
        try:
            return path.read_text().strip()
        except OSError as e:
            fail(f"--secret-file {path}: {e.strerror}")
    return os.environ.get("DOCKYARD_CHANNEL_SECRET", "").strip()


@channels.command("remove")
def remove_channel(system: str, name: str, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Remove one of SYSTEM's channels."""
    with _client(server, token) as client:
        client.delete(f"{_base(system)}/channels/{segment(name)}")
    print(f"channel {name} removed")


@channels.command("test")
def send_test(
    system: str, name: str, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """Send a test notification through the channel now and say how it went."""
    with _client(server, token) as client:
        sent = client.post(f"{_base(system)}/channels/{segment(name)}/test", {})
    show(sent, output, _DELIVERY)
    if sent.get("state") != "sent":
        raise typer.Exit(1)
