"""What migrating refuses: one base class, so a command refuses them alike."""

from __future__ import annotations


class MigrationError(Exception):
    """The database's migrations and the shipped ones disagree, or one failed."""


class DatabaseNotMigrated(MigrationError):
    """A service started on a database that lacks a shipped migration."""


class MigrationChanged(MigrationError):
    """An applied migration's file differs from what was applied."""


class UnknownRole(MigrationError):
    """The role to grant to does not exist."""
