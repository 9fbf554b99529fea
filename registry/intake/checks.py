"""Content checks of one record that need no state: each fault becomes a signal
naming the field and the value. A field that already failed does not also fail
the rules that depend on it (no X122 when the elementcode is missing or unknown)."""

from __future__ import annotations

from registry.domain.errors import DomainError
from registry.domain.signals import Signal
from registry.domain.student import KEY_FIELDS
from registry.domain.values import Bsn, Onderwijsnummer, check_address
from registry.intake.wire import Inschrijving, Leerling, Melding, Uitgebreid, Wijziging


def _from(error: DomainError) -> Signal:
    assert error.code is not None
    return Signal(error.code, error.message)


def identity_signals(s: Leerling) -> list[Signal]:
    signals: list[Signal] = []
    if s.bsn is not None and s.onderwijsnummer is not None:
        signals.append(
            Signal("X103", "leerling: both bsn and onderwijsnummer are given")
        )
    elif s.bsn is None and s.onderwijsnummer is None and s.uitgebreid is None:
        signals.append(
            Signal("X103", "leerling: no bsn, no onderwijsnummer and no uitgebreid")
        )
    for value, kind in ((s.bsn, Bsn), (s.onderwijsnummer, Onderwijsnummer)):
        if value is not None:
            try:
                kind(value)
            except DomainError as e:
                signals.append(_from(e))
    signals += address_signals(s.postcode, s.landcode)
    if s.uitgebreid is not None:
        signals += extended_signals(s.uitgebreid, abroad=s.landcode is not None, s=s)
    return signals


def address_signals(postcode: str | None, landcode: str | None) -> list[Signal]:
    try:
        check_address(postcode, landcode)
    except DomainError as e:
        return [_from(e)]
    return []


def extended_signals(x: Uitgebreid, *, abroad: bool, s: Leerling) -> list[Signal]:
    required: dict[str, object] = {
        "achternaam": x.achternaam,
        "voornamen": x.voornamen,
        "geboortedatum": s.geboortedatum,
        "geslacht": s.geslacht,
    }
    if abroad:
        required["buitenlands_adres"] = x.buitenlands_adres
    else:
        required |= {
            "straatnaam": x.straatnaam,
            "huisnummer": x.huisnummer,
            "plaatsnaam": x.plaatsnaam,
        }
    missing = [name for name, value in required.items() if value in (None, "", [])]
    if missing:
        return [Signal("X104", "uitgebreid: missing " + ", ".join(missing))]
    return []


def period_signals(r: Melding) -> list[Signal]:
    p = r.inschrijving or Inschrijving()
    signals: list[Signal] = []
    if p.ingangsdatum is None:
        signals.append(Signal("097", "inschrijving.ingangsdatum is missing"))
    if r.mutatie in ("T", "A"):
        signals += _terms_signals(p)
    if r.mutatie == "U" and p.einddatum is None:
        signals.append(
            Signal("X124", "inschrijving.einddatum is required with mutatie U")
        )
    return signals


def _terms_signals(p: Inschrijving) -> list[Signal]:
    """Fields a T or A must carry; their values are judged with the period
    (application/mutations.py)."""
    signals: list[Signal] = []
    if not p.vestiging:
        signals.append(Signal("X120", "inschrijving.vestiging is missing or empty"))
    if p.elementcode is None:
        signals.append(Signal("023", "inschrijving.elementcode is missing"))
    if p.leerjaar is None:
        signals.append(Signal("028", "inschrijving.leerjaar is missing"))
    return signals


def change_signals(r: Melding) -> list[Signal]:
    if r.mutatie != "A":
        return [Signal("X105", f"mutatie {r.mutatie}: a W record must have mutatie A")]
    change: Wijziging | None = r.wijziging
    if change is None or not change.nieuw:
        return [Signal("X105", "wijziging: oud and nieuw are required with soort W")]
    unknown = sorted((set(change.oud) | set(change.nieuw)) - KEY_FIELDS)
    if unknown:
        return [Signal("X105", f"wijziging: {', '.join(unknown)} cannot be changed")]
    return []  # the values are judged against the registered student


def static_signals(r: Melding) -> list[Signal]:
    signals = identity_signals(r.leerling)
    signals += period_signals(r) if r.soort == "I" else change_signals(r)
    return signals

