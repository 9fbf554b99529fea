"""Errors the application services raise beside the domain's own."""

from __future__ import annotations


class ApplicationError(Exception):
    """A command could not be carried out."""


class NotFound(ApplicationError):
    """The thing asked for is not registered."""


class ConcurrentChange(ApplicationError):
    """Another writer changed the same aggregate first; nothing was recorded."""


class RecordedTimeWentBack(ApplicationError):
    """The command's recorded time is before the last recorded time of the log."""


class PersonIsForgotten(ApplicationError):
    """The person was forgotten (their key deleted): nothing personal can be
    recorded for them."""
