"""Funding statement (bekostiging) of one school year, computed from a foto.

Pure Python over a ``bron-vo-foto/1`` document; no database.

The rule (domain.md §4, amounts of 2022 from §4.5):

- every vestiging known at the foto earns a fixed amount: €227,160.97 per
  hoofdvestiging, €113,580.48 per nevenvestiging, whether or not it has funded
  students on the count date;
- every funded student earns rate A (€7,766.86) or rate B (€9,137.49).
  Only periods with ``bekostigd: true`` count. The foto has already settled who
  is funded (X121 unlicensed, X130 double enrolment, X151 indication, X160
  absence), so each student has at most one funded period; two are an error;
- each line is ``aantal × tarief`` in Decimal, rounded ROUND_HALF_UP to cents,
  and ``totaal`` is the sum of the lines.

Which post a funded period falls under (elementcode category from
``registry.domain.elementcodes``, then leerjaar):

- ``pro`` (praktijkonderwijs): rate B in every leerjaar;
- ``vavo``: rate A in every leerjaar, except the "naar VAVO teruggekeerd
  gezakt" codes (4016, 4026, 4036, 4045, 4055): a student back after failing the
  exam counts 50% (BBW art. 7b), so half rate A, €3,883.43;
- otherwise leerjaar 1–2 is onderbouw: rate A;
- bovenbouw (leerjaar 3 and up) by category: ``vwo``, ``havo``, ``ib`` (IB and
  European School programmes, pre-university) and ``vmbo_gl``/``vmbo_tl``
  (mavo/gl) take rate A; ``vmbo_bb``/``vmbo_kb`` and ``leerwerktraject`` (a
  basisberoeps variant) take rate B; ``onderbouw`` codes only allow leerjaar 1–3
  (``Ljvb op VWO/HAVO`` 1–3) and take rate A;
- ``lwoo`` follows its track, read from the description: Basisbg/Bbg/BBG/BB and
  Kaderbg/Kbg/KBG/KB are rate B, Gemengde/Gm/GLG/GL and MAVO/Theor/TLG are rate
  A. LWOO itself adds nothing here: since passend onderwijs its extra budget
  goes to the samenwerkingsverband, not through this per-student rate.

Gaps: a student who failed the exam but is delivered on a plain VAVO code
(4011, 4021, 4031, 4040, 4050) cannot be told apart and counts in full; the
amounts are the 2022 ones, not indexed per calendar year.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from registry.domain.elementcodes import Elementcode, lookup
from registry.domain.errors import UnknownElementcode
from registry.domain.foto import FORMAT, FotoKind, student_number

CENT = Decimal("0.01")
RATE_A = Decimal("7766.86")
RATE_B = Decimal("9137.49")
VAVO_FAILED = frozenset({"4016", "4026", "4036", "4045", "4055"})
GRONDSLAG = {
    FotoKind.DEFINITIEF: "definitief",
    FotoKind.VOORLOPIG: "voorlopig (provisional)",
}

_BB_KB = frozenset({"Basisbg", "Bbg", "BBG", "BB", "Kaderbg", "Kbg", "KBG", "KB"})
_GL_TL = frozenset({"Gemengde", "Gm", "GLG", "GL", "MAVO", "Theor", "TLG", "TL"})


class FundingError(ValueError):
    """A foto cannot be turned into a funding statement."""


@dataclass(frozen=True)
class Post:
    name: str
    tarief: Decimal


HOOFDVESTIGING = Post("hoofdvestiging", Decimal("227160.97"))
NEVENVESTIGING = Post("nevenvestiging", Decimal("113580.48"))
ONDERBOUW = Post("leerling onderbouw", RATE_A)
VWO = Post("leerling vwo", RATE_A)
HAVO = Post("leerling havo", RATE_A)
IB = Post("leerling ib/ess", RATE_A)
VMBO_GL_TL = Post("leerling vmbo gl/tl bovenbouw", RATE_A)
VMBO_BB_KB = Post("leerling vmbo bb/kb bovenbouw", RATE_B)
PRO = Post("leerling praktijkonderwijs", RATE_B)
VAVO = Post("leerling vavo", RATE_A)
VAVO_HALF = Post("leerling vavo na gezakt examen (50%)", RATE_A / 2)
POSTS = (
    HOOFDVESTIGING, NEVENVESTIGING, ONDERBOUW, VWO, HAVO, IB, VMBO_GL_TL,
    VAVO, VAVO_HALF, VMBO_BB_KB, PRO,
)  # fmt: skip
_BOVENBOUW = {
    "onderbouw": ONDERBOUW,
    "vwo": VWO,
    "havo": HAVO,
    "ib": IB,
    "vmbo_gl": VMBO_GL_TL,
    "vmbo_tl": VMBO_GL_TL,
    "vmbo_bb": VMBO_BB_KB,
    "vmbo_kb": VMBO_BB_KB,
    "leerwerktraject": VMBO_BB_KB,
}


def lwoo_track(code: Elementcode) -> Post:
    """The bovenbouw post of an LWOO code, from the track named in its text."""
    words = {w.strip(".") for w in code.description.replace("/", " ").split()}
    if words & _BB_KB and not words & _GL_TL:
        return VMBO_BB_KB
    if words & _GL_TL and not words & _BB_KB:
        return VMBO_GL_TL
    raise FundingError(
        f"elementcode {code.code} ({code.description!r}): cannot tell the vmbo "
        "track of this LWOO code in the bovenbouw"
    )


def post_for(elementcode: str, leerjaar: int) -> Post:
    """The funding post of one funded period (see the module docstring)."""
    code = lookup(elementcode)
    if code.category == "pro":
        return PRO
    if code.category == "vavo":
        return VAVO_HALF if code.code in VAVO_FAILED else VAVO
    if leerjaar <= 2:
        return ONDERBOUW
    if code.category == "lwoo":
        return lwoo_track(code)
    try:
        return _BOVENBOUW[code.category]
    except KeyError:
        raise FundingError(
            f"elementcode {code.code}: no funding post for category {code.category!r}"
        ) from None


def _money(amount: Decimal) -> str:
    return format(amount.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def line(post: Post, aantal: int) -> dict[str, Any]:
    """One line of the statement: aantal × tarief, rounded half up to cents."""
    bedrag = (post.tarief * aantal).quantize(CENT, rounding=ROUND_HALF_UP)
    return {
        "post": post.name,
        "aantal": aantal,
        "tarief": _money(post.tarief),
        "bedrag": _money(bedrag),
    }


def _student(period: Mapping[str, Any]) -> str:
    return student_number(period["leerling"])


def _describe(period: Mapping[str, Any]) -> str:
    return (
        f"leerling {_student(period)}, vestiging {period['vestiging']}, "
        f"ingangsdatum {period['ingangsdatum']}"
    )


def _funded_post(period: Mapping[str, Any], known: set[str]) -> Post:
    if period["vestiging"] not in known:
        raise FundingError(
            f"{_describe(period)}: vestiging {period['vestiging']} is not among "
            "the school's vestigingen at the foto"
        )
    try:
        return post_for(period["elementcode"], period["leerjaar"])
    except UnknownElementcode as exc:
        raise FundingError(f"{_describe(period)}: {exc.message}") from exc


def _student_counts(periods: list[Mapping[str, Any]], known: set[str]) -> Counter[Post]:
    counts: Counter[Post] = Counter()
    seen: set[str] = set()
    for period in periods:
        student = _student(period)
        # A redacted entry (a person forgotten since) has no number to tell it
        # by; the foto was checked for doubles when it was issued (X130).
        if student and student in seen:
            raise FundingError(
                f"{_describe(period)}: a second funded period for this student; "
                "a student counts once"
            )
        seen.add(student)
        counts[_funded_post(period, known)] += 1
    return counts


def _vestiging_counts(vestigingen: Iterable[tuple[str, bool]]) -> Counter[Post]:
    posts = (HOOFDVESTIGING if hoofd else NEVENVESTIGING for _, hoofd in vestigingen)
    return Counter(posts)


def _periods(funded: int, unfunded: list[Mapping[str, Any]]) -> dict[str, Any]:
    reasons = Counter(r for p in unfunded for r in p["redenen"] or ["(geen reden)"])
    return {
        "bekostigd": funded,
        "niet_bekostigd": len(unfunded),
        "niet_bekostigd_per_reden": dict(sorted(reasons.items())),
    }


def _check(foto: Mapping[str, Any], funded: int) -> None:
    if foto.get("format", FORMAT) != FORMAT:
        raise FundingError(f"not a {FORMAT} document: {foto.get('format')!r}")
    rows = len(foto["inschrijvingen"])
    if foto.get("controletotaal", rows) != rows:
        raise FundingError(
            f"controletotaal {foto['controletotaal']} but {rows} inschrijvingen"
        )
    if foto.get("bekostigd", funded) != funded:
        raise FundingError(
            f"foto says {foto['bekostigd']} funded but {funded} periods are funded"
        )


def funding_statement(
    foto: Mapping[str, Any], vestigingen: Iterable[tuple[str, bool]]
) -> dict[str, Any]:
    """The funding statement of a foto, given the school's vestigingen at the
    foto as (vestiging code, is hoofdvestiging) pairs. Every post gets a line,
    also with aantal 0. An unfunded period with several reasons counts under
    each in ``niet_bekostigd_per_reden``; one without any under "(geen reden)"."""
    vestigingen = list(vestigingen)
    periods = foto["inschrijvingen"]
    funded = [p for p in periods if p["bekostigd"]]
    _check(foto, len(funded))
    counts = _vestiging_counts(vestigingen)
    counts += _student_counts(funded, {code for code, _ in vestigingen})
    lines = [line(post, counts[post]) for post in POSTS]
    return {
        "brin": foto["brin"],
        "schooljaar": foto["schooljaar"],
        "soort": foto["soort"],
        "peildatum": foto.get("peildatum"),
        "regels": lines,
        "totaal": _money(sum((Decimal(r["bedrag"]) for r in lines), Decimal())),
        "perioden": _periods(len(funded), [p for p in periods if not p["bekostigd"]]),
    }


def funding_for_year(
    fotos: Mapping[str, Mapping[str, Any] | None],
    vestigingen: Iterable[tuple[str, bool]],
) -> dict[str, Any]:
    """The statement of a school year from its fotos keyed by soort: the
    definitief foto when there is one, else the voorlopig one (provisional).
    Pass the latest versie of each; actueel and peiling fotos are not used."""
    for soort, grondslag in GRONDSLAG.items():
        foto = fotos.get(soort)
        if foto is None:
            continue
        if foto["soort"] != soort:
            raise FundingError(f"the {soort} foto given has soort {foto['soort']!r}")
        return {"grondslag": grondslag, **funding_statement(foto, vestigingen)}
    raise FundingError("no definitief or voorlopig foto: nothing to fund yet")
