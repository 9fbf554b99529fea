"""Set-based writes: many rows in one statement, one array parameter a column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import Cursor


def unnest(columns: str) -> str:
    """'a uuid, b text' → 'unnest(%b::uuid[], %b::text[]) AS r(a, b)'. Binary
    parameters: text-format arrays escape every element, which is slow."""
    pairs = [c.split() for c in columns.split(",")]
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in pairs)
    names = ", ".join(name for name, _ in pairs)
    return f"unnest({arrays}) AS r({names})"


def write_rows(
    curs: Cursor[Any], statement: str, columns: str, rows: Sequence[Sequence[Any]]
) -> None:
    """Run `statement` with `{rows}` standing for the rows as a relation."""
    if not rows:
        return
    query = statement.format(rows=unnest(columns))
    curs.execute(query, [list(col) for col in zip(*rows, strict=True)])
