"""`registry users add|reset|locks|unlock`: users and their access, for operators."""

from __future__ import annotations

from typing import Annotated

import typer

from registry.access.policy import Role
from registry.cli.common import AtOption, emit, runtime, school_year_key

users_app = typer.Typer(
    help="Users and their access (operators only).", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    login: str,
    role: Annotated[Role, typer.Option(help="school, accountant, agency or operator")],
    brin: Annotated[
        str | None, typer.Option(help="the one BRIN of a school/accountant")
    ] = None,
    recipient: Annotated[
        str | None, typer.Option(help="the one recipient of an agency")
    ] = None,
    at: AtOption = None,
) -> None:
    """Add a user; prints the initial password (to be replaced) and the TOTP secret."""
    if brin is not None:
        brin = school_year_key(brin, "2000-2001")[0]
    with runtime() as rt:
        creds = rt.access.add_user(
            login, role, rt.at(at), brin=brin, recipient=recipient
        )
        emit(creds.__dict__)


@users_app.command("reset")
def users_reset(
    login: str,
    new_second_factor: Annotated[
        bool, typer.Option(help="also issue a new TOTP secret")
    ] = False,
    at: AtOption = None,
) -> None:
    """Give a user a new initial password (and optionally a new second factor)."""
    with runtime() as rt:
        emit(
            rt.access.reset(
                login, rt.at(at), new_second_factor=new_second_factor
            ).__dict__
        )


@users_app.command("locks")
def users_locks(at: AtOption = None) -> None:
    """Who must wait before logging in again after failed attempts: accounts
    by login, source addresses, with failures and until when."""
    with runtime() as rt:
        emit(
            [
                {**lock, "until": lock["until"].isoformat()}
                for lock in rt.access.locks(rt.at(at))
            ]
        )


@users_app.command("unlock")
def users_unlock(login: str, at: AtOption = None) -> None:
    """Lift a login's wait or lock (after checking with its owner); audited."""
    with runtime() as rt:
        emit({"login": login, "unlocked": rt.access.unlock(login, rt.at(at))})
