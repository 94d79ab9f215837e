"""CLI commands that touch data act as the operator (the shell user of the data dir) with the role
they state in ``--as-role``; the permission table decides, as for an HTTP caller, and the traces
name ``operator:<user>``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from resources.errors import Forbidden
from server.access.caller import Caller, operator
from server.access.permissions import authorize
from server.access.roles import ROLES

_F = TypeVar("_F", bound=Callable[..., Any])


class PermissionRefused(click.ClickException):
    exit_code = 4


def as_role_option(default: str) -> Callable[[_F], _F]:
    return click.option("--as-role", default=default, show_default=True, type=click.Choice(ROLES),
                        help="The role the operator acts with (checked against the permission table).")


def operator_for(role: str, resource_type: str, interaction: str) -> Caller:
    """The operator caller, once the table allows ``role`` this door; else exit 4 naming the permission."""
    try:
        authorize(role, resource_type, interaction)
    except Forbidden as exc:
        raise PermissionRefused(exc.diagnostics) from exc
    return operator(role)
