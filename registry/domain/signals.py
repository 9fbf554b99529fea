"""The signal codes of contract.md: real BRON codes where one exists, X-codes for
the registry's own rules. Ernst A rejects the record; S accepts it with attention."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypedDict

Ernst = Literal["A", "S"]
REJECT: Final = "A"
ATTENTION: Final = "S"

CODES: dict[str, tuple[Ernst, str]] = {
    "023": (REJECT, "elementcode missing"),
    "028": (REJECT, "leerjaar missing"),
    "097": (REJECT, "ingangsdatum missing"),
    "055": (REJECT, "period does not exist for this student at this BRIN"),
    "060": (REJECT, "count date already assured"),
    "742": (REJECT, "BSN malformed or failing the 11-proof"),
    "752": (REJECT, "onderwijsnummer, birth date and sex do not match the registry"),
    "753": (REJECT, "BSN, birth date and sex do not match the population register"),
    "790": (REJECT, "not exactly one of postcode / landcode"),
    "811": (REJECT, "period already exists"),
    "X102": (REJECT, "onderwijsnummer malformed or failing its check"),
    "X103": (REJECT, "no BSN, no onderwijsnummer and no extended set, or both numbers"),
    "X104": (REJECT, "extended set incomplete"),
    "X105": (REJECT, "W record whose old values differ from the registered ones"),
    "X106": (REJECT, "W record whose new value is malformed"),
    "X107": (REJECT, "the student's data were removed after the retention period"),
    "X110": (REJECT, "postcode malformed"),
    "X120": (REJECT, "BRIN or vestiging unknown, or not the batch's BRIN"),
    "X122": (REJECT, "leerjaar not allowed for the elementcode"),
    "X123": (REJECT, "elementcode unknown"),
    "X124": (REJECT, "einddatum before ingangsdatum"),
    "X140": (
        REJECT,
        "count-date change after the mutation stop, not an accountant mutation",
    ),
    "X141": (REJECT, "accountant mutation before the mutation stop"),
    "755": (ATTENTION, "found in the population register; BSN returned"),
    "757": (ATTENTION, "onderwijsnummer issued"),
    "770": (ATTENTION, "postcode differs from the population register"),
    "956": (ATTENTION, "data are secret in the population register"),
    "X121": (
        ATTENTION,
        "elementcode not licensed at the vestiging on the ingangsdatum",
    ),
    "X130": (ATTENTION, "more than one enrolment valid on 1 October"),
    "X131": (ATTENTION, "end date delivered more than 7 days after it"),
    "X132": (ATTENTION, "waited more than 14 days on the population register"),
    "X150": (
        ATTENTION,
        "praktijkonderwijs past the school year in which the student turns 18",
    ),
}


class ListedSignal(TypedDict):
    """A school's current attention signal (its signal list, contract.md)."""

    code: str
    leerling: str
    tekst: str


@dataclass(frozen=True)
class Signal:
    code: str
    text: str

    def __post_init__(self) -> None:
        if self.code not in CODES:
            raise ValueError(f"unknown signal code {self.code}")

    @property
    def ernst(self) -> Ernst:
        return CODES[self.code][0]

    @property
    def rejects(self) -> bool:
        return self.ernst == REJECT
