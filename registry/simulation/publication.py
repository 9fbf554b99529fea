"""Publication running beside the registry in one process (the demo): the extract
projections kept up, the relay producing, and the agencies' consumers storing."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from consumers.agency import AgencyConsumer
from registry.bootstrap import Runtime
from registry.projections.engine.multi import fresh_together
from registry.projections.extracts.base import ExtractProjection
from registry.publishing.contract import TopicSchemas
from registry.publishing.relay import Relay, producer

log = logging.getLogger(__name__)


class Publisher:
    def __init__(
        self,
        rt: Runtime,
        bootstrap: str,
        extracts: list[ExtractProjection],
        poll_seconds: float = 0.5,
    ) -> None:
        self.rt = rt
        self.bootstrap = bootstrap
        self.extracts = extracts
        self.poll_seconds = poll_seconds
        self.schemas = TopicSchemas()
        self.sent = 0
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._relay: Relay | None = None

    def start(self) -> Publisher:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception:  # keep publishing; the next round starts afresh
                log.exception("publication round failed; trying again")
            self._stop.wait(self.poll_seconds)

    def round(self) -> int:
        fresh_together(self.rt.projector, self.extracts)
        kafka = producer(self.bootstrap)
        try:
            self._relay = Relay(self.rt.database_url, kafka, self.schemas)
            sent = self._relay.run_once()
        finally:
            kafka.close()
        self.sent += sent
        self.rounds += 1
        return sent

    def lag(self) -> int:
        return self._relay.lag() if self._relay is not None else 0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=60)
        self.round()  # whatever arrived last


class Consumers:
    """One reference consumer thread per recipient."""

    def __init__(
        self,
        url: str,
        bootstrap: str,
        recipients: list[str],
        group_suffix: str = "",
        offset_reset: str = "earliest",
    ) -> None:
        self.consumers = [
            AgencyConsumer(
                url,
                bootstrap,
                r,
                group_timeouts=(2000, 500),
                group=f"agency-{r}{group_suffix}",
                offset_reset=offset_reset,
            )
            for r in recipients
        ]
        self.threads = [
            threading.Thread(target=c.run, name=f"consumer-{c.recipient}", daemon=True)
            for c in self.consumers
        ]

    def start(self) -> Consumers:
        for t in self.threads:
            t.start()
        return self

    def wait_assigned(self, limit_seconds: float = 60.0) -> bool:
        """True once every consumer has its partitions (a group joins in ~1 s)."""
        deadline = time.monotonic() + limit_seconds
        while time.monotonic() < deadline:
            if all(c.stats.assigned for c in self.consumers):
                return True
            time.sleep(0.1)
        return False

    def stop(
        self, settle_seconds: float = 3.0, limit_seconds: float = 120.0
    ) -> dict[str, Any]:
        """Wait until nothing new has arrived for `settle_seconds`, then stop;
        what each consumer stored."""
        deadline = time.monotonic() + limit_seconds
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            seen = sum(
                c.stats.stored + c.stats.duplicates + c.stats.parked
                for c in self.consumers
            )
            if seen != last:
                last, quiet_since = seen, time.monotonic()
            elif time.monotonic() - quiet_since >= settle_seconds:
                break
            time.sleep(0.2)
        for c in self.consumers:
            c.stop()
        for t in self.threads:
            t.join(timeout=30)
        return {c.recipient: c.stats.__dict__ for c in self.consumers}
