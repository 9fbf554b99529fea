"""The OpenAPI document: every answer documented, every refusal a Problem under
application/problem+json, the batch a delivery posts, examples that fit their
schemas, and no reference that leads nowhere. Built from the app alone: no
database is needed to describe it."""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, SecretStr

from registry.api import documents, examples, routes
from registry.api.app import create_app
from registry.api.deps import current_principal
from registry.api.errors import MEDIA_TYPE
from registry.api.schemas import Problem
from registry.bootstrap import Runtime
from registry.config import Settings
from registry.intake.wire import parse_batch

PROBLEM = {"$ref": "#/components/schemas/Problem"}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    settings = Settings(
        server_keys={"cursor": SecretStr("k" * 32)},
        state_dir=Path(tmp_path_factory.mktemp("state")),
    )
    return create_app(cast(Runtime, SimpleNamespace(settings=settings)))


@pytest.fixture(scope="module")
def doc(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", op


def resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for escaped in ref[2:].split("/"):
        part = escaped.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} leads nowhere"
        node = node[part]
    return node


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def api_routes() -> list[APIRoute]:
    """Every route of every module in registry/api/routes."""
    found = []
    for module in pkgutil.iter_modules(routes.__path__):
        router = importlib.import_module(f"{routes.__name__}.{module.name}").router
        found += [r for r in router.routes if isinstance(r, APIRoute)]
    return found


def needs_login(route: APIRoute) -> bool:
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if dependency.call is current_principal:
            return True
        pending.extend(dependency.dependencies)
    return False


def test_the_document_is_openapi_3_1_and_every_reference_resolves(
    doc: dict[str, Any],
) -> None:
    assert doc["openapi"].startswith("3.1.")
    json.dumps(doc)  # plain JSON throughout
    found = list(refs(doc))
    assert found
    for ref in found:
        assert isinstance(resolve(doc, ref), dict)
    # FastAPI's own 422 schema would be wrong here: every misfit is a Problem.
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_every_route_documents_its_answer(doc: dict[str, Any]) -> None:
    for name, op in operations(doc):
        responses = op["responses"]
        assert "200" in responses or "204" in responses, name
        if "204" in responses:
            assert "content" not in responses["204"], name
            continue
        content = responses["200"]["content"]
        # JSON, or a JSON Schema served as one (application/schema+json)
        media = content.get("application/json") or content["application/schema+json"]
        schema = media["schema"]
        assert schema not in ({}, {"type": "object"}), name
        target = schema.get("items", schema)
        assert "$ref" in target, f"{name}: {schema}"
        model = resolve(doc, target["$ref"])
        assert model["type"] == "object" and model["properties"], name


def test_every_refusal_is_a_problem(doc: dict[str, Any]) -> None:
    declared = 0
    for name, op in operations(doc):
        for status, response in op["responses"].items():
            if int(status) < 400:
                continue
            declared += 1
            assert list(response["content"]) == [MEDIA_TYPE], (name, status)
            media = response["content"][MEDIA_TYPE]
            assert media["schema"] == PROBLEM, (name, status)
            for example in media["examples"].values():
                problem = Problem.model_validate(example["value"])
                assert problem.status == int(status), (name, status)
    assert declared > 40


def test_the_routes_declare_their_refusals(doc: dict[str, Any]) -> None:
    found = api_routes()
    assert len(found) == 20  # with /healthz, /readyz and the contract's three
    assert len(list(operations(doc))) == len(found)
    for route in found:
        for method in route.methods:
            op = doc["paths"][route.path_format][method.lower()]
            declared = set(op["responses"])
            name = f"{method} {route.path_format}"
            if needs_login(route):
                assert {"401", "503"} <= declared, name
                assert op["security"] == [{"HTTPBearer": []}], name
            params = route.dependant.path_params + route.dependant.query_params
            if any(
                p.field_info.annotation is not str or p.field_info.metadata
                for p in params
            ):
                assert "422" in declared, name  # a value FastAPI validates
    login = doc["paths"]["/v1/auth/login"]["post"]["responses"]
    assert {"401", "403", "422", "429", "503"} <= set(login)
    assert "Retry-After" in login["429"]["headers"]
    # Logging out needs no session: bearer or nothing.
    logout = doc["paths"]["/v1/auth/logout"]["post"]
    assert logout["security"] == [{"HTTPBearer": []}, {}]
    assert "401" not in logout["responses"]
    # Health needs no login; readiness says which dependency is down.
    assert "security" not in doc["paths"]["/healthz"]["get"]
    # The published contract is public.
    for path in ("/v1/schemas", "/v1/schemas/{name}", "/v1/asyncapi"):
        assert "security" not in doc["paths"][path]["get"], path
    assert set(doc["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_a_delivery_documents_the_batch_it_posts(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/v1/batches"]["post"]
    assert {"401", "403", "409", "413", "415", "422", "503"} <= set(op["responses"])
    body = op["requestBody"]
    assert body["required"] is True
    media = body["content"]["application/json"]
    schema = resolve(doc, media["schema"]["$ref"])
    assert {"format", "brin", "meldingen"} <= set(schema["required"])
    records = schema["properties"]["meldingen"]
    assert records["items"] == {"$ref": "#/components/schemas/Melding"}
    (example,) = media["examples"].values()
    batch, _ = parse_batch(json.dumps(example["value"]))
    assert len(batch.meldingen) == 2


@pytest.mark.parametrize(
    ("path", "model", "example"),
    [
        ("/v1/batches", documents.Feedback, examples.FEEDBACK),
        (
            "/v1/schools/{brin}/years/{schooljaar}/snapshot",
            documents.Snapshot,
            examples.SNAPSHOT,
        ),
        (
            "/v1/schools/{brin}/years/{schooljaar}/fotos/{soort}",
            documents.IssuedFoto,
            examples.ISSUED_FOTO,
        ),
    ],
)
def test_documents_come_with_examples_that_fit(
    doc: dict[str, Any], path: str, model: type[BaseModel], example: dict[str, Any]
) -> None:
    item = doc["paths"][path]
    op = item.get("get") or item["post"]
    content = op["responses"]["200"]["content"]
    assert content["application/json"]["examples"]["example"]["value"] == example
    fitted = model.model_validate(example)
    assert fitted.model_dump(mode="json", by_alias=True, exclude_unset=True) == example
    if "{soort}" in path or "snapshot" in path:
        assert content["text/csv"]["schema"]["type"] == "string"


def test_a_validator_accepts_the_document_when_installed(
    doc: dict[str, Any],
) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
