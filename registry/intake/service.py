"""Intake of deliveries: a batch is checked, each record judged in meldingnummer
order, and everything accepted is saved in one transaction together with the
batch's feedback — so a crash either keeps the whole delivery or none of it, and
a re-delivery either returns the stored feedback or processes it afresh."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from registry.access.reads import Read, ReadAudit
from registry.access.users import Principal
from registry.application.errors import ApplicationError, ConcurrentChange
from registry.application.registry import Registry
from registry.domain import ids
from registry.domain.calendar import local_day
from registry.domain.school import School
from registry.domain.school_year import Exclusion, SchoolYear
from registry.domain.signals import Signal
from registry.infrastructure import collector
from registry.infrastructure.event_store import SideWrite
from registry.intake.batch_state import BatchState, Context, load_state, who
from registry.intake.feedback import FeedbackDocument, feedback_document
from registry.intake.forgetting import redact_forgotten
from registry.intake.population import PopulationRegister
from registry.intake.processor import Outcome, process
from registry.intake.tables import (
    DELETE_WAITING,
    INSERT_ISSUED,
    INSERT_NEW_BATCH,
    INSERT_WAITING,
    UPSERT_BATCH,
    UPSERT_ENROLMENT,
    IntakeStore,
    batch_row,
)
from registry.intake.wire import (
    Aanlevering,
    BatchKey,
    BatchRefused,
    Melding,
    parse_batch,
)

MAX_ATTEMPTS = 5
WAIT_LIMIT = timedelta(days=14)
TRIAL_ROUTE = "trial delivery"


class DeliveryRefused(Exception):
    """The same batch key was delivered before with different content."""


class AssuranceBatchesDiffer(ApplicationError):
    """An assurance report lists other batches than the accountant mutations
    the school delivered."""


@dataclass(frozen=True)
class Result:
    feedback: FeedbackDocument
    recorded: bool  # False: a trial delivery, or a re-delivery of a stored batch


class Intake:
    def __init__(
        self,
        registry: Registry,
        store: IntakeStore,
        register: PopulationRegister,
        reads: ReadAudit,
    ) -> None:
        self.registry = registry
        self.store = store
        self.register = register
        self.reads = reads

    def submit(
        self,
        raw: bytes | str,
        at: datetime,
        *,
        dry_run: bool = False,
        by: Principal | None = None,
    ) -> Result:
        """`by`: who asks; a trial delivery must say, since it is audited."""
        if dry_run and by is None:
            raise ValueError("a trial delivery is audited: name who asks for it")
        # A delivery's records, aggregates and events live until it is saved:
        # young collections meanwhile would walk them all again and again.
        with collector.paused():
            return self._submit(raw, at, dry_run, by)

    def _submit(
        self, raw: bytes | str, at: datetime, dry_run: bool, by: Principal | None
    ) -> Result:
        batch, content_hash = parse_batch(raw, local_day(at))
        school = self._check_sender(batch)
        if dry_run:
            assert by is not None
            return self._trial(batch, content_hash, at, by, school)
        for _ in range(MAX_ATTEMPTS):
            stored = self.store.batch(batch.key)
            if stored is not None:
                return self._redelivered(
                    batch, content_hash, stored.content_hash, stored.feedback
                )
            try:
                return self._process(batch, content_hash, at, False, school)
            except ConcurrentChange:
                continue  # another delivery changed the same student: judge again
        raise ConcurrentChange(f"batch {batch.key} kept conflicting; deliver it again")

    def _trial(
        self,
        batch: Aanlevering,
        content_hash: str,
        at: datetime,
        by: Principal,
        school: School,
    ) -> Result:
        """Judge the batch, record who tried it (the audit row holds no personal
        data), and only then answer: an unaudited trial is not served."""
        result = self._process(batch, content_hash, at, True, school)
        trial = Read(
            by.login, by.role.value, TRIAL_ROUTE, batch.brin, len(batch.meldingen)
        )
        self.reads.record(trial, at)
        return result

    def report_assurance(
        self,
        brin: str,
        schooljaar: str,
        batches: list[int],
        exclusions: list[Exclusion],
        at: datetime,
    ) -> SchoolYear:
        """Record the assurance report once it states exactly the accountant
        mutations the school delivered (domain.md step 14)."""
        delivered = self.store.accountant_batches(brin, schooljaar)
        if set(batches) != delivered:
            raise AssuranceBatchesDiffer(
                f"the assurance report of {brin} {schooljaar} lists batches "
                f"{sorted(set(batches))}; the accountant mutations delivered are "
                f"{sorted(delivered)}"
            )
        return self.registry.report_assurance(
            brin, schooljaar, batches, exclusions, at
        )

    def redact_forgotten(self) -> dict[str, int]:
        """Take every forgotten person out of intake's tables (a sweep of all
        of them: idempotent; run after forgetting, see `forgetting`)."""
        return redact_forgotten(self.store.url)

    def feedback(self, key: BatchKey) -> FeedbackDocument | None:
        stored = self.store.batch(key)
        return None if stored is None else stored.feedback

    def _check_sender(self, batch: Aanlevering) -> School:
        school = self.registry.get_many([ids.school_id(batch.brin)]).get(
            ids.school_id(batch.brin)
        )
        if not isinstance(school, School):
            raise BatchRefused(
                [
                    {
                        "path": "brin",
                        "rule": "not a registered school",
                        "value": batch.brin,
                    }
                ]
            )
        point = f"{batch.aanleverpunt:02d}"
        if batch.aanleverpunt and point not in school.vestigingen:
            raise BatchRefused(
                [
                    {
                        "path": "aanleverpunt",
                        "rule": "not a registered vestiging of this school",
                        "value": batch.aanleverpunt,
                    }
                ]
            )
        return school

    def _redelivered(
        self,
        batch: Aanlevering,
        content_hash: str,
        stored_hash: str,
        feedback: FeedbackDocument,
    ) -> Result:
        if stored_hash != content_hash:
            raise DeliveryRefused(
                f"batch {batch.brin}/{batch.aanleverpunt}/{batch.schooljaar}/"
                f"{batch.batchnummer} was delivered before with different content; "
                "use a new batchnummer"
            )
        return Result(feedback, recorded=False)

    def _process(
        self,
        batch: Aanlevering,
        content_hash: str,
        at: datetime,
        dry_run: bool,
        school: School,
    ) -> Result:
        ctx = Context(batch.key, batch.accountant, batch.soort, at, dry_run)
        records = sorted(batch.meldingen, key=lambda r: r.meldingnummer)
        state = load_state(
            self.registry, self.store, self.register, records, ctx, school=school
        )
        outcomes = [(r, process(state, ctx, r)) for r in records]
        feedback = feedback_document(
            batch.key, [o.entry(r.meldingnummer) for r, o in outcomes]
        )
        if dry_run:
            return Result(feedback, recorded=False)
        writes = [
            (
                INSERT_NEW_BATCH,
                [batch_row(batch.key, content_hash, batch.soort, at, at, feedback)],
            ),
            *_state_writes(state),
            (INSERT_WAITING, _waiting_rows(batch.key, batch.soort, outcomes, at)),
        ]
        self.registry.save_at(*state.changed.values(), at=at, side_writes=writes)
        return Result(feedback, recorded=True)

    def retry_waiting(self, at: datetime) -> dict[str, int]:
        """Judge again every record waiting on the population register, in the
        order they were delivered, each as of its delivery (a student's later
        records after the earlier ones); a wait of more than 14 days is
        signalled (X132) on the record's feedback."""
        by_batch: dict[BatchKey, list[dict[str, Any]]] = {}  # in delivery order
        for row in self.store.waiting():
            key = BatchKey(
                row["brin"], row["aanleverpunt"], row["schooljaar"], row["batchnummer"]
            )
            by_batch.setdefault(key, []).append(row)
        counts: Counter[str] = Counter()
        blocked: set[str] = set()  # students whose earlier record still waits
        for key, waiting in by_batch.items():
            for _ in range(MAX_ATTEMPTS):
                try:
                    done, blocked = self._retry_batch(key, waiting, at, set(blocked))
                    counts.update(done)
                    break
                except ConcurrentChange:
                    continue
        return dict(counts)

    def _retry_batch(
        self,
        key: BatchKey,
        waiting: list[dict[str, Any]],
        at: datetime,
        blocked: set[str],
    ) -> tuple[Counter[str], set[str]]:
        """The statuses of the batch's retried records, and the students blocked
        after it (theirs and those before that still wait)."""
        soort = waiting[0]["soort"]
        ctx = Context(
            key,
            soort == "ACCOUNTANTSMUTATIE",
            soort,
            at,
            dry_run=False,
            delivered_at=min(w["since"] for w in waiting),
        )
        # Stored by intake itself, dates as text: not the wire's strict types.
        records = [Melding.model_validate(w["record"], strict=False) for w in waiting]
        state = load_state(
            self.registry, self.store, self.register, records, ctx, blocked
        )
        stored = self.store.batch(key)
        assert stored is not None
        entries = {e["meldingnummer"]: e for e in stored.feedback["meldingen"]}
        resolved: list[tuple[Any, ...]] = []
        for record, row in zip(records, waiting, strict=True):
            outcome = process(state, ctx, record)
            if at - row["since"] > WAIT_LIMIT:
                _add_x132(outcome, row["since"])
            entries[record.meldingnummer] = outcome.entry(record.meldingnummer)
            if outcome.status != "W":
                resolved.append((*key, record.meldingnummer))
        feedback = feedback_document(key, list(entries.values()))
        writes = [
            (
                UPSERT_BATCH,
                [batch_row(key, stored.content_hash, soort, at, at, feedback)],
            ),
            *_state_writes(state),
            (DELETE_WAITING, resolved),
        ]
        self.registry.save_at(*state.changed.values(), at=at, side_writes=writes)
        retried = {r.meldingnummer for r in records}
        statuses: Counter[str] = Counter(
            e["status"] for e in entries.values() if e["meldingnummer"] in retried
        )
        return statuses, state.blocked


def _add_x132(outcome: Outcome, since: datetime) -> None:
    outcome.signals.append(
        Signal(
            "X132",
            f"waited on the population register since {since.date()}, "
            "more than 14 days",
        )
    )


def _state_writes(state: BatchState) -> list[SideWrite]:
    return [
        (UPSERT_ENROLMENT, list(state.index_rows.values())),
        (INSERT_ISSUED, state.issued_rows),
    ]


def _waiting_rows(
    key: BatchKey, soort: str, outcomes: list[tuple[Melding, Outcome]], at: datetime
) -> list[tuple[Any, ...]]:
    return [
        (
            *key,
            r.meldingnummer,
            soort,
            json.dumps(r.model_dump(mode="json")),
            at,
            who(r),
        )
        for r, o in outcomes
        if o.status == "W"
    ]
