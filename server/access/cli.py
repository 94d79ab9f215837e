"""``sgl users``, ``sgl clients``, ``sgl tokens``: accounts, API clients and tokens from the shell.

They work on the database of ``--data-dir`` (or ``SGL_MONGODB_URI``) whether or not ``sgl serve``
runs on it, and a running server sees the change on its next request (it re-reads the subject of
every token and session). ``sgl clients create`` prints exactly one JSON object on stdout, for
scripts: ``{"client_id": "...", "client_secret": "..."}``; everything else goes to stderr.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from pymongo.asynchronous.database import AsyncDatabase

from resources.store.base import FhirStore
from server.access import accounts, clients, tokens
from server.access import administration as admin_users
from server.access.caller import Caller, operator
from server.access.collections import ensure_access_indexes
from server.access.roles import ADMINISTRATEUR, ROLES
from server.cli_database import run_with_database
from server.database import Database

_T = TypeVar("_T")
_data_dir = click.option("--data-dir", default=Path("./var"), show_default=True, type=click.Path(path_type=Path),
                         help="Data directory of the embedded database (shared with a running server).")


def _with_database(data_dir: Path, work: Callable[[Database], Awaitable[_T]]) -> _T:
    """``run_with_database`` with the access indexes made first; an account refusal is a click error too."""
    async def prepared(database: Database) -> _T:
        await ensure_access_indexes(database.db)
        return await work(database)

    try:
        return run_with_database(data_dir, prepared)
    except (accounts.AccountError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


def _with_db(data_dir: Path, work: Callable[[AsyncDatabase[Any]], Awaitable[_T]]) -> _T:
    return _with_database(data_dir, lambda database: work(database.db))


def _admin(data_dir: Path, work: Callable[[AsyncDatabase[Any], FhirStore, Caller], Awaitable[_T]]) -> _T:
    """An account change through the service the HTTP operations call (server/access/administration.py), by the operator
    acting as administrator, traced the same way."""
    return _with_database(data_dir, lambda database: work(database.db, database.store, operator(ADMINISTRATEUR)))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@click.group("users")
def users() -> None:
    """Local accounts of the workbench (Argon2id passwords, lockout after 5 failures)."""


def _create(data_dir: Path, username: str, role: str, name: str | None, rpps: str | None, practitioner: str | None,
            password_stdin: bool) -> None:
    password = _password(password_stdin)
    user = _admin(data_dir, lambda db, store, who: admin_users.create(db, store, who, username, password, role=role,
                                                                       name=name, rpps=rpps, practitioner=practitioner))
    click.echo(f"user {user.username} created with the role {user.role}", err=True)


@users.command("create-admin")
@click.option("--username", default="admin", show_default=True)
@click.option("--name", default=None, help="Full name shown in traces.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
@_data_dir
def create_admin(username: str, name: str | None, password_stdin: bool, data_dir: Path) -> None:
    """Create the first administrator; the password is prompted twice and never echoed."""
    _create(data_dir, username, ADMINISTRATEUR, name, None, None, password_stdin)


@users.command("create")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default=None, help="Full name shown in traces.")
@click.option("--rpps", default=None, help="RPPS number (11 digits): Pro Santé Connect links the account by it.")
@click.option("--practitioner", default=None, help="Practitioner/<id> this user is (a validating biologist needs it).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
@_data_dir
def create_user(username: str, role: str, name: str | None, rpps: str | None, practitioner: str | None,
                password_stdin: bool, data_dir: Path) -> None:
    """Create a user account."""
    _create(data_dir, username, role, name, rpps, practitioner, password_stdin)


@users.command("list")
@_data_dir
def list_users(data_dir: Path) -> None:
    """username;role;status;rpps;practitioner;name"""
    click.echo("username;role;status;rpps;practitioner;name")
    for u in _with_db(data_dir, accounts.list_users):
        click.echo(";".join([u.username, u.role, u.status, u.rpps or "", u.practitioner or "", u.name or ""]))


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True)
@_data_dir
def passwd(username: str, password_stdin: bool, data_dir: Path) -> None:
    """Set a user's password (and lift a lockout)."""
    password = _password(password_stdin)
    _admin(data_dir, lambda db, store, who: admin_users.set_password(db, store, who, username, password))


