"""Personal data in stored events, sealed under the person's key (AES-GCM).

The personal fields of a Student event are taken out of the stored state and
stored as one ciphertext under `_sealed_`, with the student's id as associated
data (a sealed blob moved to another person's stream does not open). Reading
puts them back; when the key is deleted they come back blank (`BLANKS`): the
shapes the domain and the projections expect, holding nothing. A state without
`_sealed_` (written before sealing) passes through as it is stored.

This is a storage mapping, not domain logic: the domain never sees ciphertext.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from eventsourcing.persistence import (
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.utils import get_topic, resolve_topic

from registry.domain.student import ExtendedSet, KeyDataFields, Student
from registry.infrastructure.person_keys import KeyLookup, PersonKeys, nonce

SEALED = "_sealed_"  # the stored state's key of the ciphertext: never rename
Blank = Callable[[UUID], Any]


def _key_blank(_: UUID) -> dict[str, None]:
    return dict.fromkeys(KeyDataFields.__annotations__)


def _extended_blank(_: UUID) -> dict[str, None]:
    return dict.fromkeys(ExtendedSet.__annotations__)


def _none(_: UUID) -> None:
    return None


def forgotten_number(sid: UUID) -> str:
    """A forgotten person's number: the read side keeps numbers unique and not
    null. It names only the stream's id, which every row holds anyway."""
    return f"vergeten:{sid}"


REGISTERED = get_topic(Student.Registered)
# Per event class, its personal fields and what each reads as once forgotten.
PERSONAL: dict[str, dict[str, Blank]] = {
    get_topic(Student.Registered): {
        "number": forgotten_number,
        "key": _key_blank,
        "extended": _none,
    },
    get_topic(Student.KeyDataChanged): {"old": _key_blank, "new": _key_blank},
    get_topic(Student.ExtendedSetRecorded): {"extended": _extended_blank},
    get_topic(Student.BsnLinked): {"bsn": _none},
    get_topic(Student.ResidenceRecorded): {"gemeente": _none},
}


@dataclass(frozen=True, slots=True)
class Sealed:
    ciphertext: bytes  # nonce (12 bytes) + AES-GCM ciphertext and tag


class SealedAsBase64(Transcoding):
    type = Sealed
    name = "sealed"  # stored in the log: never rename

    def encode(self, obj: Sealed) -> str:
        return base64.b64encode(obj.ciphertext).decode("ascii")

    def decode(self, data: str) -> Sealed:
        return Sealed(base64.b64decode(data))


class Sealer:
    """Seals and opens the personal fields of an event's state, in place."""

    def __init__(self, keys: PersonKeys, transcoder: JSONTranscoder) -> None:
        self.keys = keys
        self.transcoder = transcoder

    def seal(self, topic: str, sid: UUID, version: int, state: dict[str, Any]) -> None:
        fields = PERSONAL.get(topic)
        if not fields:
            return
        personal = {f: state.pop(f) for f in fields if f in state}
        cipher = self.keys.for_sealing(sid, first_event=version == 1)
        iv = nonce()
        plain = self.transcoder.encode(personal)
        state[SEALED] = Sealed(iv + cipher.encrypt(iv, plain, sid.bytes))

    def open(
        self,
        topic: str,
        sid: UUID,
        data: dict[str, Any],
        keys: KeyLookup | None = None,
    ) -> None:
        """`keys`: where the person's key is looked up, if not in `self.keys`."""
        fields = PERSONAL.get(topic)
        if not fields:
            return
        sealed = data.pop(SEALED, None)
        has_row, cipher = (self.keys if keys is None else keys).lookup(sid)
        if cipher is not None:
            if isinstance(sealed, Sealed):
                data.update(self._decrypt(cipher, sid, sealed))
        elif has_row or sealed is not None:
            # Forgotten (key NULL, or its row deleted): blank, whether sealed or
            # stored before sealing (such a plaintext row still holds the data,
            # see docs/privacy.md). No row and no seal: a plaintext event as is.
            data.update({f: blank(sid) for f, blank in fields.items()})

    def _decrypt(self, cipher: Any, sid: UUID, sealed: Sealed) -> Mapping[str, Any]:
        iv, body = sealed.ciphertext[:12], sealed.ciphertext[12:]
        try:
            opened: dict[str, Any] = self.transcoder.decode(
                cipher.decrypt(iv, body, sid.bytes)
            )
        except InvalidTag:
            # Never blank a blob that fails to open under a live key: that is a
            # wrong key or a tampered row, not a forgotten person.
            raise ValueError(f"sealed data of {sid} do not open") from None
        return opened


class SealingMapper(Mapper[UUID]):
    """The library's mapper with the personal fields sealed. Without a sealer
    (no key store, e.g. in-memory persistence) it maps as the library does,
    and refuses to read a sealed state rather than show it half."""

    sealer: Sealer | None = None
    keys: PersonKeys | None = None  # where a registered student's number goes

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        topic = get_topic(type(domain_event))
        state = dict(vars(domain_event))
        sid, version = state.pop("originator_id"), state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        if self.keys is not None and topic == REGISTERED:
            self.keys.registering(state["number"], sid)  # saved with the event
        if self.sealer is not None:
            self.sealer.seal(topic, sid, version, state)
        return StoredEvent(sid, version, topic, self.transcoder.encode(state))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        sid = as_uuid(stored_event.originator_id)
        try:
            state: dict[str, Any] = self.transcoder.decode(stored_event.state)
            self.open(stored_event.topic, sid, state)
        except Exception as e:
            raise MapperDeserialisationError(
                f"failed to read {stored_event.topic} of {sid} "
                f"v{stored_event.originator_version}: {e}"
            ) from e
        state["originator_id"] = sid
        state["originator_version"] = stored_event.originator_version
        upcast(cls, state)
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def open(self, topic: str, sid: UUID, state: dict[str, Any]) -> None:
        if self.sealer is not None:
            self.sealer.open(topic, sid, state)
        elif SEALED in state:
            raise ValueError("a sealed state, and no person keys to open it")


def upcast(cls: type, state: dict[str, Any]) -> None:
    """Through the class's `upcast_vX_vY` methods, as the library's mapper does;
    after opening, so an upcast sees the personal fields too."""
    version, current = state.pop("class_version", 1), getattr(cls, "class_version", 1)
    while version < current:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
        version += 1


def as_uuid(value: UUID | str) -> UUID:
    """The registry's aggregates have UUIDs; the library's type allows strings."""
    return value if isinstance(value, UUID) else UUID(value)
