"""Drift: how a live object's spec differs from the one Dockyard rendered (pure; no I/O).

:func:`drift` walks the *expected* object (what :func:`~dockyard.domain.render.render` made) and
compares each field with the *live* one (what the apiserver serves), so that:
- a field the live object has and the expected one lacks is a server default (``imagePullPolicy``,
  ``strategy``, a probe's ``timeoutSeconds``...) or someone else's business (a label or annotation
  added by hand), and is ignored;
- a field the expected object has and the live one lacks is drift, unless its expected value is a
  zero value (``0``, ``""``, ``false``, ``[]``, ``{}``), which the apiserver leaves out, or null
  (nothing asked for); an object missing as a whole shows once, at its own path;
- lists are compared as wholes when their lengths differ (an env var added by hand), and so are the
  list keys Dockyard always owns (``containers``, ``env``, ``ports``, ``volumes``, ``volumeMounts``,
  ``items``) even when the expected object left them out; lists of objects that all have distinct
  ``name``\\ s are matched by name (a different set of names is a difference of the whole list),
  other lists by position;
- values the apiserver canonicalises compare by meaning: resource quantities under
  ``resources.requests``/``resources.limits`` (``"1000m"`` = ``"1"``, ``"1024Mi"`` = ``"1Gi"``), and
  int-or-string fields (``port``, ``targetPort``...: ``8080`` = ``"8080"``).

Paths read like ``template.spec.containers[app].image``: mapping keys joined by dots (a key keeps its
own dots, as in ``template.metadata.labels.dockyard.io/version``), list items as ``[name]`` or
``[index]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.domain.quantities import quantity
from dockyard.domain.render import GroupRef, deployment
from dockyard.domain.versions import VersionSpec

Difference = tuple[Any, Any]  # (expected, live)
Path = tuple[str, ...]  # mapping keys as they are, list items as "[name]" or "[index]"

_OWNED_LISTS = frozenset({"containers", "env", "ports", "volumes", "volumeMounts", "items", "add"})
_INT_OR_STRING = frozenset({"port", "targetPort", "maxSurge", "maxUnavailable"})


def drift(expected: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Difference]:
    """The fields where ``live`` differs from ``expected``, as ``{path: (expected, live)}``.

    Paths come in the order of ``expected``'s fields; an empty result means no drift. A field missing
    from ``live`` shows as ``None``; a list that differs as a whole shows both lists.
    """
    out: dict[Path, Difference] = {}
    _walk((), expected, live, out)
    return {_format(path): difference for path, difference in out.items()}


def _walk(path: Path, expected: Any, live: Any, out: dict[Path, Difference]) -> None:
    if isinstance(expected, Mapping):
        _walk_mapping(path, expected, live, out)
    elif _is_list(expected):
        _walk_list(path, expected, live, out)
    elif not _same(path, expected, live):
        out[path] = (expected, live)


def _walk_mapping(path: Path, expected: Mapping[str, Any], live: Any, out: dict[Path, Difference]) -> None:
    if live is None:
        missing: dict[Path, Difference] = {}
        _walk_mapping(path, expected, {}, missing)
        if missing:  # show the whole object, not each of its fields
            out[path] = (expected, None)
        return
    if not isinstance(live, Mapping):
        out[path] = (expected, live)
        return
    for key, value in expected.items():
        _walk((*path, key), value, live.get(key), out)
    for key in sorted(_OWNED_LISTS & (live.keys() - expected.keys())):
        _walk((*path, key), [], live[key], out)


def _walk_list(path: Path, expected: Sequence[Any], live: Any, out: dict[Path, Difference]) -> None:
    if live is None and not expected:
        return
    if not _is_list(live) or len(live) != len(expected):
        out[path] = (expected, live)
        return
    expected_names, live_names = _names(expected), _names(live)
    if expected_names is None or live_names is None:
        for i, (e, v) in enumerate(zip(expected, live, strict=True)):
            _walk((*path, f"[{i}]"), e, v, out)
    elif set(expected_names) != set(live_names):
        out[path] = (expected, live)
    else:
        by_name = dict(zip(live_names, live, strict=True))
        for name, e in zip(expected_names, expected, strict=True):
            _walk((*path, f"[{name}]"), e, by_name[name], out)


def _names(items: Sequence[Any]) -> list[str] | None:
    """Each item's ``name`` if every item is an object with a distinct string name, else ``None``."""
    names = [item.get("name") if isinstance(item, Mapping) else None for item in items]
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        return None
    return [str(n) for n in names]


def _same(path: Path, expected: Any, live: Any) -> bool:
    """Whether two leaf values mean the same once the apiserver's canonical forms are undone."""
    if expected == live and isinstance(expected, bool) == isinstance(live, bool):
        return True
    if expected is None:
        return True  # nothing asked for: whatever the server defaults to
    if live is None:
        return not expected  # the apiserver leaves zero values out
    if path[-3:-1] in (("resources", "requests"), ("resources", "limits")):
        quantities = quantity(expected), quantity(live)
        return None not in quantities and quantities[0] == quantities[1]
    if path and path[-1] in _INT_OR_STRING and {type(expected), type(live)} == {int, str}:
        return str(expected) == str(live)
    return False


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _format(path: Path) -> str:
    text = ""
    for part in path:
        text += part if part.startswith("[") or not text else f".{part}"
    return text


def workload_drift(
    ref: GroupRef, version: int, spec: VersionSpec, live: Mapping[str, Any] | None
) -> dict[str, Difference]:
    """How a group's live Deployment ``spec`` differs from ``version``'s; a missing one is drift too.
    Secret env values are not needed (nor compared): the Deployment only references its Secret."""
    expected = deployment(ref, version, spec)
    if live is None:
        return {"deployment": (ref.workload, None)}
    return drift(expected["spec"], live)
