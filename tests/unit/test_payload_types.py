"""The extracts' payload types say what the published JSON Schemas say: the same
property names, the same required keys, null where the schema allows it, and
the same for the objects inside an array (a foto's `inschrijvingen`).

The schemas are the contract agencies rely on; mypy holds the extracts to these
types, and this test holds the types to the schemas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, get_args, get_type_hints, is_typeddict

import pytest

from registry.projections.extracts.payloads import (
    CbsFoto,
    CbsFotoInschrijving,
    CbsInschrijving,
    GemeenteInschrijving,
    GemeenteKoppeling,
    GemeenteVergeten,
    GemeenteVerhuizing,
    GemeenteVsv,
    InspectieFoto,
    InspectieInschrijving,
    SvbKinderbijslag,
    SvbVergeten,
    Vergeten,
)
from registry.publishing.contract import schema, schema_names

PAYLOADS: dict[str, type] = {
    "cbs.inschrijvingen.v1": CbsInschrijving,
    "cbs.fotos.v1": CbsFoto,
    "inspectie.inschrijvingen.v1": InspectieInschrijving,
    "inspectie.fotos.v1": InspectieFoto,
    "gemeente.inschrijvingen.v1": GemeenteInschrijving,
    "gemeente.vsv.v2": GemeenteVsv,
    "gemeente.verhuizingen.v1": GemeenteVerhuizing,
    "gemeente.koppelingen.v1": GemeenteKoppeling,
    "svb.kinderbijslag.v2": SvbKinderbijslag,
    "cbs.vergeten.v1": Vergeten,
    "inspectie.vergeten.v1": Vergeten,
    "gemeente.vergeten.v1": GemeenteVergeten,
    "svb.vergeten.v1": SvbVergeten,
}


def _nullable(property_schema: Mapping[str, Any]) -> bool:
    kind = property_schema.get("type")
    return kind == "null" or (isinstance(kind, list) and "null" in kind)


def _allows_none(hint: Any) -> bool:
    return type(None) in get_args(hint)


def differences(
    typed: type, object_schema: Mapping[str, Any], at: str = ""
) -> list[str]:
    """How a TypedDict departs from an object schema (none: it fits), looking
    into array items that are objects."""
    where = at or "(payload)"
    hints = get_type_hints(typed)
    properties: Mapping[str, Any] = object_schema.get("properties", {})
    out = []
    missing, extra = set(properties) - set(hints), set(hints) - set(properties)
    if missing:
        out.append(f"{where}: {typed.__name__} lacks {sorted(missing)}")
    if extra:
        out.append(f"{where}: {typed.__name__} has {sorted(extra)}, not in the schema")
    required = set(object_schema.get("required", ()))
    if set(typed.__required_keys__) != required:
        out.append(
            f"{where}: {typed.__name__} requires "
            f"{sorted(typed.__required_keys__)}, the schema {sorted(required)}"
        )
    for name in sorted(set(hints) & set(properties)):
        prop, hint = properties[name], hints[name]
        if _nullable(prop) != _allows_none(hint):
            out.append(
                f"{where}: {name} is {hint}, the schema's type {prop.get('type')}"
            )
        items = prop.get("items", {}) if prop.get("type") == "array" else {}
        if items.get("type") == "object":
            (item,) = get_args(hint) or (hint,)
            if not is_typeddict(item):
                out.append(f"{where}: {name} holds objects, typed {hint}")
            else:
                out += differences(item, items, f"{at}{name}[].")
    return out


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_the_payload_type_fits_its_schema(name: str) -> None:
    assert differences(PAYLOADS[name], schema(name)) == []


def test_every_published_schema_has_a_payload_type() -> None:
    assert sorted(PAYLOADS) == schema_names()


# Hand-made departures from cbs.fotos.v1 and cbs.inschrijvingen.v1.
_ITEM = get_type_hints(CbsFotoInschrijving)
_MUTATION = get_type_hints(CbsInschrijving)
WithoutRedenen = TypedDict(
    "WithoutRedenen", {k: v for k, v in _ITEM.items() if k != "redenen"}
)
FotoWithoutRedenen = TypedDict(
    "FotoWithoutRedenen",
    {**get_type_hints(CbsFoto), "inschrijvingen": list[WithoutRedenen]},
)
WithoutTime = TypedDict(
    "WithoutTime", {k: v for k, v in _MUTATION.items() if k != "geregistreerd_op"}
)
OptionalEnd = TypedDict(
    "OptionalEnd", {**_MUTATION, "einddatum": NotRequired[str | None]}
)
NeverNull = TypedDict("NeverNull", {**_MUTATION, "vestiging": str})
WithExtra = TypedDict("WithExtra", {**_MUTATION, "bsn": NotRequired[str]})


def test_a_missing_property_is_found() -> None:
    found = differences(WithoutTime, schema("cbs.inschrijvingen.v1"))
    assert "(payload): WithoutTime lacks ['geregistreerd_op']" in found


def test_a_missing_property_of_an_array_item_is_found() -> None:
    found = differences(FotoWithoutRedenen, schema("cbs.fotos.v1"))
    assert "inschrijvingen[].: WithoutRedenen lacks ['redenen']" in found


def test_a_property_the_schema_lacks_is_found() -> None:
    found = differences(WithExtra, schema("cbs.inschrijvingen.v1"))
    assert found == ["(payload): WithExtra has ['bsn'], not in the schema"]


def test_an_optional_key_the_schema_requires_is_found() -> None:
    (found,) = differences(OptionalEnd, schema("cbs.inschrijvingen.v1"))
    assert "OptionalEnd requires" in found


def test_a_null_the_type_does_not_allow_is_found() -> None:
    (found,) = differences(NeverNull, schema("cbs.inschrijvingen.v1"))
    assert found.startswith("(payload): vestiging is <class 'str'>")
