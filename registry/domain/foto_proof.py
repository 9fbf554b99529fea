"""How an issued foto's content hash is made, and how the entry of a person
forgotten later is redacted while the hash stays explainable (docs/privacy.md).

Scheme 1, the fotos issued before redaction existed: sha256 of the canonical
document. Once an entry's number is gone that hash cannot be checked again,
and nothing can be kept that would let it be: whatever re-creates the hash
without the number also confirms a guessed number.

Scheme 2: every entry has a random salt, kept beside the document (the
`proof`), never inside it. The entry's person digest is sha256(salt ‖ its
`leerling`), its entry digest the sha256 of the entry with `leerling` replaced
by the person digest, and the content hash the sha256 of the document with its
entries replaced by their entry digests, sorted. Forgetting a person replaces
`leerling` by a marker and the salt by the person digest: the entry's other
fields, the counts and the hash all still check, and the digest of a random
salt cannot be tested against guessed numbers. Sorted digests make the hash
independent of the entries' order, so a redacted entry moves to the end and
its place among the numbers says nothing either.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NotRequired, TypedDict

from registry.domain.foto import (
    FotoDocument,
    FotoEntry,
    LeerlingRef,
    canonical_json,
    content_hash,
    forgotten_leerling,
    is_forgotten,
)

FLAT: Final = 1
ENTRIES: Final = 2
SALT_BYTES: Final = 16

# Writes canonical JSON exactly as `canonical_json` does. A caller may give a
# faster writer of the same text (a foto's hash encodes each entry twice); the
# scheme is the text, not the writer.
Encode = Callable[[object], str]


class EntryProof(TypedDict, total=False):
    salt: str  # hex; deleted with the number when the person is forgotten
    person: str  # sha256(salt ‖ leerling): what is kept in the salt's place


class Proof(TypedDict):
    """Stored beside an issued document (fotos.proof), not served with it."""

    scheme: int
    entries: list[EntryProof]  # scheme 2: one an entry, in the document's order
    # Scheme 1: the hash matched the document just before its first redaction
    # (the registry's word, not a proof anyone can check again).
    checked: NotRequired[bool]


def redacted(doc: FotoDocument) -> int:
    """How many entries have lost their number."""
    return sum(bool(e["leerling"].get("vergeten")) for e in doc["inschrijvingen"])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_proof(doc: FotoDocument) -> Proof:
    salts: list[EntryProof] = [
        {"salt": secrets.token_hex(SALT_BYTES)} for _ in doc["inschrijvingen"]
    ]
    return {"scheme": ENTRIES, "entries": salts}


def person_digest(
    salt: str, who: LeerlingRef, encode: Encode = canonical_json
) -> str:
    return _sha(salt + encode(who))


def entry_digest(entry: FotoEntry, person: str, encode: Encode = canonical_json) -> str:
    return _sha(encode({**entry, "leerling": person}))


def _person(
    entry: FotoEntry, proof: EntryProof, encode: Encode = canonical_json
) -> str:
    return proof.get("person") or person_digest(
        proof["salt"], entry["leerling"], encode
    )


def hash_of(
    doc: FotoDocument, proof: Proof | None, encode: Encode = canonical_json
) -> str | None:
    """The content hash the document and its proof give; None for a scheme-1
    document that has lost a number."""
    if proof is None or proof["scheme"] == FLAT:
        return None if redacted(doc) else content_hash(doc)
    pairs = zip(doc["inschrijvingen"], proof["entries"], strict=True)
    digests = sorted(entry_digest(e, _person(e, p, encode), encode) for e, p in pairs)
    return _sha(encode({**doc, "inschrijvingen": digests}))


def _blanked(entry: FotoEntry, proof: EntryProof) -> tuple[FotoEntry, EntryProof]:
    kept: EntryProof = {"person": _person(entry, proof)} if proof else {}
    return {**entry, "leerling": forgotten_leerling()}, kept


def redact(
    doc: FotoDocument,
    proof: Proof | None,
    forgotten: Callable[[LeerlingRef], bool],
) -> tuple[FotoDocument, Proof, int]:
    """The document without the numbers of the people `forgotten` names, its
    proof, and how many entries were redacted now. Counts stay as they were."""
    if proof is None:
        proof = {"scheme": FLAT, "entries": []}
    salts = proof["entries"] or [{} for _ in doc["inschrijvingen"]]
    kept: list[tuple[FotoEntry, EntryProof]] = []
    gone: list[tuple[FotoEntry, EntryProof]] = []
    now = 0
    for entry, salt in zip(doc["inschrijvingen"], salts, strict=True):
        if is_forgotten(entry["leerling"]) or forgotten(entry["leerling"]):
            now += not entry["leerling"].get("vergeten")
            gone.append(_blanked(entry, salt))
        else:
            kept.append((entry, salt))
    gone.sort(key=lambda pair: pair[1].get("person") or canonical_json(pair[0]))
    pairs = kept + gone
    out: Proof = {**proof, "entries": [p for _, p in pairs] if proof["entries"] else []}
    return {**doc, "inschrijvingen": [e for e, _ in pairs]}, out, now


def _normal(entry: FotoEntry, encode: Encode) -> str:
    """An entry as compared between issued and derived again: a person forgotten
    reads the same whether redacted or derived as `vergeten:<id>`."""
    if is_forgotten(entry["leerling"]):
        return encode({**entry, "leerling": forgotten_leerling()})
    return encode(entry)


def same_content(
    stored: FotoDocument, again: FotoDocument, encode: Encode = canonical_json
) -> bool:
    """The document derived again lists what the issued one does (its order
    aside), every person forgotten since as a redacted entry."""
    header = {k: v for k, v in stored.items() if k != "inschrijvingen"}
    header_again = {k: v for k, v in again.items() if k != "inschrijvingen"}
    return header == header_again and Counter(
        _normal(e, encode) for e in stored["inschrijvingen"]
    ) == Counter(_normal(e, encode) for e in again["inschrijvingen"])


@dataclass(frozen=True)
class Verification:
    scheme: int
    # The stored document and its proof give the issued hash; None: cannot be
    # told any more (scheme 1, a number redacted).
    hash_explained: bool | None
    same_content: bool
    vergeten: int  # entries redacted

    @property
    def ok(self) -> bool:
        return self.hash_explained is True and self.same_content


def verify(
    stored: FotoDocument,
    proof: Proof | None,
    issued: str,
    again: FotoDocument,
    encode: Encode = canonical_json,
) -> Verification:
    """An issued foto against its hash (recorded in the school year's event) and
    against the same foto derived again from the log."""
    digest = hash_of(stored, proof, encode)
    return Verification(
        scheme=proof["scheme"] if proof else FLAT,
        hash_explained=None if digest is None else digest == issued,
        same_content=same_content(stored, again, encode),
        vergeten=redacted(stored),
    )