def _set_status(data_dir: Path, username: str, status: str) -> None:
    """Change an account's status; leaving ``active`` revokes its tokens in the same command."""
    _admin(data_dir, lambda db, store, who: admin_users.set_status(db, store, who, username, status))


@users.command("disable")
@click.argument("username")
@_data_dir
def disable_user(username: str, data_dir: Path) -> None:
    """Disable an account; its sessions and tokens stop working at once."""
    _set_status(data_dir, username, "disabled")


@users.command("enable")
@click.argument("username")
@_data_dir
def enable_user(username: str, data_dir: Path) -> None:
    """Enable a disabled account again."""
    _set_status(data_dir, username, "active")


@users.command("unlock")
@click.argument("username")
@_data_dir
def unlock_user(username: str, data_dir: Path) -> None:
    """Lift the lockout after repeated failed logins."""
    _admin(data_dir, lambda db, store, who: admin_users.unlock(db, store, who, username))


@users.command("set-role")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES))
@_data_dir
def set_role(username: str, role: str, data_dir: Path) -> None:
    """Give an account another role (the last active administrator keeps theirs)."""
    _admin(data_dir, lambda db, store, who: admin_users.set_role(db, store, who, username, role))


@click.group("clients")
def api_clients() -> None:
    """API clients (OAuth 2.0 client credentials, token endpoint in /fhir/.well-known/smart-configuration)."""


@api_clients.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--practitioner", default=None,
              help="Practitioner/<id> the client acts as (its validations name that professional).")
@_data_dir
def create_client(name: str, role: str, practitioner: str | None, data_dir: Path) -> None:
    """Register a client; prints {"client_id": ..., "client_secret": ...} (the secret is shown only once)."""
    client, secret = _with_db(data_dir, lambda db: clients.create_client(db, name, role=role,
                                                                          practitioner=practitioner))
    click.echo(json.dumps({"client_id": client.client_id, "client_secret": secret}))


@api_clients.command("list")
@_data_dir
def list_clients(data_dir: Path) -> None:
    """client_id;name;role;status;practitioner"""
    click.echo("client_id;name;role;status;practitioner")
    for c in _with_db(data_dir, clients.list_clients):
        click.echo(";".join([c.client_id, c.name, c.role, c.status, c.practitioner or ""]))


async def _disable_client(db: AsyncDatabase[Any], client_id: str) -> bool:
    found = await clients.disable_client(db, client_id)
    await tokens.revoke(db, subject=f"client:{client_id}")
    return found


@api_clients.command("disable")
@click.argument("client_id")
@_data_dir
def disable_client(client_id: str, data_dir: Path) -> None:
    """Disable a client and revoke its tokens."""
    if not _with_db(data_dir, lambda db: _disable_client(db, client_id)):
        raise click.ClickException(f"no client {client_id!r}")


@click.group("tokens")
def api_tokens() -> None:
    """Access tokens issued by the token endpoint."""


@api_tokens.command("list")
@click.option("--all", "everything", is_flag=True, help="Also expired and revoked tokens.")
@_data_dir
def list_tokens(everything: bool, data_dir: Path) -> None:
    """jti;subject;role;issued;expires;revoked"""
    click.echo("jti;subject;role;issued;expires;revoked")
    for t in _with_db(data_dir, lambda db: tokens.list_tokens(db, include_inactive=everything)):
        click.echo(f"{t['_id']};{t['subject']};{t['role']};{t['issued']:%Y-%m-%dT%H:%M:%SZ};"
                   f"{t['expires']:%Y-%m-%dT%H:%M:%SZ};{str(t['revoked']).lower()}")


@api_tokens.command("revoke")
@click.argument("jti", required=False)
@click.option("--client", "client_id", default=None, help="Revoke every token of this client.")
@click.option("--user", "username", default=None, help="Revoke every token of this user.")
@_data_dir
def revoke_tokens(jti: str | None, client_id: str | None, username: str | None, data_dir: Path) -> None:
    """Revoke a token (and its refresh token) or all tokens of a client/user; effective at the next request."""
    subject = f"client:{client_id}" if client_id else f"user:{username}" if username else None
    if not jti and not subject:
        raise click.UsageError("give a token id (jti), --client or --user")
    count = _with_db(data_dir, lambda db: tokens.revoke(db, jti=jti, subject=subject))
    click.echo(f"{count} token(s) revoked", err=True)
