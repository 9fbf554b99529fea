"""`registry retention run`: forget everyone past the retention period."""

from __future__ import annotations

from functools import partial

import typer

from registry.cli.common import AtOption, emit, progress, runtime, timeline_reading
from registry.projections.queries import retention

retention_app = typer.Typer(
    help="Forgetting people five years after their last enrolment.",
    no_args_is_help=True,
)
BATCH = 500  # people forgotten in one transaction


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")


@retention_app.command("run")
def retention_run(at: AtOption = None) -> None:
    """Forget every student whose last enrolment ended more than five years
    before T (default now) and who has no open enrolment: their key is deleted
    and a Student.Forgotten (no personal data) recorded; then their entries in
    the issued fotos and intake's tables are redacted. Idempotent."""
    with runtime() as rt:
        on = rt.at(at).date()
        with timeline_reading(rt, writes=True) as r:
            ids, position = retention.past_retention(r.cursor, on), r.position
        forgotten = 0
        with progress("forgetting") as bar:
            task = bar.add_task("forget", total=len(ids))
            for i in range(0, len(ids), BATCH):
                chunk = ids[i : i + BATCH]
                forgotten += rt.record(partial(rt.registry.forget_many, chunk), at)
                bar.update(task, completed=i + len(chunk))
        # After the log, every forgotten person's entries in the issued fotos
        # and intake's tables: everyone forgotten so far, so a run that stopped
        # before these steps is completed by the next. Then the numbers go.
        swept = rt.registry.forgotten_numbers()
        fotos_redacted = rt.fotos.redact_forgotten()
        intake_redacted = rt.intake.redact_forgotten()
        rt.registry.numbers_redacted(swept)
        emit(
            {
                "forgotten": forgotten,
                "foto_entries_redacted": fotos_redacted,
                "cutoff": retention.cutoff(on).isoformat(),
                "read_at_position": position,
                "intake_redacted": intake_redacted,
                "numbers_unlinked": len(swept),
            }
        )
