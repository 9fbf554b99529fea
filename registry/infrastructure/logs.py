"""Logging for every process of the registry, set up by one call at each entry
point: the `registry` command's callback (every command and daemon) and the
API's app factory (each uvicorn worker).

JSON lines in production, for a log collector; on a terminal a human format.
Every record passes a filter that masks what could be about a person before
any handler writes it: a number of nine digits (a BSN or an onderwijsnummer
looks like one) and the value after a known personal field's name. The code
logs error classes rather than error texts (`redact.error_text`); the mask is
the second line of defence for what slips through, kafka-python's own records
and uvicorn's access log (a path can carry a number) included.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import TextIO

from registry.config import Settings
from registry.infrastructure.redact import PAYLOAD_LOGGERS

HANDLER_NAME = "registry"
MASK = "***"
# Nine digits standing alone: not inside a longer number, an id or a hex string.
_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{9}(?![0-9A-Za-z])")
# The wire format's and the population register's personal fields, and the
# intake tables' names for them.
PERSONAL_FIELDS = (
    "achternaam",
    "voorvoegsel",
    "voornamen",
    "roepnaam",
    "geboortedatum",
    "straatnaam",
    "huisnummer",
    "huisnummertoevoeging",
    "postcode",
    "plaatsnaam",
    "surname",
    "first_names",
    "birth",
)
# `field=value`, `field: value`, `'field': 'value'`, `"field": "value"`.
_FIELD = re.compile(
    r"(?P<key>\b(?:" + "|".join(PERSONAL_FIELDS) + r")\b[\"']?\s*[:=]\s*)"
    r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;)}\]]+)"
)


def mask(text: str) -> str:
    """The text with BSN-like numbers and personal fields' values masked."""
    return _FIELD.sub(rf"\g<key>{MASK}", _NUMBER.sub(MASK, text))


class MaskPersonalData(logging.Filter):
    """Masks a record's message (its arguments merged in) and its traceback in
    place, so every handler after it sees the masked record too."""

    _plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit: the template alone
            message = str(record.msg)
        record.msg, record.args = mask(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message,
    process, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is when a record comes, as Python's own
    last-resort handler does (a test runner swaps it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(settings: Settings, *, terminal: bool | None = None) -> None:
    """Send every logger's records, masked, to stderr at the configured level;
    idempotent (a second call replaces the first's handler). `terminal`: whether
    stderr is one (default: ask it)."""
    if terminal is None:
        terminal = sys.stderr.isatty()
    handler = _handler(settings.log_as_json, terminal)
    handler.set_name(HANDLER_NAME)
    handler.addFilter(MaskPersonalData())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # kafka-python logs every failed connection attempt as an error (a flood
    # while a broker is down, which the relay and the consumer report once a
    # round themselves), and its DEBUG quotes payloads: silent, as it was
    # before any handler (it ships a NullHandler), or INFO at DEBUG.
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.INFO if settings.log_level == "DEBUG" else logging.CRITICAL
        )


def _handler(as_json: bool, terminal: bool) -> logging.Handler:
    if as_json:
        handler: logging.Handler = _Stderr()
        handler.setFormatter(JsonFormatter())
        return handler
    if terminal:
        from rich.console import Console
        from rich.logging import RichHandler

        # No rich tracebacks: they would show local variables' values.
        return RichHandler(console=Console(stderr=True), show_path=False, markup=False)
    handler = _Stderr()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    return handler
