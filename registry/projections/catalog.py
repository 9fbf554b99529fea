"""Every projection the registry runs, by name."""

from __future__ import annotations

from registry.projections.base import Projection
from registry.projections.timeline import Timeline

PROJECTIONS: tuple[Projection, ...] = (Timeline(),)


def by_name(name: str) -> Projection:
    for projection in PROJECTIONS:
        if projection.name == name:
            return projection
    raise KeyError(name)
