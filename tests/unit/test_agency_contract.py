"""The agency kit reads the contract from the schemas alone, and reads it as the
registry publishes it: the same topics per recipient, the same dead-letter
topic, and the CloudEvents type and schema URI the relay sends."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from consumers.contract import NotInContract, Schemas, dead_letter_topic
from registry.publishing import contract


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    return Schemas()


def test_every_recipient_has_the_registry_s_topics(schemas: Schemas) -> None:
    for recipient in contract.recipients():
        assert schemas.topics_of(recipient) == sorted(contract.topics_of(recipient))
        assert dead_letter_topic(recipient) == contract.dead_letter_topic(recipient)


def test_each_topic_expects_what_the_relay_sends(schemas: Schemas) -> None:
    for topic in contract.all_topics():
        kit = schemas.contract(topic)
        _, kind = contract.parse_topic(topic)
        assert kit.ce_type == contract.ce_type(kind)
        assert kit.schema_id == contract.dataschema(topic)


def test_an_unknown_recipient_or_topic_is_refused_by_name(schemas: Schemas) -> None:
    with pytest.raises(NotInContract, match="unknown recipient 'duo'"):
        schemas.topics_of("duo")
    with pytest.raises(NotInContract, match=r"no schema cbs\.foo\.v1"):
        schemas.contract("bron.vo.cbs.foo.v1")


def test_schemas_come_from_a_directory_of_copies(
    tmp_path: Path, schemas: Schemas
) -> None:
    """As an agency would keep them, fetched from GET /v1/schemas."""
    for name in ("svb.kinderbijslag.v2", "svb.vergeten.v1"):
        (tmp_path / f"{name}.json").write_text(json.dumps(contract.schema(name)))
    copies = Schemas(tmp_path)
    assert copies.topics_of("svb") == sorted(contract.topics_of("svb"))
    with pytest.raises(NotInContract, match="no topic schemas for recipient 'cbs'"):
        copies.topics_of("cbs")


def test_the_kit_runs_no_code_of_the_registry() -> None:
    """Only the (empty) packages that hold the schema files are imported."""
    code = (
        "import sys\n"
        "from consumers.agency import AgencyConsumer\n"
        "from consumers.cli import main\n"
        "from consumers.contract import Schemas\n"
        "Schemas().contract(Schemas().topics_of('gm0363')[0])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'registry'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.replace("'", '"')) == [
        "registry",
        "registry.publishing",
    ]
    init = Path(contract.__file__).with_name("__init__.py")
    assert not init.read_text().strip()


def test_the_fetch_wait_reaches_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    """It bounds how late a message is stored on a broker that does not answer
    a fetch when a record arrives: the operator's value must be the one used."""
    from consumers.agency import AgencyConsumer
    from consumers.settings import AgencySettings

    monkeypatch.setenv("AGENCY_FETCH_WAIT_MS", "20")
    settings = AgencySettings(database_url="dbname=x", kafka_bootstrap="127.0.0.1:1")
    consumer = AgencyConsumer.from_settings(settings, "cbs")
    assert consumer._kafka_settings["fetch_max_wait_ms"] == 20
    assert AgencySettings().fetch_wait_ms == 20
    monkeypatch.setenv("AGENCY_FETCH_WAIT_MS", "0")
    with pytest.raises(ValueError, match="fetch_wait_ms"):
        AgencySettings()


def test_the_fetch_size_reaches_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    """An agency that only needs to keep up asks for larger fetches; by default
    each message is fetched as soon as it is there."""
    from consumers.agency import AgencyConsumer
    from consumers.settings import AgencySettings

    settings = AgencySettings(database_url="dbname=x", kafka_bootstrap="127.0.0.1:1")
    consumer = AgencyConsumer.from_settings(settings, "cbs")
    assert consumer._kafka_settings["fetch_min_bytes"] == 1
    monkeypatch.setenv("AGENCY_FETCH_MIN_BYTES", "65536")
    settings = AgencySettings(database_url="dbname=x", kafka_bootstrap="127.0.0.1:1")
    consumer = AgencyConsumer.from_settings(settings, "cbs")
    assert consumer._kafka_settings["fetch_min_bytes"] == 65536
    monkeypatch.setenv("AGENCY_FETCH_MIN_BYTES", "0")
    with pytest.raises(ValueError, match="fetch_min_bytes"):
        AgencySettings()


@pytest.mark.parametrize("value", ["64k", "1.5", "-1", str(50 * 1024 * 1024 + 1), ""])
def test_a_malformed_fetch_size_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Not a whole number of bytes from 1 to 50 MiB: refused at start, naming
    the setting, rather than passed on to the client."""
    from consumers.settings import AgencySettings

    monkeypatch.setenv("AGENCY_FETCH_MIN_BYTES", value)
    with pytest.raises(ValueError, match="fetch_min_bytes"):
        AgencySettings()
