"""What every extract projection shares: the few facts about students and
periods a recipient's rules need (kept in the projection's own schema, from the
log only, so a rebuild decides exactly the same), pseudonyms, and the outbox.

A recipient module decides, per fact, which messages its recipient receives
(`messages`), and may act when recorded time passes a date (`on_time`).
"""

from __future__ import annotations

import hashlib
import hmac
from abc import abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar
from uuid import UUID

from psycopg import Cursor

from registry.domain.foto import FotoDocument, FotoKind
from registry.projections import events
from registry.projections.engine.event_log import Fact
from registry.projections.engine.projection import Projection
from registry.projections.extracts import outbox
from registry.projections.extracts.outbox import FORGET_KIND, Message, PayloadCheck
from registry.projections.extracts.page_state import PageState, StudentRow
from registry.projections.extracts.payloads import Mutatie, Payload, Vergeten
from registry.projections.extracts.residence import residence

DDL = """
CREATE TABLE students (
  student_id uuid PRIMARY KEY, number text NOT NULL, kind text NOT NULL,
  geboortedatum date, postcode text, linked_bsn text, gemeente text);
CREATE TABLE periods (
  enrolment_id uuid PRIMARY KEY, student_id uuid NOT NULL, brin text NOT NULL,
  ingangsdatum date NOT NULL, vestiging text, elementcode text, leerjaar int,
  einddatum date, deleted boolean NOT NULL DEFAULT false, reden_einde text);
CREATE INDEX periods_student ON periods (student_id);
"""

# What the recipients see of an enrolment event: the mutation it records.
MUTATIONS: dict[str, Mutatie] = {
    events.ENROLMENT_REGISTERED: "T",
    events.ENROLMENT_REREGISTERED: "T",
    events.ENROLMENT_AMENDED: "A",
    events.ENROLMENT_ENDED: "U",
    events.ENROLMENT_DELETED: "V",
}
TopicName = Callable[[str, str], str]


@dataclass(frozen=True)
class Period:
    """A period as a recipient's rules see it after one event."""

    enrolment_id: UUID
    student: StudentRow  # as the log has the student at that event
    brin: str
    ingangsdatum: date
    vestiging: str | None
    elementcode: str | None
    leerjaar: int | None
    einddatum: date | None
    deleted: bool
    reden_einde: str | None = None
    previous_einddatum: date | None = None  # before this event


def pseudonym(key: bytes, number: str) -> str:
    """A keyed HMAC: stable for one recipient, unlinkable across recipients."""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()[:32]


def age(born: date | None, on: date) -> int | None:
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class ExtractProjection(Projection):
    """A projection that publishes: it folds the students and periods once and
    applies each of its recipients' rules to every fact, in log order. One
    recipient alone (`Recipient`), or several over one shared copy of that
    state (`group.Extracts`), which the registry runs."""

    ddl: ClassVar[str] = DDL  # a recipient with tables of its own adds them to DDL
    # The contract's check of each payload as it is written (outbox.write);
    # without it, the relay checks every message this projection writes.
    check: PayloadCheck | None = None
    topics: ClassVar[tuple[str, ...]] = (
        *MUTATIONS,
        *events.FOTO_ISSUED,
        *events.STUDENT,
    )

    @property
    @abstractmethod
    def members(self) -> Sequence[Recipient]:
        """The recipients whose rules this projection applies, in order."""

    def apply_page(self, curs: Cursor[Any], facts: list[Fact]) -> None:
        members = self.members
        out: list[Message] = []
        forgotten: list[tuple[UUID, datetime]] = []
        state = PageState(curs, facts)
        for m in members:
            m.start_page(curs)
        for m in members:
            m.load_page(curs, state)
        for fact in facts:
            for m in members:
                out += m.on_time(curs, fact, state)
            if fact.topic in events.STUDENT:
                out += _about(_student_event(members, curs, fact, state), fact)
                if fact.topic == events.STUDENT_FORGOTTEN:
                    forgotten.append((fact.originator_id, fact.recorded_at))
            elif fact.topic in MUTATIONS:
                out += _mutation(members, curs, fact, state)
            elif fact.topic in events.FOTO_ISSUED:
                state.write()  # a foto reads the students as the log has them now
                for m in members:
                    out += m.on_foto(curs, fact, events.FOTO_ISSUED[fact.topic])
        state.write()
        for m in members:
            m.end_page(curs)
        outbox.write(curs, out, self.check)
        # After the page's messages are in: those of the page about a person
        # forgotten in it are redacted too. Here, in the extract's transaction,
        # it runs once per forgetting (and harmlessly again on a rebuild).
        for student_id, at in forgotten:
            outbox.redact(curs, [student_id], at)


def _mutation(
    members: Sequence[Recipient], curs: Cursor[Any], fact: Fact, state: PageState
) -> list[Message]:
    period = _period(state, fact)
    if period is None:
        return []
    mutatie = MUTATIONS[fact.topic]
    out: list[Message] = []
    for m in members:
        found = m.on_mutation(curs, fact, mutatie, period, state)
        out += _about(found, fact, period.student.student_id)
    return out


