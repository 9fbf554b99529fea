"""The contract served by the API: the topic schemas and the AsyncAPI
document, without a login (they are public), each as the package holds it."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from registry.api.app import create_app
from registry.bootstrap import Runtime
from registry.config import Settings
from registry.publishing.asyncapi import document
from registry.publishing.contract import schema, schema_names


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """No database: serving the contract needs none."""
    settings = Settings(
        server_keys={"cursor": SecretStr("k" * 32)},
        state_dir=Path(tmp_path_factory.mktemp("state")),
    )
    return TestClient(create_app(cast(Runtime, SimpleNamespace(settings=settings))))


def test_the_schemas_are_listed_and_served_as_json_schema(client: TestClient) -> None:
    listed = client.get("/v1/schemas")
    assert listed.status_code == 200
    assert [e["name"] for e in listed.json()] == schema_names()
    for entry in listed.json():
        served = client.get(entry["href"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/schema+json"
        assert served.json() == schema(entry["name"])
        assert served.json()["$id"] == entry["id"]


def test_a_schema_is_found_by_its_topic_too(client: TestClient) -> None:
    served = client.get("/v1/schemas/bron.vo.gm0363.vsv.v2")
    assert served.status_code == 200
    assert served.json() == schema("gemeente.vsv.v2")


@pytest.mark.parametrize(
    "name", ["bron.vo.gm0363.vsv.v1", "cbs.fotos.v2", "bron.vo.gm9999.vsv.v2", "x"]
)
def test_an_unknown_schema_is_a_404_problem(client: TestClient, name: str) -> None:
    answer = client.get(f"/v1/schemas/{name}")
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == f"no topic schema {name!r}"


def test_the_asyncapi_document_is_served(client: TestClient) -> None:
    answer = client.get("/v1/asyncapi")
    assert answer.status_code == 200
    assert answer.json() == document()
