"""The `registry` command: the operator's and the tests' way in (contract.md).

Every command prints JSON on stdout; a refusal prints a clear message on stderr
and exits 2. Each module of this package registers one command group, or the
top-level commands of one theme, on the root app made here.
"""

from __future__ import annotations

import sys

import typer

from registry.cli import (
    audit,
    consume,
    db,
    deliveries,
    foto,
    kafka,
    milestones,
    population,
    projections,
    publish,
    retention,
    school_years,
    schools,
    serve,
    signals,
    simulation,
    snapshots,
    users,
    year,
)

app = typer.Typer(
    help="Enrolment registry for Dutch secondary schools (after BRON VO).",
    no_args_is_help=True,
)
# `--help` lists the top-level commands in this order, then the groups in theirs.
deliveries.register(app)
school_years.register(app)
snapshots.register(app)
audit.register(app)
consume.register(app)
serve.register(app)
simulation.register(app)
schools.register(app)
users.register(app)
db.register(app)
population.register(app)
year.register(app)
foto.register(app)
milestones.register(app)
projections.register(app)
signals.register(app)
kafka.register(app)
publish.register(app)
retention.register(app)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