def _student_event(
    members: Sequence[Recipient], curs: Cursor[Any], fact: Fact, state: PageState
) -> list[Message]:
    out: list[Message] = []
    before = state.student(fact.originator_id)
    if fact.topic == events.STUDENT_FORGOTTEN:
        if before is not None:
            for m in members:
                out += m.on_forget(curs, fact, before, state)
        state.student_event(fact)
        return out
    was = None if before is None else residence(before)
    state.student_event(fact)
    student = state.student(fact.originator_id)
    if student is None:
        return []
    if fact.topic == events.STUDENT_BSN_LINKED:
        for m in members:
            out += m.on_link(curs, fact, student)
        return out
    now = residence(student)
    if before is not None and now != was:
        for m in members:
            out += m.on_move(curs, fact, student, was, now, state)
    return out


class Recipient(ExtractProjection):
    """One recipient's rules: which messages it receives of each fact
    (`on_mutation` and the other hooks), and what it does when recorded time
    passes a date (`on_time`). A projection on its own too (tests, one
    recipient rebuilt alone)."""

    recipient: ClassVar[str]

    def __init__(self, key: bytes, topic: TopicName) -> None:
        """`topic(recipient, kind)` names a topic as the published contract does
        (the composition root passes it in: the contract is a layer above)."""
        self.key = key
        self.topic_name = topic

    @property
    def members(self) -> Sequence[Recipient]:
        return (self,)

    def forget_pseudonym(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        """For the pseudonymised recipients: the pseudonym to forget, when they
        were ever sent a period of the person."""
        if not state.periods_of(student.student_id):
            return []
        who = pseudonym(self.key, student.number)
        payload: Vergeten = {
            "pseudoniem": who,
            "datum": fact.recorded_at.date().isoformat(),
        }
        subject = f"{student.student_id}/vergeten"
        return [self.message(fact, "vergeten", who, subject, payload)]

    def topic(self, kind: str, recipient: str | None = None) -> str:
        return self.topic_name(recipient or self.recipient, kind)

    # What a recipient module overrides
    def start_page(self, curs: Cursor[Any]) -> None:
        """Called before each page (e.g. to load what `on_time` waits for)."""

    def load_page(self, curs: Cursor[Any], state: PageState) -> None:
        """Called with the page's students and periods loaded."""

    def end_page(self, curs: Cursor[Any]) -> None:
        """Called after each page, before the outbox is written."""

    def on_mutation(
        self,
        curs: Cursor[Any],
        fact: Fact,
        mutatie: Mutatie,
        period: Period,
        state: PageState,
    ) -> list[Message]:
        return []

    def on_forget(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow, state: PageState
    ) -> list[Message]:
        """The registry forgot the person (retention): tell the recipient, who
        holds their data, to forget them too. `student` is the row before."""
        return []

    def on_move(
        self,
        curs: Cursor[Any],
        fact: Fact,
        student: StudentRow,
        was: str | None,
        now: str | None,
        state: PageState,
    ) -> list[Message]:
        """The student's municipality of residence changed (from `was` to `now`)."""
        return []

    def on_link(
        self, curs: Cursor[Any], fact: Fact, student: StudentRow
    ) -> list[Message]:
        """A person known by an onderwijsnummer has a BSN linked now."""
        return []

    def on_foto(self, curs: Cursor[Any], fact: Fact, soort: FotoKind) -> list[Message]:
        return []

    def on_time(self, curs: Cursor[Any], fact: Fact, state: PageState) -> list[Message]:
        return []

    def message(
        self,
        fact: Fact,
        kind: str,
        key: str,
        subject: str,
        payload: Payload,
        recipient: str | None = None,
        position: int | None = None,
        about: UUID | None = None,
    ) -> Message:
        """A message about `fact` (or, with `position`, about an earlier event
        whose consequence `fact` noticed), its id keyed with this extract's key.
        `about`: the one person it concerns, where the fact is not theirs (a
        month's or a check day's message); redacted when they are forgotten."""
        return Message(
            recipient or self.recipient,
            self.topic(kind, recipient),
            key,
            kind,
            subject,
            payload,
            fact.position if position is None else position,
            fact.recorded_at,
            id_key=self.key,
            student_id=about,
        )


def _about(
    messages: list[Message], fact: Fact, student_id: UUID | None = None
) -> list[Message]:
    """Name the person the messages are about, when a hook did not: the hooks
    of a student event or a mutation speak of that one student only. A forget
    message names no one: it is never redacted, and its number beside the
    stream's id would link the two again."""
    who = fact.originator_id if student_id is None else student_id
    for m in messages:
        if m.student_id is None and m.kind != FORGET_KIND:
            m.student_id = who
    return messages


def _period(state: PageState, fact: Fact) -> Period | None:
    before = state.periods.get(fact.originator_id)
    previous = None if before is None else before.einddatum
    row = state.period_event(fact)
    student = state.student(row.student_id) if row is not None else None
    if row is None or student is None:
        return None
    return Period(
        row.enrolment_id,
        student.copy(),  # later events of the page change the row
        row.brin,
        row.ingangsdatum,
        row.vestiging,
        row.elementcode,
        row.leerjaar,
        row.einddatum,
        row.deleted,
        row.reden_einde,
        previous,
    )


def foto_document(
    curs: Cursor[Any], fact: Fact, soort: FotoKind
) -> FotoDocument | None:
    """The issued foto's document (stored in the transaction of its event)."""
    versie = fact.data["foto"]["versie"]
    row = curs.execute(
        "SELECT f.document FROM public.fotos f WHERE f.soort = %s AND f.versie = %s "
        "AND f.content_hash = %s",
        (soort, versie, fact.data["foto"]["hash"]),
    ).fetchone()
    return None if row is None else row[0]


def quarter_start(on: datetime) -> date:
    return date(on.year, 3 * ((on.month - 1) // 3) + 1, 1)
