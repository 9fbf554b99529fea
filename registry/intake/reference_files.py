"""Reference-data files (contract.md): JSON Lines, checked whole before anything is recorded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from registry.domain.errors import DomainError
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration
from registry.domain.school_year import ExcludedStudent, Exclusion
from registry.domain.values import Bsn, Onderwijsnummer, padded_bsn

T = TypeVar("T")


class FileRefused(Exception):
    """The file breaks the format; `problems` lists every one found (line, path, rule)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s): " + "; ".join(problems[:20]))
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class LicenceIn(_Model):
    elementcode: str
    van: date
    tot: date | None = None


class VestigingIn(_Model):
    vestiging: str
    naam: str
    hoofdvestiging: bool
    postcode: str
    gemeente: str
    licenties: list[LicenceIn] = []


class SchoolIn(_Model):
    brin: str
    naam: str
    gemeente: str
    vestigingen: list[VestigingIn]

    def to_domain(self) -> SchoolRegistration:
        return SchoolRegistration(
            brin=self.brin,
            naam=self.naam,
            gemeente=self.gemeente,
            vestigingen=tuple(
                VestigingRegistration(
                    vestiging=v.vestiging,
                    naam=v.naam,
                    hoofdvestiging=v.hoofdvestiging,
                    postcode=v.postcode,
                    gemeente=v.gemeente,
                    licenties=tuple(Licence(**lic.model_dump()) for lic in v.licenties),
                )
                for v in self.vestigingen
            ),
        )


def parse_json_lines(lines: Iterable[str], parse: Callable[[Any], T]) -> list[T]:
    """Every line parsed, or a refusal listing every problem (line, path, rule)."""
    return list(stream_json_text_lines(lines, lambda line: parse(json.loads(line))))


def stream_json_text_lines(
    lines: Iterable[str], parse_text: Callable[[str], T]
) -> Iterator[T]:
    """Each good line's item as it is read; once every line is read, the
    refusal listing every problem, if any. `parse_text` reads the line's JSON
    itself (a model's `model_validate_json`: one pass instead of json.loads
    and then the model); a line that is not JSON is refused as such. Whoever
    records the items as they come must do so in one transaction, which the
    refusal then rolls back."""
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = parse_text(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {number}: not JSON ({e.msg})")
            continue
        except ValidationError as e:
            problems.extend(_problem(number, err) for err in e.errors())
            continue
        except DomainError as e:
            problems.append(f"line {number}: {e.field or 'line'}: {e.message}")
            continue
        if not problems:  # after the first problem, only the problems matter
            yield item
    if problems:
        raise FileRefused(problems)


def _problem(number: int, err: ErrorDetails) -> str:
    if err["type"] == "json_invalid":
        return f"line {number}: not JSON ({err.get('ctx', {}).get('error', '')})"
    return f"line {number}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def parse_schools(lines: Iterable[str]) -> list[SchoolRegistration]:
    return parse_json_lines(lines, lambda d: SchoolIn.model_validate(d).to_domain())


class LeerlingRef(_Model):
    bsn: Annotated[str, AfterValidator(padded_bsn)] | None = None
    onderwijsnummer: str | None = None


class ExclusionIn(_Model):
    """A line of an assurance exclusions file: a student not to fund, and why."""

    leerling: LeerlingRef
    reden: Literal["verzuim", "indicatie"]

    def to_event(self) -> Exclusion:
        """Checked, and as delivered: the number is recorded as it was written."""
        bsn, onderwijsnummer = self.leerling.bsn, self.leerling.onderwijsnummer
        student: ExcludedStudent
        if bsn is not None and onderwijsnummer is None:
            Bsn(bsn)
            student = {"bsn": bsn}
        elif onderwijsnummer is not None and bsn is None:
            Onderwijsnummer(onderwijsnummer)
            student = {"onderwijsnummer": onderwijsnummer}
        else:
            raise DomainError(
                "exactly one of bsn and onderwijsnummer is required", field="leerling"
            )
        return {"leerling": student, "reden": self.reden}


def parse_exclusions(lines: Iterable[str]) -> list[Exclusion]:
    return parse_json_lines(lines, lambda d: ExclusionIn.model_validate(d).to_event())
