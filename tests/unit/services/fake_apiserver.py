"""An apiserver in memory behind an ``httpx2`` mock transport, enough for what a deploy writes, and
counting every request by verb and resource.

It keeps objects by (resource, namespace, name); server-side apply (PATCH) creates or replaces an
object and bumps its ``metadata.generation`` when its ``spec`` changes; a ``resourceVersion`` in a
written object is a precondition (409 when stale); an object of a namespace that does not exist is a
404, as is a GET or DELETE of a missing object; deleting a namespace deletes what is in it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import httpx2

from dockyard.adapters.kube.client import KubeCluster

KUBECONFIG = (
    "apiVersion: v1\nclusters: [{name: fake, cluster: {server: 'http://apiserver.invalid'}}]\n"
    "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: fake, user: u}}]\n"
    "current-context: c\n"
)
VERBS = {"GET": "get", "POST": "create", "PATCH": "apply", "PUT": "replace", "DELETE": "delete"}
Key = tuple[str, str, str]  # resource (plural), namespace ("" for cluster-wide), name


class FakeApiServer:
    def __init__(self) -> None:
        self.objects: dict[Key, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()  # "verb resource", e.g. "apply configmaps"
        self._version = 0

    def client(self) -> KubeCluster:
        """A cluster client whose every request comes here."""
        return KubeCluster.from_kubeconfig(KUBECONFIG, transport=httpx2.MockTransport(self._handle))

    def total(self) -> int:
        return sum(self.requests.values())

    def take(self) -> Counter[str]:
        """The requests counted since the last take."""
        taken, self.requests = self.requests, Counter()
        return taken

    def delete_namespace(self, name: str) -> None:
        """As ``kubectl delete namespace`` would, without a request counted."""
        for key in [k for k in self.objects if k[1] == name or k == ("namespaces", "", name)]:
            del self.objects[key]

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        parts = request.url.path.strip("/").split("/")
        rest = parts[2:] if parts[0] == "api" else parts[3:]
        if rest[0] == "namespaces" and len(rest) <= 2:
            resource, namespace, name = "namespaces", "", rest[1] if len(rest) > 1 else ""
        elif rest[0] == "namespaces":
            resource, namespace, name = rest[2], rest[1], rest[3] if len(rest) > 3 else ""
        else:
            resource, namespace, name = rest[0], "", rest[1] if len(rest) > 1 else ""
        self.requests[f"{VERBS[request.method]} {resource}"] += 1
        body = json.loads(request.content) if request.content else None
        if body is not None:
            name = name or body["metadata"]["name"]
        key = (resource, namespace, name)
        if namespace and ("namespaces", "", namespace) not in self.objects:
            return _status(404, "NotFound", f'namespaces "{namespace}" not found')
        found = self.objects.get(key)
        if request.method == "GET":
            return _json(found) if found else _status(404, "NotFound", f"{resource} {name!r} not found")
        if request.method == "DELETE":
            if found is None:
                return _status(404, "NotFound", f"{resource} {name!r} not found")
            if resource == "namespaces":
                self.delete_namespace(name)
            self.objects.pop(key, None)
            return _json({"kind": "Status", "status": "Success"})
        if request.method == "POST" and found is not None:
            return _status(409, "AlreadyExists", f"{resource} {name!r} already exists")
        assert body is not None
        return self._write(key, found, body)

    def _write(self, key: Key, found: dict[str, Any] | None, body: dict[str, Any]) -> httpx2.Response:
        wanted = body["metadata"].get("resourceVersion")
        if wanted and (found is None or found["metadata"]["resourceVersion"] != wanted):
            return _status(409, "Conflict", "the object has been modified")
        self._version += 1
        generation = (found or {}).get("metadata", {}).get("generation", 0)
        if found is None or found.get("spec") != body.get("spec"):
            generation += 1
        stored = {**body, "metadata": {**body["metadata"], "resourceVersion": str(self._version)}}
        stored["metadata"]["generation"] = generation
        self.objects[key] = stored
        return _json(stored, 201 if found is None else 200)


def _json(obj: dict[str, Any], code: int = 200) -> httpx2.Response:
    return httpx2.Response(code, json=obj, headers={"Content-Type": "application/json"})


def _status(code: int, reason: str, message: str) -> httpx2.Response:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason}
    return _json({**status, "code": code}, code)
