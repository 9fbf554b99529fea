"""Examples for the OpenAPI document, after contract.md: a batch of two records,
its feedback, a snapshot, an issued foto and the problems."""

from __future__ import annotations

from typing import Any

from registry.api import problems

STUDENT = {
    "bsn": "800000481",
    "onderwijsnummer": None,
    "leerlingnummer": "A1234",
    "geboortedatum": "2013-05-17",
    "geslacht": "V",
    "postcode": "9700LC",
    "landcode": None,
    "uitgebreid": None,
}
BATCH: dict[str, Any] = {
    "format": "bron-vo-batch/1",
    "brin": "01OE",
    "aanleverpunt": 0,
    "batchnummer": 4,
    "schooljaar": "2026-2027",
    "soort": "INSCHRIJVING",
    "verantwoordelijke": "INSTELLING",
    "pakket": {"naam": "ExampleLAS", "versie": "7.2"},
    "meldingen": [
        {
            "meldingnummer": 17,
            "soort": "I",
            "mutatie": "T",
            "leerling": STUDENT,
            "inschrijving": {
                "vestiging": "00",
                "ingangsdatum": "2026-08-01",
                "einddatum": None,
                "elementcode": "0300",
                "leerjaar": 1,
                "jaren_pro": None,
            },
            "wijziging": None,
        },
        {
            "meldingnummer": 18,
            "soort": "W",
            "mutatie": "A",
            "leerling": STUDENT,
            "inschrijving": None,
            "wijziging": {
                "oud": {"postcode": "9700LC"},
                "nieuw": {"postcode": "9711AB"},
            },
        },
    ],
}
NUMBER = {"bsn": "800000481", "onderwijsnummer": None}
FEEDBACK: dict[str, Any] = {
    "format": "bron-vo-terugkoppeling/1",
    "brin": "01OE",
    "aanleverpunt": 0,
    "batchnummer": 4,
    "schooljaar": "2026-2027",
    "ontvangen": 2,
    "goedgekeurd": 1,
    "afgekeurd": 0,
    "wachtend": 1,
    "meldingen": [
        {
            "meldingnummer": 17,
            "status": "G",
            "leerling": NUMBER,
            "signalen": [
                {
                    "code": "770",
                    "ernst": "S",
                    "tekst": "postcode 9700LC differs from the population register",
                }
            ],
        },
        {"meldingnummer": 18, "status": "W", "leerling": NUMBER, "signalen": []},
    ],
}
ENTRIES = [
    {
        "leerling": NUMBER,
        "vestiging": "00",
        "elementcode": "0300",
        "leerjaar": 1,
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "bekostigd": True,
        "redenen": [],
    },
    {
        "leerling": {"bsn": "800000493", "onderwijsnummer": None},
        "vestiging": "01",
        "elementcode": "0300",
        "leerjaar": 2,
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "bekostigd": False,
        "redenen": ["X121"],
    },
]
FOTO_HEAD = {
    "format": "bron-vo-foto/1",
    "brin": "01OE",
    "schooljaar": "2026-2027",
    "peildatum": "2026-10-01",
    "stand_per": "2026-11-15T00:00:00+00:00",
    "controletotaal": 2,
    "bekostigd": 1,
}
SNAPSHOT = {
    "format": "bron-vo-foto/1",
    "soort": "peiling",
    **FOTO_HEAD,
    "inschrijvingen": ENTRIES[:1],
    "next_cursor": "MXwyMDI2LTExLTE1VDAwOjAwOjAwKzAwOjAw.Ve0kq4Pd1a9mfXkOc5S2kA",
}
ISSUED_FOTO = {
    "format": "bron-vo-foto/1",
    "soort": "voorlopig",
    **FOTO_HEAD,
    "inschrijvingen": ENTRIES,
    "versie": 1,
    "hash": "9f2c51c8a2b3f1d0e4c7a6b5d4c3b2a19f8e7d6c5b4a39281706f5e4d3c2b1a0",
}
CSV = (
    "bsn,onderwijsnummer,vestiging,elementcode,leerjaar,ingangsdatum,einddatum,"
    "bekostigd,redenen\r\n800000481,,00,0300,1,2026-08-01,,ja,\r\n"
    "800000493,,01,0300,2,2026-08-01,,nee,X121\r\n"
)


def problem(
    slug: str, title: str, status: int, detail: str, instance: str, **extension: Any
) -> dict[str, Any]:
    """An example problem, as registry/api/errors.py answers it."""
    return {
        "summary": title,
        "value": problems.body(slug, title, status, detail, instance, **extension),
    }


YEAR = "/v1/schools/01OE/years/2026-2027"
PROBLEMS: dict[int, dict[str, Any]] = {
    401: problem("unauthenticated", "Not logged in", 401, "log in first", YEAR),
    403: problem(
        "forbidden",
        "Not allowed",
        403,
        "user school01oe may act for its own BRIN only",
        "/v1/schools/02AB/years/2026-2027",
    ),
    404: problem(
        "no-such-foto",
        "No such foto",
        404,
        "no voorlopig foto for 01OE 2026-2027",
        YEAR + "/fotos/voorlopig",
    ),
    409: problem(
        "batch-key-taken",
        "The batch key was delivered with other content",
        409,
        "batch 01OE/0/2026-2027/4 was delivered before with different content; "
        "use a new batchnummer",
        "/v1/batches",
    ),
    413: problem(
        "payload-too-large",
        "The request body is too large",
        413,
        "the body exceeds 33554432 bytes",
        "/v1/batches",
    ),
    415: problem(
        "unsupported-media-type",
        "Send application/json",
        415,
        "a batch is application/json, not text/plain",
        "/v1/batches",
    ),
    422: problem(
        "invalid-request",
        "The request does not fit its schema",
        422,
        "query.limit: Input should be greater than or equal to 1",
        YEAR + "/snapshot",
        errors=[
            {
                "loc": ["query", "limit"],
                "msg": "Input should be greater than or equal to 1",
                "type": "greater_than_equal",
            }
        ],
    ),
    429: problem(
        "too-many-attempts",
        "Too many failed attempts",
        429,
        "too many failed attempts; try again in 60 s",
        "/v1/auth/login",
        reason="too_many_attempts",
    ),
    503: problem(
        "projection-not-ready",
        "Not ready to answer yet",
        503,
        "projection timeline has no live tables yet",
        YEAR + "/signals",
    ),
}
BATCH_REFUSED = problem(
    "batch-refused",
    "The batch is refused as a whole; nothing was recorded",
    422,
    "batch refused, 1 problem(s): meldingen.0.leerling.geslacht: "
    "Input should be 'M' or 'V'",
    "/v1/batches",
    problems=[
        {
            "path": "meldingen.0.leerling.geslacht",
            "rule": "Input should be 'M' or 'V'",
            "value": "X",
        }
    ],
)
LOGIN_REFUSED = problem(
    "invalid-credentials",
    "Not logged in",
    401,
    "login name, password or code is wrong",
    "/v1/auth/login",
    reason="invalid_credentials",
)
