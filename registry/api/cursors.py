"""Paging cursors that name no one. A cursor used to be the sort key of the last
row, a BSN first, and cursors end up in URLs and access logs. Now it is an
offset into the answer plus the time T the first page answered at, signed with
the server's key (HMAC) over the question it belongs to: the route and its
parameters. Every page of a question thus answers the same (D, T), so a page
never shifts; an altered cursor, or one used for another question, is a 422.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, status

MAC_BYTES = 16
NOT_PAGING = ("cursor", "limit")  # the rest of the query string is the question


@dataclass(frozen=True)
class Pager:
    key: bytes
    question: str
    start: int = 0
    at: datetime | None = None  # T of the first page, from the cursor

    def page(
        self, items: list[dict[str, Any]], limit: int, at: datetime
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The page of `items` (the whole answer at T `at`) and the next cursor."""
        end = self.start + limit
        return items[self.start : end], self._token(end, at) if end < len(
            items
        ) else None

    def following(self, limit: int, total: int, at: datetime) -> str | None:
        """The next cursor after this page of `limit` in an answer of `total`."""
        end = self.start + limit
        return self._token(end, at) if end < total else None

    def _token(self, offset: int, at: datetime) -> str:
        body = f"{offset}|{at.isoformat()}".encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def _mac(self, body: bytes) -> bytes:
        signed = self.question.encode() + b"\n" + body
        return hmac.new(self.key, signed, hashlib.sha256).digest()[:MAC_BYTES]

    def resumed(self, token: str) -> Pager:
        """The pager at the cursor's position; InvalidCursor when it is not one
        this server issued for this question."""
        try:
            body_text, mac_text = token.split(".")
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError:
            raise InvalidCursor from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidCursor
        offset, at = body.decode().split("|")
        return Pager(self.key, self.question, int(offset), datetime.fromisoformat(at))


class InvalidCursor(HTTPException):
    """A cursor that was altered, or issued for another question."""

    def __init__(self) -> None:
        super().__init__(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "invalid cursor: use next_cursor of the same question unchanged",
        )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def question(request: Request) -> str:
    route = getattr(request.scope.get("route"), "path", request.url.path)
    params = sorted(
        (k, v) for k, v in request.query_params.multi_items() if k not in NOT_PAGING
    )
    path = sorted(request.path_params.items())
    return repr((route, path, params))


def pager(
    request: Request,
    cursor: Annotated[
        str | None, Query(description="from the previous page's next_cursor")
    ] = None,
) -> Pager:
    fresh = Pager(request.app.state.cursor_key, question(request))
    return fresh.resumed(cursor) if cursor else fresh


PagerDep = Annotated[Pager, Depends(pager)]
