"""Errors of the register's rules. Each carries the signal code that reports it."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the register was broken."""

    code: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ValueObjectError(DomainError, ValueError):
    """A value does not have the form the register requires."""


class InvalidBsn(ValueObjectError):
    """BSN malformed or failing the 11-proof."""

    code = "742"


class InvalidOnderwijsnummer(ValueObjectError):
    """Onderwijsnummer malformed or failing its check."""

    code = "X102"


class InvalidPostcode(ValueObjectError):
    """Postcode malformed."""

    code = "X110"


class InvalidLandcode(ValueObjectError):
    """Landcode malformed, or 6030 (the Netherlands is given by a postcode)."""

    code = "790"


class InvalidBrin(ValueObjectError):
    """BRIN or vestiging malformed."""

    code = "X120"


class UnknownElementcode(ValueObjectError):
    """Elementcode not in the table."""

    code = "X123"


class LeerjaarNotAllowed(ValueObjectError):
    """Leerjaar not allowed for the elementcode."""

    code = "X122"


class InvalidGeslacht(ValueObjectError):
    """Geslacht is not M or V (a wire value is refused earlier: only a W's new
    value reaches this)."""

    code = "X106"


class InvalidKeyValue(ValueObjectError):
    """A W record's new key value is malformed."""

    code = "X106"


class InvalidSchooljaar(ValueObjectError):
    """Schooljaar is not YYYY-YYYY+1."""


class InvalidPeriod(DomainError):
    """Einddatum before ingangsdatum."""

    code = "X124"


class EnrolmentUnknown(DomainError):
    """A, U or V on a period that does not exist for this student at this BRIN."""

    code = "055"


class EnrolmentExists(DomainError):
    """T on a period that already exists."""

    code = "811"


class SchoolUnknown(DomainError):
    """BRIN or vestiging unknown or closed, or not the batch's BRIN."""

    code = "X120"


class KeyDataMismatch(DomainError):
    """A W record whose old values differ from the registered ones."""

    code = "X105"


class MutationStopped(DomainError):
    """Change touching the count date after the stop, not an accountant mutation."""

    code = "X140"


class AccountantMutationTooEarly(DomainError):
    """Accountant mutation before the mutation stop."""

    code = "X141"


class CountDateAssured(DomainError):
    """Change touching the count date after the assurance report was received."""

    code = "060"


class IllegalTransition(DomainError):
    """The school year's registration is not in a state that allows this step."""


class InvalidRegistration(DomainError):
    """A school's registration breaks a rule (hoofdvestiging, licences)."""


class MutationRejected(DomainError):
    """One or more rules rejected a mutation; every applicable error is listed."""

    def __init__(self, errors: list[DomainError]) -> None:
        super().__init__("; ".join(f"{e.code}: {e.message}" for e in errors))
        self.errors = errors

    @property
    def codes(self) -> list[str]:
        return [e.code for e in self.errors if e.code]
