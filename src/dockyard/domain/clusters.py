"""Clusters: registered Kubernetes API endpoints, labelled by IDC, provider and region.

A cluster is registered with its kubeconfig's *content* (or the literal :data:`IN_CLUSTER`), never a
path on the Dockyard host: :func:`check_kubeconfig` accepts only self-contained kubeconfigs, whose
credentials are embedded, so registering one never makes the server read a file or run a command.
:func:`validate_cluster` keeps only what the current context needs and hands it to a sealing function,
so a :class:`Cluster` holds it sealed. Error messages name the field ``kubeconfig`` and where in it the
problem is, and never quote its content.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from dockyard.domain.errors import InvalidInput

PROVIDERS = ("idc", "cloud")
IN_CLUSTER = "in-cluster"  # the service account of the pod Dockyard runs in
MAX_KUBECONFIG_BYTES = 256 * 1024
KubeconfigForm = Literal["sealed", "in-cluster", "path"]
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_KEYS = ("idc", "provider", "region")
# Fields that make a client read a file or run a command: not accepted from the API.
_CLUSTER_FILES = ("certificate-authority",)
_USER_FILES = ("client-certificate", "client-key", "tokenFile", "token-file", "exec", "auth-provider")
_FIELD = "kubeconfig"


@dataclass(frozen=True)
class Cluster:
    """A Kubernetes cluster Dockyard deploys to. How Dockyard reaches it, by ``kubeconfig_form``:

    - ``sealed``: ``kubeconfig`` is the kubeconfig's content sealed with the platform's key (opaque here);
    - ``in-cluster``: ``kubeconfig`` is :data:`IN_CLUSTER`;
    - ``path``: ``kubeconfig`` is a path on the Dockyard host, registered before kubeconfigs were
      stored, whose file could not be sealed; unusable until the cluster is registered again.
    """

    name: str
    kubeconfig: str = field(repr=False)
    labels: dict[str, str] = field(default_factory=dict)
    kubeconfig_form: KubeconfigForm = "sealed"


def validate_cluster(name: str, kubeconfig: str, labels: dict[str, str], *, seal: Callable[[str], str]) -> Cluster:
    """Check a cluster's fields; raises :class:`InvalidInput` naming the first bad one. A kubeconfig's
    content is reduced to its current context (its cluster and user) and sealed with ``seal``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInput("name", f"cluster name {name!r} must be a DNS label (a-z, 0-9, '-', at most 63)")
    minimal = None if kubeconfig == IN_CLUSTER else check_kubeconfig(kubeconfig)
    for key in labels:
        if key not in _LABEL_KEYS:
            raise InvalidInput(f"labels.{key}", f"unknown cluster label {key!r}; known: {', '.join(_LABEL_KEYS)}")
    provider = labels.get("provider")
    if provider is not None and provider not in PROVIDERS:
        raise InvalidInput("labels.provider", f"provider must be one of {', '.join(PROVIDERS)} (got {provider!r})")
    if minimal is None:
        return Cluster(name=name, kubeconfig=IN_CLUSTER, labels=dict(labels), kubeconfig_form="in-cluster")
    return Cluster(name=name, kubeconfig=seal(dump_kubeconfig(minimal)), labels=dict(labels))


def check_kubeconfig(kubeconfig: object) -> dict[str, Any]:
    """A self-contained kubeconfig (YAML text) reduced to its current context, its cluster and its
    user; :class:`InvalidInput` (field ``kubeconfig``) if it is not one. Checked: at most
    :data:`MAX_KUBECONFIG_BYTES`, YAML without aliases, a ``current-context`` naming one of its
    contexts, whose cluster (with an https or http ``server``) and user (if any) it defines; no
    credential read from a file (``certificate-authority``, ``client-certificate``, ``client-key``,
    ``tokenFile``) and no ``exec`` or ``auth-provider`` plugin in that cluster and user."""
    if not isinstance(kubeconfig, str) or not kubeconfig.strip():
        raise InvalidInput(_FIELD, f"kubeconfig must be a kubeconfig's content (YAML) or {IN_CLUSTER!r}")
    if len(kubeconfig.encode()) > MAX_KUBECONFIG_BYTES:
        raise InvalidInput(_FIELD, f"kubeconfig may hold at most {MAX_KUBECONFIG_BYTES // 1024} KiB")
    data = _load_yaml(kubeconfig)
    if not isinstance(data, Mapping):
        raise InvalidInput(_FIELD, "kubeconfig must be a YAML mapping with clusters, contexts and current-context")
    current = data.get("current-context")
    if not isinstance(current, str) or not current:
        raise InvalidInput(_FIELD, "kubeconfig has no current-context")
    context = _entry(data, "contexts", "context", current)
    if context is None:
        raise InvalidInput(_FIELD, "kubeconfig's current-context names none of its contexts")
    cluster_name, user_name = context.get("cluster"), context.get("user")
    cluster = _entry(data, "clusters", "cluster", cluster_name) if isinstance(cluster_name, str) else None
    if cluster is None:
        raise InvalidInput(_FIELD, "kubeconfig's current context names none of its clusters")
    server = cluster.get("server")
    if not isinstance(server, str) or not server.startswith(("https://", "http://")):
        raise InvalidInput(_FIELD, "kubeconfig's current cluster needs a server (https://...)")
    _refuse(cluster, _CLUSTER_FILES, "the current cluster")
    minimal: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "contexts": [{"name": current, "context": dict(context)}],
        "clusters": [{"name": cluster_name, "cluster": dict(cluster)}],
        "users": [],
    }
    if user_name is not None:
        user = _entry(data, "users", "user", user_name) if isinstance(user_name, str) else None
        if user is None:
            raise InvalidInput(_FIELD, "kubeconfig's current context names none of its users")
        _refuse(user, _USER_FILES, "the current user")
        minimal["users"] = [{"name": user_name, "user": dict(user)}]
    return minimal


def dump_kubeconfig(kubeconfig: Mapping[str, Any]) -> str:
    """A kubeconfig as YAML text."""
    return yaml.safe_dump(dict(kubeconfig), sort_keys=False)


def _load_yaml(text: str) -> Any:
    try:
        # Aliases could make a small document expand enormously when walked: kubeconfigs need none.
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise InvalidInput(_FIELD, "kubeconfig must not use YAML aliases")
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        # The parser's own message may quote the offending line: name the place, not the text.
        raise InvalidInput(_FIELD, f"kubeconfig is not valid YAML{where}") from None


def _entry(data: Mapping[str, Any], section: str, key: str, name: str) -> Mapping[str, Any] | None:
    """The ``key`` mapping of the item named ``name`` in the list ``data[section]``."""
    items = data.get(section)
    if not isinstance(items, list):
        return None
    for item in items:
        if isinstance(item, Mapping) and item.get("name") == name:
            value = item.get(key)
            return value if isinstance(value, Mapping) else {} if value is None else None
    return None


def _refuse(entry: Mapping[str, Any], keys: tuple[str, ...], what: str) -> None:
    for key in keys:
        if entry.get(key) is not None:
            raise InvalidInput(
                _FIELD,
                f"kubeconfig's {what} uses {key!r}: the server neither reads files nor runs commands for a "
                "cluster; embed the credentials (certificate-authority-data, client-certificate-data, "
                "client-key-data, token), e.g. with `dockyard cluster register`, which embeds its files",
            )
