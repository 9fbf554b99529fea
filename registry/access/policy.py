"""Access rules of the seed (steps 2–3): passwords, their expiry, a second factor."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
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
    """Unknown login name or wrong password (never says which)."""

    reason = "invalid_credentials"


class InvalidSecondFactor(AccessError):
    """The TOTP code is wrong or expired."""

    reason = "invalid_second_factor"


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


def check_new_password(new: str, old: str) -> None:
    if len(new) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if new == old:
        raise WeakPassword("the new password must differ from the old one")


def password_expired(set_at: datetime, now: datetime, max_age_days: int) -> bool:
    return now - set_at >= timedelta(days=max_age_days)


def new_totp_secret() -> str:
    return pyotp.random_base32()


def verify_totp(secret: str, code: str, now: datetime) -> bool:
    # One step of drift either way: clocks of phones and servers differ a little.
    return pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1)


def totp_uri(secret: str, login: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=login, issuer_name="BRON-VO registry"
    )
