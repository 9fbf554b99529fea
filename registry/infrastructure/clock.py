"""Recorded time comes from one clock: the system's, or one driven by `--at T`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class ClockError(Exception):
    """A recorded time was refused."""


class Clock(Protocol):
    def resolve(self, at: datetime | None) -> datetime:
        """The recorded time for a command given `--at` (or None)."""
        ...


class SystemClock:
    def resolve(self, at: datetime | None) -> datetime:
        if at is not None:
            raise ClockError(
                "--at needs REGISTRY_CLOCK=simulated; the system clock is in use"
            )
        return datetime.now(UTC)


class SimulatedClock:
    """For the demo and tests: time is what the command says (`--at`)."""

    def __init__(self) -> None:
        self._last: datetime | None = None

    def resolve(self, at: datetime | None) -> datetime:
        if at is None:
            if self._last is None:
                raise ClockError(
                    "REGISTRY_CLOCK=simulated needs --at T on this command"
                )
            return self._last
        if at.tzinfo is None:
            raise ClockError(f"--at {at.isoformat()} has no UTC offset")
        self._last = at.astimezone(UTC)
        return self._last


def make_clock(kind: str) -> Clock:
    return SimulatedClock() if kind == "simulated" else SystemClock()


def parse_at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ClockError(f"--at {text!r} is not an ISO 8601 date-time") from None
    if value.tzinfo is None:
        raise ClockError(
            f"--at {text!r} needs a UTC offset, e.g. 2026-10-01T09:00:00+02:00"
        )
    return value
