"""Access rules of the seed (steps 2–3): passwords, their expiry, a second factor."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 8
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses or more); common
# passwords, keyboard walks, repeats and dictionary words with digits score lower.
MIN_PASSWORD_SCORE = 3
# Words of this register a password must not lean on, beside the login name.
CONTEXT_WORDS = ("bron", "duo", "registry", "register", "onderwijs", "school")
_hasher = PasswordHasher()


class Role(StrEnum):
    SCHOOL = "school"
    ACCOUNTANT = "accountant"
    AGENCY = "agency"
    OPERATOR = "operator"


class AccessError(Exception):
    """Access refused; `reason` is a stable machine-readable word."""

    reason = "refused"


class InvalidCredentials(AccessError):
    """Unknown login name, wrong password or wrong, expired or used code: one
    refusal, so no step can be guessed on its own."""

    reason = "invalid_credentials"


class LoginThrottled(AccessError):
    """Too many failed attempts: wait `retry_after` seconds."""

    reason = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PasswordChangeRequired(AccessError):
    """An initial or reset password must be replaced before anything else."""

    reason = "password_change_required"


class PasswordExpired(AccessError):
    """The password is older than the maximum age and must be changed."""

    reason = "password_expired"


class WeakPassword(AccessError):
    """The new password breaks the password rules."""

    reason = "weak_password"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def verify_no_password(password: str) -> bool:
    """The same work as a real check, for a login name that does not exist:
    an answer's time tells nothing of which names do."""
    verify_password(_dummy_hash(), password)
    return False


def check_new_password(new: str, old: str, login: str = "") -> None:
    if len(new) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if new == old:
        raise WeakPassword("the new password must differ from the old one")
    judged: dict[str, Any] = zxcvbn(new[:100], user_inputs=[login, *CONTEXT_WORDS])
    if judged["score"] < MIN_PASSWORD_SCORE:
        warning: str = judged["feedback"]["warning"] or "it is too easy to guess"
        raise WeakPassword(
            f"the password is too easy to guess ({warning.rstrip('.')}); use a "
            "longer passphrase of unrelated words"
        )


def password_expired(set_at: datetime, now: datetime, max_age_days: int) -> bool:
    return now - set_at >= timedelta(days=max_age_days)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_step(secret: str, code: str, now: datetime, used: int | None) -> int | None:
    """The time step `code` is valid for, if it is one step of `now` or less
    (clocks of phones and servers differ a little) and later than the step last
    used: each code works once."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if (used is None or step > used) and hmac.compare_digest(
            totp.generate_otp(step), code
        ):
            return step
    return None


def totp_uri(secret: str, login: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=login, issuer_name="BRON-VO registry"
    )
