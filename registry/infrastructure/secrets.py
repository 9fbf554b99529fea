"""Per-recipient pseudonym keys and the server's own keys (e.g. the one that
signs paging cursors): from settings, or generated once and kept in the state
directory (never in the repository, never logged)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from registry.config import Settings

KEYS_FILE = "pseudonym-keys.json"
SERVER_KEYS_FILE = "server-keys.json"


def pseudonym_key(settings: Settings, recipient: str) -> bytes:
    configured = settings.pseudonym_keys.get(recipient)
    if configured is not None:
        return configured.get_secret_value().encode()
    # A generated key differs per host, so pseudonyms would too, for good.
    settings.refuse_in_production(
        f"a generated pseudonym key for {recipient}: set REGISTRY_PSEUDONYM_KEYS"
    )
    return _generated(settings.state_dir / KEYS_FILE, recipient)


def server_key(settings: Settings, purpose: str) -> bytes:
    configured = settings.server_keys.get(purpose)
    if configured is not None:
        return configured.get_secret_value().encode()
    settings.refuse_in_production(
        f"a generated server key for {purpose}: set REGISTRY_SERVER_KEYS"
    )
    return _generated(settings.state_dir / SERVER_KEYS_FILE, purpose)


def _generated(path: Path, recipient: str) -> bytes:
    keys: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    if recipient not in keys:
        keys[recipient] = secrets.token_hex(32)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(keys, f)
    return keys[recipient].encode()
