"""`registry generate|demo`: synthetic school years, written or played whole."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from registry.cli.common import REFUSALS, emit, refuse
from registry.config import Settings


def register(app: typer.Typer) -> None:
    app.command("generate")(generate)
    app.command("demo")(demo)


def generate(
    out: Annotated[Path, typer.Option("--out", help="directory to write into")],
    seed: Annotated[int, typer.Option(help="same seed, same files")] = 1,
    scale: Annotated[str, typer.Option(help="tiny, small or national")] = "small",
) -> None:
    """Write a synthetic school year: reference data, batches, schedule, expected
    outcome counts."""
    from registry.simulation.generator import generate as write_year

    _check_scale(scale)
    emit(write_year(seed, scale, out))


def demo(
    scale: Annotated[str, typer.Option(help="tiny, small or national")] = "small",
    seed: Annotated[int, typer.Option(help="the generated year's seed")] = 1,
    use_configured_kafka: Annotated[
        bool,
        typer.Option(
            help="publish the synthetic year to REGISTRY_KAFKA_BOOTSTRAP's cluster "
            "(otherwise the demo refuses while it is set)"
        ),
    ] = False,
    broker_schemas: Annotated[
        bool,
        typer.Option(
            help="the embedded broker checks each record against its topic's "
            "schema too (the registry and the agencies always do)"
        ),
    ] = False,
) -> None:
    """Play a whole school year on a fresh demo database (simulated clock), with
    publication to the agencies beside it; prints a summary, writes a report."""
    from registry.simulation.demo import run_demo

    # Synthetic students on real agency topics, generated keys: never there.
    settings = Settings()
    settings.refuse_in_production("the demo")
    if settings.kafka_bootstrap and not use_configured_kafka:
        refuse(
            "REGISTRY_KAFKA_BOOTSTRAP is set: the demo would publish synthetic "
            "students to that cluster's agency topics. Unset it (the demo starts "
            "its own broker) or pass --use-configured-kafka"
        )
    _check_scale(scale)
    try:
        summary = run_demo(scale, seed, broker_schemas)
    except REFUSALS as e:
        refuse(str(e))
    keys: tuple[str, ...] = ("schooljaar", "at", "cards", "signals", "unfunded")
    keys += ("diff", "funding", "topics", "consumers", "lag", "stages", "report")
    keys += ("database_url",)
    played = {k: summary["played"][k] for k in ("seconds", "mismatches")}
    emit({k: summary[k] for k in keys} | played)


def _check_scale(scale: str) -> None:
    if scale not in ("tiny", "small", "national"):
        refuse(f"--scale {scale!r} is not tiny, small or national")
