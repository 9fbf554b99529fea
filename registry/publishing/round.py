"""A publication round: the extract projections brought up to the log's head,
then their outbox produced to Kafka. The command line, the demo and the bench
publish through it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from kafka import KafkaProducer

from registry.projections.engine.multi import fresh_together
from registry.projections.engine.runner import Projector
from registry.projections.extracts.base import ExtractProjection
from registry.publishing.relay import Relay

log = logging.getLogger(__name__)


class Publication:
    """Keeps one producer for its rounds; a round that fails leaves nothing
    half-recorded (the relay's position is behind every unchecked send), and
    the next round starts on a new producer."""

    def __init__(
        self,
        projector: Projector,
        extracts: Sequence[ExtractProjection],
        relay: Relay,
        new_producer: Callable[[], KafkaProducer],
    ) -> None:
        self.projector = projector
        self.extracts = list(extracts)
        self.relay = relay
        self.new_producer = new_producer

    def round(self) -> int:
        """One round; the number of messages sent."""
        if self.extracts:
            fresh_together(self.projector, self.extracts)
        try:
            return self.relay.run_once()
        except Exception:
            self.relay.kafka.close()
            self.relay.kafka = self.new_producer()
            raise

    def close(self) -> None:
        self.relay.kafka.close()
