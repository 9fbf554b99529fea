"""The foto hash per entry (scheme 2) and the redaction of a forgotten person's
entry that keeps it explainable (domain/foto_proof.py)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

from registry.domain import foto, foto_proof
from registry.domain.foto import FotoDocument, FotoEntry, LeerlingRef
from registry.domain.funding import funding_statement
from registry.infrastructure.sealing import forgotten_number

ANNA, PIET, KEES = "800000481", "800000122", "200000020"


def entry(number: str, leerjaar: int = 1) -> FotoEntry:
    return {
        "leerling": foto.leerling(number, "bsn"),
        "vestiging": "00",
        "elementcode": "0300",
        "leerjaar": leerjaar,
        "ingangsdatum": "2026-08-01",
        "einddatum": None,
        "bekostigd": True,
        "redenen": [],
    }


def doc(*entries: FotoEntry) -> FotoDocument:
    return foto.document(
        "voorlopig",
        "01OE",
        "2026-2027",
        "2026-10-01",
        "2026-11-15T00:00:00+00:00",
        list(entries),
    )


def named(*numbers: str) -> Callable[[LeerlingRef], bool]:
    return lambda who: foto.student_number(who) in numbers


def test_the_hash_holds_through_redaction_and_nothing_of_the_person_stays() -> None:
    d = doc(entry(ANNA), entry(PIET), entry(KEES, 2))
    proof = foto_proof.new_proof(d)
    issued = foto_proof.hash_of(d, proof)
    redacted, kept, now = foto_proof.redact(d, proof, named(ANNA, KEES))
    assert now == 2 and foto_proof.hash_of(redacted, kept) == issued
    assert ANNA not in str((redacted, kept)) and KEES not in str((redacted, kept))
    # The redacted entries go last and keep no salt: only the person digest.
    assert redacted["inschrijvingen"][0] == d["inschrijvingen"][1]
    assert [set(p) for p in kept["entries"]] == [{"salt"}, {"person"}, {"person"}]
    assert (redacted["controletotaal"], redacted["bekostigd"]) == (3, 3)
    assert foto_proof.redact(redacted, kept, named(PIET))[2] == 1  # once more
    assert foto_proof.redact(redacted, kept, named(ANNA))[2] == 0  # once is enough


def test_a_changed_field_of_a_redacted_entry_breaks_the_hash() -> None:
    d = doc(entry(ANNA), entry(PIET))
    proof = foto_proof.new_proof(d)
    issued = foto_proof.hash_of(d, proof)
    redacted, kept, _ = foto_proof.redact(d, proof, named(ANNA))
    redacted["inschrijvingen"][1]["leerjaar"] = 2
    assert foto_proof.hash_of(redacted, kept) != issued


def test_the_same_document_hashes_apart_under_fresh_salts() -> None:
    """The hash depends on the salts: it cannot be recomputed from guessed
    numbers once a salt is gone."""
    d = doc(entry(ANNA))
    hashes = {foto_proof.hash_of(d, foto_proof.new_proof(d)) for _ in range(3)}
    assert len(hashes) == 3


def test_a_flat_foto_loses_its_checkable_hash_with_its_first_number() -> None:
    d = doc(entry(ANNA), entry(PIET))
    assert foto_proof.hash_of(d, None) == foto.content_hash(d)
    redacted, kept, _ = foto_proof.redact(d, None, named(ANNA))
    assert kept == {"scheme": 1, "entries": []}
    assert foto_proof.hash_of(redacted, kept) is None


def test_derived_again_a_forgotten_person_matches_the_redacted_entry() -> None:
    d = doc(entry(ANNA), entry(PIET))
    redacted, _, _ = foto_proof.redact(d, foto_proof.new_proof(d), named(ANNA))
    again = doc(entry("vergeten:b697a967-8b23-5392-9ef9-db54a946038e"), entry(PIET))
    assert foto_proof.same_content(redacted, again)
    assert not foto_proof.same_content(d, again)  # not redacted yet: told apart
    assert not foto_proof.same_content(redacted, doc(entry(PIET), entry(KEES)))


def test_funding_counts_every_redacted_entry() -> None:
    d = doc(entry(ANNA), entry(PIET), entry(KEES))
    redacted, _, _ = foto_proof.redact(d, None, named(ANNA, KEES))
    vestigingen = [("00", True)]
    assert funding_statement(redacted, vestigingen) == funding_statement(d, vestigingen)


def test_the_read_sides_forgotten_number_is_what_fotos_recognise() -> None:
    sid = uuid4()
    assert foto.is_forgotten(foto.leerling(forgotten_number(sid), "bsn"))
    assert foto.is_forgotten(foto.leerling(forgotten_number(sid), "onderwijsnummer"))


def test_the_hashes_of_a_known_foto_never_change() -> None:
    """Issued hashes are stored and checked by schools and DUO: the bytes they are
    taken over (sorted keys, no spaces, text as is) are pinned here, with the
    digests this document had when the scheme was written."""
    assert foto.canonical_json({"b": [None, True], "a": "é"}) == (
        '{"a":"é","b":[null,true]}'
    )
    d = doc(entry(ANNA), entry(PIET, 2))
    proof: foto_proof.Proof = {
        "scheme": foto_proof.ENTRIES,
        "entries": [{"salt": "00" * 16}, {"salt": "11" * 16}],
    }
    assert foto_proof.hash_of(d, proof) == (
        "a21f89b14337ee8882b7c5a3ce567f66f2945d6cb80c3ba070eead036a1104a8"
    )
    assert foto.content_hash(d) == (
        "7a0fab5d5b5b2cee41755e05980165bebb8c45a3e50f43f8c265aad971e29bf1"
    )
