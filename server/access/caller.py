"""Who is acting: a user (local account or Pro Santé Connect), an API client (OAuth client
credentials), a socket partner, the operator at the command line, or the server itself.

Every write, trace and permission check reads this one object; it is built per request by
``authenticate.py`` (never from process settings), per message by the socket listeners, and by
:func:`operator` for CLI commands.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Literal

from server.access.roles import SYSTEM

Kind = Literal["user", "client", "partner", "operator", "system"]


@dataclass(frozen=True)
class Caller:
    id: str
    """Stable id written in traces: ``user:<login>``, ``client:<client_id>``, ``partner:<name>``..."""
    role: str
    kind: Kind = "system"
    practitioner: str | None = None
    """``Practitioner/<id>`` the caller acts as (a biologist's account, or a client created with --practitioner)."""
    address: str | None = None
    name: str | None = None
    """Display name for traces (the user's full name, the client's name)."""

    @property
    def display(self) -> str:
        return self.name or self.id


def system(name: str) -> Caller:
    """The server acting on its own (seeding, autoverification, journal replay)."""
    return Caller(f"system:{name}", SYSTEM, "system", name=f"OpenSGL ({name})")


def operator(role: str) -> Caller:
    """A CLI command: the operator at the shell of the data dir, with the role the command states."""
    user = getpass.getuser()
    return Caller(f"operator:{user}", role, "operator", name=f"{user} (ligne de commande)")


def partner(name: str, role: str, address: str | None = None) -> Caller:
    return Caller(f"partner:{name}", role, "partner", address=address, name=name)
