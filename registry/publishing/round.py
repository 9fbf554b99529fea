"""A publication round: the extract projections brought up to the log's head,
then their outbox produced to Kafka. The command line, the demo and the bench
publish through it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError

from registry.projections.engine.multi import fresh_together
from registry.projections.engine.runner import Projector
from registry.projections.extracts.base import ExtractProjection
from registry.publishing.relay import Relay

log = logging.getLogger(__name__)
CLOSE_TIMEOUT_S = 5.0  # a broker that is down would keep close() waiting


class Publication:
    """Keeps one producer for its rounds, the process's lifetime long. A round
    that fails leaves nothing half-recorded (the relay's position is behind
    every unchecked send). When the broker failed it, the producer is closed
    and the next round starts on a new one (made then, so a broker still down
    fails that round, not this one's error handling); when the database
    failed it, the producer is kept."""

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
        self.replaced = 0  # producers made after a broker failure
        self._broken = False

    def round(self) -> int:
        """One round; the number of messages sent."""
        if self.extracts:
            fresh_together(self.projector, self.extracts)
        if self._broken:
            self.relay.kafka = self.new_producer()
            self._broken = False
            self.replaced += 1
            log.info("a new producer after the broker failed")
        try:
            return self.relay.run_once()
        except KafkaError:
            # What it holds unsent is sent again from the relay's position.
            self.relay.kafka.close(timeout=CLOSE_TIMEOUT_S)
            self._broken = True
            raise

    def close(self) -> None:
        if not self._broken:
            self.relay.kafka.close(timeout=CLOSE_TIMEOUT_S)
