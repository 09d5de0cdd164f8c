"""`dockyard autoscale show|set|off SYSTEM/APP/GROUP`: a group's autoscale policy (docs/autoscaling.md).

``set`` deploys a new version with the policy (each signal's baseline is what one instance carries);
``off`` deploys one without it, at the count that runs; ``show`` prints the policy, each signal against
its target, the count the autoscaler would choose now, its split over the clusters and its last
decisions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dockyard.cli.common import ServerOpt, TokenOpt, client
from dockyard.cli.errors import fail
from dockyard.cli.operations import NoWait, follow
from dockyard.cli.output import Format, OutputOpt, plain_table, show
from dockyard.cli.targets import GroupArg, group_path

autoscale = typer.Typer(help="A group's autoscale policy (SYSTEM/APP/GROUP).", no_args_is_help=True)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def memory_bytes(text: str) -> float:
    """``512Mi``, ``1Gi`` or a number of bytes."""
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


def policy_of(
    *,
    low: int,
    high: int,
    requests: float | None,
    cpu: float | None,
    memory: str | None,
    custom: list[str],
    target: float | None,
    tolerance: float | None,
    up: tuple[int | None, int | None],
    down: tuple[int | None, int | None],
) -> dict[str, Any]:
    """The policy body from the options (the server checks it and names the field when wrong)."""
    signals: list[dict[str, Any]] = []
    if requests is not None:
        signals.append({"signal": "requests", "baseline": requests})
    if cpu is not None:
        signals.append({"signal": "cpu", "baseline": cpu})
    if memory is not None:
        try:
            signals.append({"signal": "memory", "baseline": memory_bytes(memory)})
        except ValueError:
            fail(f"--memory {memory!r}: give bytes or a size like 512Mi, 1Gi")
    for item in custom:
        series, sep, baseline = item.partition("=")
        try:
            signals.append({"signal": "custom", "series": series, "baseline": float(baseline)})
        except ValueError:
            sep = ""
        if not sep:
            fail(f"--custom {item!r}: give SERIES=BASELINE, e.g. queue_depth=100")
    if not signals:
        fail("give at least one signal: --requests, --cpu, --memory or --custom")
    policy: dict[str, Any] = {"min": low, "max": high, "signals": signals}
    if target is not None:
        policy["target"] = target
    if tolerance is not None:
        policy["tolerance"] = tolerance
    for name, (step, window) in (("scale_up", up), ("scale_down", down)):
        given = {k: v for k, v in (("step", step), ("window_seconds", window)) if v is not None}
        if given:
            policy[name] = given
    return policy


@autoscale.command("set")
def autoscale_set(
    target: GroupArg,
    low: Annotated[int, typer.Option("--min", help="never fewer instances")],
    high: Annotated[int, typer.Option("--max", help="never more instances")],
    requests: Annotated[float | None, typer.Option(help="requests/s one instance carries")] = None,
    cpu: Annotated[float | None, typer.Option(help="cores one instance uses")] = None,
    memory: Annotated[str | None, typer.Option(help="working set one instance holds: 512Mi, 1Gi")] = None,
    custom: Annotated[list[str] | None, typer.Option(help="SERIES=BASELINE: a series of the app's own")] = None,
    utilisation: Annotated[float | None, typer.Option("--target", help="utilisation aimed at, (0, 1]")] = None,
    tolerance: Annotated[float | None, typer.Option(help="no change within ±this of the target")] = None,
    up_step: Annotated[int | None, typer.Option(help="most instances added per decision (0: any)")] = None,
    up_window: Annotated[int | None, typer.Option(help="seconds the load must stay high")] = None,
    down_step: Annotated[int | None, typer.Option(help="most instances removed per decision (0: any)")] = None,
    down_window: Annotated[int | None, typer.Option(help="seconds the load must stay low")] = None,
    no_wait: NoWait = False,
    server: ServerOpt = None,
    token: TokenOpt = None,
) -> None:
    """Deploy a new version with this autoscale policy."""
    policy = policy_of(
        low=low,
        high=high,
        requests=requests,
        cpu=cpu,
        memory=memory,
        custom=custom or [],
        target=utilisation,
        tolerance=tolerance,
        up=(up_step, up_window),
        down=(down_step, down_window),
    )
    with client(server, token) as api:
        follow(api, target, api.put(f"{group_path(target)}/autoscale", {"policy": policy}), no_wait)


@autoscale.command("off")
def autoscale_off(target: GroupArg, no_wait: NoWait = False, server: ServerOpt = None, token: TokenOpt = None) -> None:
    """Deploy a new version without a policy, at the count that runs now."""
    with client(server, token) as api:
        follow(api, target, api.delete(f"{group_path(target)}/autoscale"), no_wait)


def show_lines(found: dict[str, Any]) -> list[str]:
    """``show``'s text: the policy, the signals against their targets, the decision, the last ones."""
    policy = found["policy"]
    if policy is None:
        return [f"no autoscale policy (version {found['version']}, {found['instances']} instances)"]
    lines = [
        f"version {found['version']}: {found['instances']} instances, min {policy['min']}, max {policy['max']}, "
        f"target {policy['target']:g}, tolerance {policy['tolerance']:g}"
    ]
    decision = found["decision"]
    rows = [
        [
            s["key"],
            "-" if s["load"] is None else f"{s['load']:g} {s['unit']}",
            f"{s['per_instance']:g}",
            "-" if s["utilisation"] is None else f"{s['utilisation']:.0%}",
            "-" if s["wanted"] is None else str(s["wanted"]),
            s["problem"] or "ok",
        ]
        for s in decision["signals"]
    ]
    lines += plain_table(["SIGNAL", "LOAD", "PER INSTANCE", "UTILISATION", "WANTS", "STATE"], rows)
    split = ", ".join(f"{k} {v}" for k, v in found["split"].items())
    lines.append(f"now: {decision['action']} → {decision['desired']}" + (f" ({split})" if split else ""))
    if found["note"]:
        lines.append(f"note: {found['note']}")
    for op in found["last"]:
        params = op["params"]
        when = op["finished_at"] or op["started_at"] or ""
        lines.append(f"{when} {params.get('was')} → {params.get('instances')} {op['status']}: {params.get('why', '')}")
    return lines


@autoscale.command("show")
def autoscale_show(
    target: GroupArg, output: OutputOpt = Format.table, server: ServerOpt = None, token: TokenOpt = None
) -> None:
    """The policy, each signal against its target, what it would decide now and its last decisions."""
    with client(server, token) as api:
        found = api.get(f"{group_path(target)}/autoscale")
    if output.structured:
        show(found, output)
        return
    for line in show_lines(found):
        print(line)
