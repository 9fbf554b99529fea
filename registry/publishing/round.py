"""Publication: rounds of the extract projections brought up to the log's head,
then their outbox produced to Kafka, run by a long-lived process that is woken
for each round by the log's notifications, with a poll behind them. The command
line, the demo and the bench publish through it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

import psycopg
from kafka import KafkaProducer
from kafka.errors import KafkaError

from registry.infrastructure.wakeup import Wakeup
from registry.projections.engine.multi import fresh_together
from registry.projections.engine.runner import Projector
from registry.projections.extracts import outbox
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
        self.rounds = 0  # rounds that completed
        self._broken = False

    def round(self) -> int:
        """One round; the number of messages sent. The broker's
        acknowledgements of its last sends are waited for by the next round,
        beside that round's catch-up, or by `settle`."""
        if self.extracts:
            fresh_together(self.projector, self.extracts)
        sent = self._relay(lambda: self.relay.run_once(settle=False))
        self.rounds += 1
        return sent

    def settle(self) -> int:
        """Wait for the last round's sends to land and record them (what has
        come into the outbox meanwhile is sent too); the number sent."""
        return self._relay(self.relay.finish)

    def _relay(self, step: Callable[[], int]) -> int:
        if self._broken:
            self.relay.kafka = self.new_producer()
            self._broken = False
            self.replaced += 1
            log.info("a new producer after the broker failed")
        try:
            return step()
        except KafkaError:
            # What it holds unsent is sent again from the relay's position.
            self.relay.kafka.close(timeout=CLOSE_TIMEOUT_S)
            self._broken = True
            raise

    def channels(self) -> list[str]:
        """What wakes this publication: new events when it keeps extracts up,
        new outbox messages always."""
        events = [self.projector.log.channel] if self.extracts else []
        return [*events, outbox.CHANNEL]

    def run(self, should_stop: Callable[[], bool], wakeup: Wakeup, poll: float) -> int:
        """Rounds until `should_stop`, each as soon as `wakeup` is notified, or
        `poll` seconds after the last without one; the messages sent. A round
        that failed (a broker or database down) is followed by a backoff that
        notifications do not cut short. Listening starts before the first
        round, so nothing committed after a round read the head waits for
        the poll."""
        sent, failures = 0, 0
        wakeup.listen()
        log.info(
            "publishing: woken by notifications on %s, every %.1f s at most",
            ", ".join(wakeup.channels),
            poll,
        )
        while not should_stop():
            try:
                sent += self.round()
                failures = 0
                if self.relay.carrying and not wakeup.pending():
                    # Idle next: the position is not left behind until the poll.
                    sent += self.settle()
            except (KafkaError, psycopg.Error) as e:
                failures += 1
                # The class only: a driver's text may quote a value.
                log.warning(
                    "round failed (%s), trying again in %.0f s",
                    type(e).__name__,
                    backoff(poll, failures),
                )
            if should_stop():
                break
            if failures:
                time.sleep(backoff(poll, failures))
            elif not self.relay.carrying:  # else notified already: on at once
                wakeup.wait(poll)
        return sent

    def close(self) -> None:
        """Record what the last round sent, then close the producer."""
        if self._broken:
            return
        try:
            self.settle()
        except (KafkaError, psycopg.Error) as e:
            # Not lost: sent again from the recorded position at the next start.
            log.warning("the last sends were not recorded (%s)", type(e).__name__)
        finally:
            if not self._broken:  # a failed settle closed it already
                self.relay.kafka.close(timeout=CLOSE_TIMEOUT_S)


def backoff(poll: float, failures: int) -> float:
    """The wait before the next round: the poll interval, doubled for each
    round that failed in a row (a broker or database down), at most a minute.
    What the outbox holds waits there: nothing is lost meanwhile."""
    return min(poll * 2**failures, 60.0) if failures else poll
