"""The stored topics of the domain events the projections read, named with the
library's `get_topic`: a renamed or moved event class fails at import here
instead of silently matching nothing."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from registry.domain.enrolment import Enrolment
from registry.domain.foto import FotoKind
from registry.domain.school import School
from registry.domain.school_year import SchoolYear
from registry.domain.student import Student

ENROLMENT_REGISTERED = get_topic(Enrolment.Registered)
ENROLMENT_AMENDED = get_topic(Enrolment.Amended)
ENROLMENT_REREGISTERED = get_topic(Enrolment.Reregistered)
ENROLMENT_ENDED = get_topic(Enrolment.Ended)
ENROLMENT_DELETED = get_topic(Enrolment.Deleted)
ENROLMENT = frozenset(
    {
        ENROLMENT_REGISTERED,
        ENROLMENT_AMENDED,
        ENROLMENT_REREGISTERED,
        ENROLMENT_ENDED,
        ENROLMENT_DELETED,
    }
)

STUDENT_REGISTERED = get_topic(Student.Registered)
STUDENT_KEY_DATA_CHANGED = get_topic(Student.KeyDataChanged)
STUDENT_BSN_LINKED = get_topic(Student.BsnLinked)
STUDENT_LINKED_TO = get_topic(Student.LinkedTo)
STUDENT_RESIDENCE_RECORDED = get_topic(Student.ResidenceRecorded)
# The hook for anything holding a person's data outside the log (docs/privacy.md).
STUDENT_FORGOTTEN = get_topic(Student.Forgotten)
STUDENT = frozenset(
    {
        STUDENT_REGISTERED,
        STUDENT_KEY_DATA_CHANGED,
        STUDENT_BSN_LINKED,
        STUDENT_RESIDENCE_RECORDED,
        STUDENT_FORGOTTEN,
    }
)

SCHOOL_REGISTERED = get_topic(School.Registered)
VESTIGING_OPENED = get_topic(School.VestigingOpened)
VESTIGING_CHANGED = get_topic(School.VestigingChanged)
VESTIGING_CLOSED = get_topic(School.VestigingClosed)
LICENCES_CHANGED = get_topic(School.LicencesChanged)

SCHOOL_YEAR_OPENED = get_topic(SchoolYear.Opened)
ASSURANCE_REPORTED = get_topic(SchoolYear.AssuranceReported)
FOTO_ISSUED = {
    get_topic(SchoolYear.ProvisionalSnapshotIssued): FotoKind.VOORLOPIG,
    get_topic(SchoolYear.CurrentSnapshotIssued): FotoKind.ACTUEEL,
    get_topic(SchoolYear.FinalSnapshotIssued): FotoKind.DEFINITIEF,
}
