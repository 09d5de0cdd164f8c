"""Flavors: named instance sizes. Requests equal limits, so every instance is Guaranteed QoS."""

from __future__ import annotations

from dataclasses import dataclass

from dockyard.domain.errors import InvalidInput


@dataclass(frozen=True)
class Flavor:
    name: str
    cpu_millis: int
    memory_mib: int

    @property
    def label(self) -> str:
        """As the console shows it, e.g. ``small/1C1024M``."""
        cores = f"{self.cpu_millis // 1000}" if self.cpu_millis % 1000 == 0 else f"{self.cpu_millis / 1000:g}"
        return f"{self.name}/{cores}C{self.memory_mib}M"

    def resources(self) -> dict[str, dict[str, str]]:
        amounts = {"cpu": f"{self.cpu_millis}m", "memory": f"{self.memory_mib}Mi"}
        return {"requests": dict(amounts), "limits": dict(amounts)}


CATALOG: dict[str, Flavor] = {
    f.name: f
    for f in (
        Flavor("tiny", 250, 256),
        Flavor("small", 1000, 1024),
        Flavor("medium", 2000, 4096),
        Flavor("large", 4000, 8192),
        Flavor("xlarge", 8000, 16384),
    )
}


def flavor(field: str, name: str) -> Flavor:
    """The catalog's flavor called ``name``; :class:`InvalidInput` naming the known ones otherwise."""
    found = CATALOG.get(name) if isinstance(name, str) else None
    if found is None:
        raise InvalidInput(field, f"unknown flavor {name!r}; known: {', '.join(CATALOG)}")
    return found
