"""The extracts the registry publishes, as one projection: the recipients'
rules applied to each fact over one copy of the students and periods.

Four projections each folding the same students and periods wrote every period
four times (docs/benchmarks-notes.md); here it is folded and written once. The
price: the recipients move together. A fact one recipient's rules cannot apply
stops all of them (`projections status` names it), and a recipient's new key or
rules means rebuilding `extracts`, whose other recipients' messages keep their
ids (their keys are unchanged), so nothing of theirs is sent again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from registry.projections.extracts.base import DDL, ExtractProjection, Recipient
from registry.projections.extracts.outbox import PayloadCheck


class Extracts(ExtractProjection):
    name: ClassVar[str] = "extracts"
    # 1: the four extract_* projections (cbs v3, inspectie v3, gemeenten v4,
    # svb v3) folded over one shared state.
    # 2: the students indexed by number (inspectie v4).
    version: ClassVar[int] = 2

    def __init__(
        self, members: Sequence[Recipient], check: PayloadCheck | None = None
    ) -> None:
        recipients = [m.recipient for m in members]
        if not members or len(set(recipients)) != len(recipients):
            raise ValueError(f"a group names each recipient once: {recipients}")
        self._members = tuple(members)
        self.check = check
        # Each recipient's tables beside the shared ones (the names do not
        # clash: tests/integration/test_extract_group.py creates the four's).
        self.ddl = DDL + "".join(m.ddl.removeprefix(DDL) for m in members)  # type: ignore[misc]

    @property
    def members(self) -> Sequence[Recipient]:
        return self._members
