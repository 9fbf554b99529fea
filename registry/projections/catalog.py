"""Every projection the registry runs, by name."""

from __future__ import annotations

from registry.config import Settings
from registry.projections.base import Projection
from registry.projections.extracts.cbs import Cbs
from registry.projections.extracts.inspectorate import Inspectorate
from registry.projections.extracts.municipalities import Municipalities
from registry.projections.extracts.svb import Svb
from registry.projections.timeline import Timeline
from registry.runtime.secrets import pseudonym_key

EXTRACTS = (Cbs, Inspectorate, Municipalities, Svb)


def projections(settings: Settings) -> tuple[Projection, ...]:
    extracts = tuple(e(pseudonym_key(settings, e.recipient)) for e in EXTRACTS)
    return (Timeline(), *extracts)


def by_name(settings: Settings, name: str) -> Projection:
    for projection in projections(settings):
        if projection.name == name:
            return projection
    raise KeyError(name)
