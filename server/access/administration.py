"""Account administration, the one implementation behind ``sgl users`` and the ``/fhir/Person`` operations:
create, disable/enable, reset a password, change the role, lift a lockout. Each change is traced (an
AuditEvent naming who did it, never the password) and a refusal says why in an OperationOutcome-ready error.

The lab always keeps an administrator: disabling the last active one, or giving it another role, is
refused with 409 (checked before the change and again after it, so two administrators removing each other at the
same instant cannot both succeed: the second change is undone).
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from resources.errors import Conflict, InvalidInput, NotFound
from resources.store.base import FhirStore
from server.access import accounts
from server.access.admin_audit import ACCOUNT_SYSTEM, ROLES_CHANGED, trace
from server.access.caller import Caller
from server.access.roles import ADMINISTRATEUR, check_role
from server.access.sign_out import end_account_access

LAST_ADMIN = "the laboratory must keep at least one active administrator"


async def _existing(db: AsyncDatabase[Any], username: str) -> accounts.User:
    user = await accounts.find_user(db, username)
    if user is None:
        raise NotFound(f"no user account {username!r}")
    return user


async def create(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str, password: str, *, role: str,
                 name: str | None = None, rpps: str | None = None, practitioner: str | None = None) -> accounts.User:
    try:
        user = await accounts.create_user(db, username, password, role=role, name=name, rpps=rpps,
                                          practitioner=practitioner)
    except accounts.AccountError as exc:
        raise (Conflict if "already exists" in str(exc) else InvalidInput)(str(exc), expression="username") from exc
    except ValueError as exc:
        raise InvalidInput(str(exc), expression="password" if "password" in str(exc) else "role") from exc
    await trace(store, who, "account-create", target_system=ACCOUNT_SYSTEM, target=username,
                detail=f"account {username} created with the role {role}", kind=ROLES_CHANGED)
    return user


async def _keeps_an_admin(db: AsyncDatabase[Any], user: accounts.User) -> None:
    if user.role == ADMINISTRATEUR and user.active and await accounts.count_active(db, ADMINISTRATEUR) <= 1:
        raise Conflict(LAST_ADMIN, expression="username")


async def set_status(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str,
                     status: str) -> accounts.User:
    """``disabled`` also ends the account's sessions and revokes its tokens (``sign_out``): enabling it again
    later does not bring back a session or a token of before."""
    user = await _existing(db, username)
    if status != "active":
        await _keeps_an_admin(db, user)
    await accounts.set_status(db, username, status)
    if status != "active" and user.role == ADMINISTRATEUR and await accounts.count_active(db, ADMINISTRATEUR) == 0:
        await accounts.set_status(db, username, user.status)
        raise Conflict(LAST_ADMIN, expression="username")
    detail = f"account {username} {status}"
    if status != "active":
        detail += f"; {await end_account_access(db, username)}"
    await trace(store, who, "account-disable" if status != "active" else "account-enable",
                target_system=ACCOUNT_SYSTEM, target=username, detail=detail)
    return await _existing(db, username)


async def set_role(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str, role: str) -> accounts.User:
    user = await _existing(db, username)
    try:
        check_role(role)
    except ValueError as exc:
        raise InvalidInput(str(exc), expression="role") from exc
    if role != ADMINISTRATEUR:
        await _keeps_an_admin(db, user)
    await accounts.set_role(db, username, role)
    if user.role == ADMINISTRATEUR and await accounts.count_active(db, ADMINISTRATEUR) == 0:
        await accounts.set_role(db, username, user.role)
        raise Conflict(LAST_ADMIN, expression="username")
    await trace(store, who, "account-role", target_system=ACCOUNT_SYSTEM, target=username,
                detail=f"account {username}: role {user.role} -> {role}", kind=ROLES_CHANGED)
    return await _existing(db, username)


async def set_password(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str, password: str) -> None:
    """A new password (Argon2id, lockout lifted), every session and token of the account ended (``sign_out``);
    the trace says it was reset, by whom and what was ended, never what the password is."""
    await _existing(db, username)
    try:
        await accounts.set_password(db, username, password)
    except ValueError as exc:
        raise InvalidInput(str(exc), expression="password") from exc
    ended = await end_account_access(db, username)
    await trace(store, who, "account-password", target_system=ACCOUNT_SYSTEM, target=username,
                detail=f"password of {username} reset; {ended}")


async def password_changed(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str,
                           keep_session: str | None) -> None:
    """After a user changed their own password: every session and every token of the account ended but
    ``keep_session`` (the renewed session of the change, ``sign_out`` says why), and the trace."""
    ended = await end_account_access(db, username, keep_session=keep_session)
    await trace(store, who, "account-password", target_system=ACCOUNT_SYSTEM, target=username,
                detail=f"password of {username} changed by its user (its session renewed); {ended}")


async def unlock(db: AsyncDatabase[Any], store: FhirStore, who: Caller, username: str) -> None:
    await _existing(db, username)
    await accounts.unlock(db, username)
    await trace(store, who, "account-unlock", target_system=ACCOUNT_SYSTEM, target=username,
                detail=f"lockout of {username} lifted")
