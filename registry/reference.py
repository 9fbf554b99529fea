"""Reference-data files (contract.md): JSON Lines, checked whole before anything is recorded."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date

from pydantic import BaseModel, ConfigDict, ValidationError

from registry.domain.errors import DomainError
from registry.domain.school import Licence, SchoolRegistration, VestigingRegistration


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


def parse_schools(lines: Iterable[str]) -> list[SchoolRegistration]:
    registrations: list[SchoolRegistration] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            registrations.append(SchoolIn.model_validate(json.loads(line)).to_domain())
        except json.JSONDecodeError as e:
            problems.append(f"line {number}: not JSON ({e.msg})")
        except ValidationError as e:
            problems.extend(
                f"line {number}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                for err in e.errors()
            )
        except DomainError as e:
            problems.append(f"line {number}: {e.field or 'school'}: {e.message}")
    if problems:
        raise FileRefused(problems)
    return registrations
