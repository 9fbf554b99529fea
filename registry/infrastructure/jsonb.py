"""Text for a jsonb column, written by orjson.

jsonb stores the parsed value, so the stored document is the same whichever
encoder wrote its text. orjson is several times faster than the standard
library on the registry's large documents (a delivery's feedback, a school's
foto); what orjson refuses (a lone surrogate) the standard library is left to
refuse.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def jsonb_text(document: Any) -> str:
    try:
        return orjson.dumps(document).decode()
    except TypeError:
        return json.dumps(document)
