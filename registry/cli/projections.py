"""`registry projections status|run|rebuild|resume`: the read side kept up to date."""

from __future__ import annotations

import contextlib
import signal
from typing import Annotated, Any

import typer

from registry.bootstrap import projections
from registry.cli.common import emit, projection_named, refuse, runtime
from registry.cli.progress import rebuild_progress
from registry.infrastructure.wakeup import Wakeup
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
    poll: Annotated[
        float,
        typer.Option(
            help="seconds at most between passes: a pass starts as soon as new "
            "events are notified, and after this long without one"
        ),
    ] = 0.5,
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
        wakeup = Wakeup(rt.database_url, [rt.projector.log.channel])
        daemon = Daemon(
            rt.projector, projections(rt.settings), poll_seconds=poll, wakeup=wakeup
        )
        try:
            with contextlib.suppress(KeyboardInterrupt):
                daemon.run(should_stop=lambda: stop["now"])
        finally:
            wakeup.close()


@projections_app.command("rebuild")
def projections_rebuild(
    name: str,
    brin: Annotated[
        str | None,
        typer.Option(
            help="only this school: its rows re-derived from the log and swapped "
            "into the live tables at their position"
        ),
    ] = None,
) -> None:
    """Rebuild a projection beside the live one; it takes over when caught up.
    Ctrl-C or SIGTERM cancels it: the live tables stay as they were and the
    partial schema is dropped."""
    from registry.domain.errors import DomainError
    from registry.domain.values import Brin
    from registry.projections.engine.rebuild import RebuildCancelled, rebuild_school

    try:
        school = None if brin is None else str(Brin(brin))
    except DomainError as e:
        refuse(str(e))
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    label = f"rebuild {name}" + (f" for {school}" if school else "")
    with runtime() as rt, rebuild_progress(label) as on_page:
        projection = projection_named(rt, name)
        try:
            if school is None:
                schema = rt.projector.rebuild(projection, on_page, lambda: stop["now"])
                emit({"projection": name, "live": schema})
                return
            swapped = rebuild_school(
                rt.projector, projection, school, on_page, lambda: stop["now"]
            )
        except (RebuildCancelled, KeyboardInterrupt):
            refuse(f"{label} cancelled: the live tables are unchanged", code=130)
        except (ValueError, LookupError) as e:
            refuse(str(e))
    emit({"projection": name, "brin": school, **swapped})


@projections_app.command("resume")
def projections_resume(name: str) -> None:
    """Let a projection stopped at an event it could not apply try again (after
    the code that failed has been fixed); see `projections status`."""
    with runtime() as rt:
        projection_named(rt, name)
        emit({"projection": name, "resumed": rt.projector.resume(name)})
