"""The published contract with the agencies, served: each topic's JSON Schema
and the AsyncAPI document of the topics. Public, as the contract is: no login,
nothing of the register in them."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from registry.api.openapi import problems
from registry.publishing import asyncapi
from registry.publishing.contract import (
    all_topics,
    schema,
    schema_name,
    schema_names,
)

router = APIRouter(prefix="/v1", tags=["contract"])


class SchemaResponse(JSONResponse):
    media_type = "application/schema+json"


class TopicSchemaEntry(BaseModel):
    name: str = Field(description="the schema's name, `<group>.<kind>.<version>`")
    id: str = Field(description="its `$id`, which messages carry as `ce_dataschema`")
    topic: str = Field(
        description="its topic; `gmNNNN` stands for each municipality's code"
    )
    href: str = Field(description="where this API serves it")


class TopicSchemaDocument(BaseModel):
    """A JSON Schema (2020-12) of one topic's payload."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    schema_: str = Field(alias="$schema", description="the JSON Schema dialect")
    id: str = Field(alias="$id", description="the schema's URI")
    title: str = Field(description="the topic")
    description: str = Field(description="what it carries, and how it may evolve")
    properties: dict[str, Any] = Field(description="every field, described")


class AsyncApiDocument(BaseModel):
    """An AsyncAPI 3.0 document."""

    model_config = ConfigDict(extra="allow")
    asyncapi: str = Field(description="`3.0.0`")
    info: dict[str, Any]
    channels: dict[str, Any] = Field(description="one per topic schema")
    operations: dict[str, Any]
    components: dict[str, Any]


@router.get(
    "/schemas",
    response_model=list[TopicSchemaEntry],
    responses={200: {"description": "Every topic schema of the contract"}},
)
def schemas() -> list[TopicSchemaEntry]:
    """The topic schemas: what each topic's messages carry."""
    return [
        TopicSchemaEntry(
            name=name,
            id=schema(name)["$id"],
            topic=schema(name)["title"],
            href=f"/v1/schemas/{name}",
        )
        for name in schema_names()
    ]


@router.get(
    "/schemas/{name}",
    response_class=SchemaResponse,
    response_model=None,
    responses={
        200: {
            "model": TopicSchemaDocument,
            "description": "The topic's JSON Schema, as the relay checks each "
            "message by it",
        },
        **problems(404, notes={404: "No topic or schema of that name"}),
    },
)
def topic_schema(name: str) -> SchemaResponse:
    """One topic's JSON Schema, by its name (`cbs.fotos.v1`) or by a topic
    (`bron.vo.gm0363.vsv.v2`)."""
    return SchemaResponse(schema(_schema_of(name)))


@router.get(
    "/asyncapi",
    response_model=AsyncApiDocument,
    responses={200: {"description": "The topics as an AsyncAPI 3.0 document"}},
)
def asyncapi_document() -> JSONResponse:
    """Every topic, its messages' headers and payload schema, and its key."""
    return JSONResponse(asyncapi.document())


def _schema_of(name: str) -> str:
    if name in schema_names():
        return name
    if name in _topics():
        return schema_name(name)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no topic schema {name!r}")


@cache
def _topics() -> frozenset[str]:
    return frozenset(all_topics())
