"""Errors as logs and stored reasons may show them. A database error's message
can quote the row it refused ("Key (number)=(…) already exists", "Failing row
contains (…)"): a BSN, a name, a birth date. What is shown instead is the
error's class, its SQLSTATE and the schema objects it names, which say where
to look without saying whom it was about."""

from __future__ import annotations

import logging
from traceback import format_tb

_OBJECTS = ("schema_name", "table_name", "column_name", "constraint_name")


def error_text(error: BaseException) -> str:
    parts = [type(error).__name__]
    state = getattr(error, "sqlstate", None)
    if state:
        parts.append(f"(SQLSTATE {state})")
    diag = getattr(error, "diag", None)
    named = [f"{n.removesuffix('_name')} {v}" for n in _OBJECTS if (v := _get(diag, n))]
    if named:
        parts.append("on " + ", ".join(named))
    return " ".join(parts)


def _get(diag: object, name: str) -> str | None:
    value = getattr(diag, name, None)
    return value if isinstance(value, str) else None


def error_trace(error: BaseException) -> str:
    """Where it happened: the frames of the traceback (code, not values) and the
    error as `error_text` gives it."""
    return "".join(format_tb(error.__traceback__)) + error_text(error)


# Clients whose DEBUG records quote what they carry: kafka-python logs each
# record it produces or fetches, and a municipality's messages hold a BSN.
PAYLOAD_LOGGERS = ("kafka",)


def quiet_payload_loggers() -> None:
    """Keep those clients at INFO even when the process logs at DEBUG."""
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level in (logging.NOTSET, logging.DEBUG):
            logger.setLevel(logging.INFO)


def masked_conninfo(conninfo: str) -> str:
    """A connection string fit to print: the password (and any other secret
    parameter) replaced, everything else kept so an operator can still tell
    which server and database it names."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(conninfo)
    for secret in ("password", "sslpassword"):
        if params.get(secret):
            params[secret] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})
