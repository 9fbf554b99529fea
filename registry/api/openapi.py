"""How the routes describe themselves in the OpenAPI document: what each answers
(documents.py), the problems it may give (one `Problem` schema under
`application/problem+json`), and the batch a delivery posts.

The large answers stay dicts: a route's `response_model` is `document(X)`, a
plain dict for FastAPI (keys checked, values passed on as they are, key order
kept, encoded by pydantic's core as before) whose JSON Schema is a reference to
the model X. No response model at all would be slower: FastAPI's own encoder
walks the answer in Python (a snapshot of 11,000 entries: ~0.3 s against
~0.01 s). `RegistryAPI` adds the models referred to to the document's
components.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, WithJsonSchema
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from registry.api import examples
from registry.api.documents import DOCUMENTS
from registry.api.errors import MEDIA_TYPE
from registry.api.reading import CSV_COLUMNS, POSITION_HEADER
from registry.api.schemas import Problem
from registry.intake.wire import Aanlevering

COMPONENTS = "#/components/schemas/"
Responses = dict[int | str, dict[str, Any]]


def ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": COMPONENTS + model.__name__}


def document(model: type[BaseModel]) -> Any:
    """A response model: a dict, documented as `model`."""
    return Annotated[dict[str, Any], WithJsonSchema(ref(model))]


def document_list(model: type[BaseModel]) -> Any:
    """A response model: a list of dicts, documented as a list of `model`."""
    schema = {"type": "array", "items": ref(model)}
    return Annotated[list[dict[str, Any]], WithJsonSchema(schema)]


_POSITION = {
    POSITION_HEADER: {
        "description": "the log position the answer is given at",
        "schema": {"type": "integer"},
    }
}
_CSV = {
    "schema": {
        "type": "string",
        "description": "with `format=csv`: the whole list, one row per enrolment, "
        f"columns {', '.join(CSV_COLUMNS)}; bekostigd `ja`/`nee`, redenen "
        "space-separated (sent as an attachment)",
    },
    "examples": {"example": {"value": examples.CSV}},
}


# FastAPI leaves every null out of the document, those of examples too (where
# a null says a key is there): an example travels as JSON text, put back by
# `complete`.
_CARRIED = "x-value-json"


def carried(named: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Named examples, {name: {"summary": ..., "value": ...}}, as they travel."""
    return {
        name: {
            **{k: v for k, v in example.items() if k != "value"},
            _CARRIED: json.dumps(example["value"]),
        }
        for name, example in named.items()
    }


def answer(
    description: str,
    example: Any = None,
    *,
    csv: bool = False,
    timeline: bool = False,
) -> Responses:
    """The 200 answer: its description, an example, the CSV beside the JSON,
    and the log position header of an answer read from the timeline."""
    named = {} if example is None else {"example": {"value": example}}
    content: dict[str, Any] = {
        "application/json": {"examples": carried(named)} if named else {}
    }
    if csv:
        content["text/csv"] = _CSV
    out: dict[str, Any] = {"description": description, "content": content}
    if timeline:
        out["headers"] = _POSITION
    return {200: out}


_RETRY = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}
_WHY = {
    401: "Not logged in: no session, or an unknown or expired one (log in at "
    "`/v1/auth/login`)",
    403: "Not allowed: the role may not do this, or not for this BRIN",
    404: "Not found",
    409: "Conflict",
    413: "The request body is too large",
    415: "Not `application/json`",
    422: "A path or query value is invalid; `errors` lists every misfit",
    429: "Too many failed attempts: wait Retry-After seconds",
    503: "Unavailable, try again after Retry-After: the database is down "
    "(`database-unavailable`), or for a route that reads the timeline, it is not "
    "ready yet (`projection-not-ready`), or for one that shows students, the "
    "read could not be audited (`read-not-audited`: nothing was served)",
}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`, when the session is missing or invalid",
            "schema": {"type": "string"},
        }
    },
    429: _RETRY,
    503: _RETRY,
}


def problems(
    *statuses: int,
    notes: Mapping[int, str] | None = None,
    cases: Mapping[int, Mapping[str, Any]] | None = None,
) -> Responses:
    """The problem responses a route may give: `notes` say why per status (else
    the usual reason), `cases` give examples per status (else the usual one)."""
    out: Responses = {}
    for status in sorted(statuses):
        named = (cases or {}).get(status) or {"example": examples.PROBLEMS[status]}
        media = {"schema": ref(Problem), "examples": carried(named)}
        response: dict[str, Any] = {
            "description": (notes or {}).get(status, _WHY[status]),
            "content": {MEDIA_TYPE: media},
        }
        if status in _HEADERS:
            response["headers"] = _HEADERS[status]
        out[status] = response
    return out


# Every read of the read side: a login, a role, and the timeline or the
# database behind it.
SIGNED_IN = (401, 403, 503)

BATCH_BODY = {
    "requestBody": {
        "description": "A batch, `bron-vo-batch/1` (contract.md): read as it is "
        "sent, after its media type and size are checked",
        "required": True,
        "content": {
            "application/json": {
                "schema": ref(Aanlevering),
                "examples": carried(
                    {
                        "two records": {
                            "summary": "an enrolment and a change of postcode",
                            "value": examples.BATCH,
                        }
                    }
                ),
            }
        },
    }
}

# Component schemas the routes refer to, and in which mode.
REFERRED: tuple[tuple[type[BaseModel], JsonSchemaMode], ...] = (
    *((model, "serialization") for model in DOCUMENTS),
    (Problem, "serialization"),
    (Aanlevering, "validation"),
)


def components() -> dict[str, Any]:
    _, schema = models_json_schema(REFERRED, ref_template=COMPONENTS + "{model}")
    defs: dict[str, Any] = schema["$defs"]
    missing = [m.__name__ for m, _ in REFERRED if m.__name__ not in defs]
    if missing:  # `ref` names a schema by its model's name
        raise ValueError(f"schemas named otherwise than their models: {missing}")
    return defs


_FASTAPI_422 = {"$ref": COMPONENTS + "HTTPValidationError"}


def _put_back(node: Any) -> None:
    """The examples `carried` as JSON text, as values again."""
    if isinstance(node, dict):
        if _CARRIED in node:
            node["value"] = json.loads(node.pop(_CARRIED))
        for value in node.values():
            _put_back(value)
    elif isinstance(node, list):
        for value in node:
            _put_back(value)


def complete(openapi: dict[str, Any]) -> dict[str, Any]:
    """Adds the referred schemas and puts the examples back. Drops the 422
    FastAPI declares with its own schema for a route that declares none: every
    misfit is a Problem here (errors.py), and a route that declares no 422 has
    no value that can misfit."""
    _put_back(openapi["paths"])
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in components().items():
        if schemas.setdefault(name, schema) != schema:
            raise ValueError(f"two component schemas named {name}")
    for path in openapi["paths"].values():
        for operation in path.values():
            responses = operation["responses"]
            given = responses.get("422", {}).get("content", {})
            if given.get("application/json", {}).get("schema") == _FASTAPI_422:
                del responses["422"]
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return openapi


class RegistryAPI(FastAPI):
    """The app, whose OpenAPI document holds the schemas its routes refer to."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = complete(super().openapi())
        return self.openapi_schema
