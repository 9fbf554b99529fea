"""Every projection the registry runs, by name."""

from __future__ import annotations

from registry.config import Settings
from registry.infrastructure.secrets import pseudonym_key
from registry.projections.engine.projection import Projection
from registry.projections.extracts.base import TopicName
from registry.projections.extracts.cbs import Cbs
from registry.projections.extracts.group import Extracts
from registry.projections.extracts.inspectorate import Inspectorate
from registry.projections.extracts.municipalities import Municipalities
from registry.projections.extracts.outbox import PayloadCheck
from registry.projections.extracts.svb import Svb
from registry.projections.timeline import Timeline

EXTRACTS = (Cbs, Inspectorate, Municipalities, Svb)


def projections(
    settings: Settings, topic: TopicName, check: PayloadCheck | None = None
) -> tuple[Projection, ...]:
    """`topic` names a topic and `check` checks a payload against its schema,
    as the published contract does (a layer above: the composition root
    passes them in)."""
    recipients = [e(pseudonym_key(settings, e.recipient), topic) for e in EXTRACTS]
    return (Timeline(), Extracts(recipients, check))


def by_name(
    settings: Settings, topic: TopicName, name: str, check: PayloadCheck | None = None
) -> Projection:
    for projection in projections(settings, topic, check):
        if projection.name == name:
            return projection
    raise KeyError(name)
