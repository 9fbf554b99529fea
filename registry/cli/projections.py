"""`registry projections status|run|rebuild|resume`: the read side kept up to date."""

from __future__ import annotations

import contextlib
import signal
from typing import Annotated, Any

import typer

from registry.bootstrap import projections
from registry.cli.common import emit, progress, projection_named, runtime
from registry.projections.engine.daemon import Daemon

projections_app = typer.Typer(help="Read-side projections.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(projections_app, name="projections")


@projections_app.command("status")
def projections_status() -> None:
    """Position, head and lag of every projection schema."""
    with runtime() as rt:
        emit([s.__dict__ | {"lag": s.lag} for s in rt.projector.status()])


@projections_app.command("run")
def projections_run(
    once: Annotated[bool, typer.Option(help="catch up once and exit")] = False,
) -> None:
    """Keep every projection caught up (SIGTERM/Ctrl-C stops it cleanly)."""
    stop = {"now": False}

    def _stop(*_: Any) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    with runtime() as rt:
        if once:
            emit({p.name: rt.projector.fresh(p) for p in projections(rt.settings)})
            return
        with contextlib.suppress(KeyboardInterrupt):
            daemon = Daemon(rt.projector, projections(rt.settings))
            daemon.run(should_stop=lambda: stop["now"])


@projections_app.command("rebuild")
def projections_rebuild(name: str) -> None:
    """Rebuild a projection beside the live one; it takes over when caught up."""
    with runtime() as rt, progress(f"rebuild {name}") as bar:
        projection = projection_named(rt, name)
        task = bar.add_task(name, total=None)
        schema = rt.projector.rebuild(
            projection,
            on_page=lambda pos, head: bar.update(task, completed=pos, total=head),
        )
    emit({"projection": name, "live": schema})


@projections_app.command("resume")
def projections_resume(name: str) -> None:
    """Let a projection stopped at an event it could not apply try again (after
    the code that failed has been fixed); see `projections status`."""
    with runtime() as rt:
        projection_named(rt, name)
        emit({"projection": name, "resumed": rt.projector.resume(name)})
