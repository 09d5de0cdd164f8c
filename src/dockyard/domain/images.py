"""Images as services and adapters both speak of them: references, manifests, registry credentials."""

from __future__ import annotations

from dataclasses import dataclass


def split_reference(image: str) -> tuple[str, str, str]:
    """``host/path[:tag][@digest]`` → (host, path, tag or digest)."""
    rest, _, digest = image.partition("@")
    slash, colon = rest.rfind("/"), rest.rfind(":")
    repo, tag = (rest[:colon], rest[colon + 1 :]) if colon > slash else (rest, "")
    host, _, path = repo.partition("/")
    return host, path, digest or tag


@dataclass(frozen=True)
class Manifest:
    digest: str
    size: int  # the manifest, its config and its layers, in bytes (compressed, as stored)


@dataclass(frozen=True)
class RegistryAuth:
    """Credentials for one registry host (``host[:port]``)."""

    host: str
    username: str
    password: str
