"""THE enforcement point, one FastAPI dependency below every route of the API: it classifies the
route (``doors.py``), authenticates the caller (``authenticate.py``) and asks the permission table
(``permissions.py``) before any handler runs, so no route can forget it. Batch entries and
``_include`` targets are checked by the same table through :func:`access_check`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request

from resources.errors import NotFound
from resources.interactions import AccessCheck
from resources.search.params import RESOURCE_TYPES
from server.access.authenticate import authenticate
from server.access.caller import Caller
from server.access.doors import door
from server.access.permissions import SYSTEM_LEVEL, authorize, has_rule


def template_of(path: str, params: Mapping[str, Any]) -> str:
    """The route template of a matched path: each segment that is a path parameter's value becomes ``{name}``
    (read off the request, not off the framework's route objects), except a ``$`` segment, which names an
    operation and is no id: ``Patient/$deliveries/$deliveries`` (id ``$deliveries``) was classified as a read of
    Patient and reached the ``$deliveries`` handler for a role the table refuses it (found by probing)."""
    by_value = {str(v): k for k, v in reversed(list(params.items()))}
    return "/".join(f"{{{by_value[seg]}}}" if seg in by_value and not seg.startswith("$") else seg
                    for seg in path.split("/"))


async def enforce(request: Request) -> None:
    wanted = door(request.method, template_of(request.url.path, request.path_params), request.path_params)
    if wanted is None:
        return
    caller = await authenticate(request)
    request.state.caller = caller
    rtype, interaction = wanted
    if rtype != SYSTEM_LEVEL and rtype not in RESOURCE_TYPES and not has_rule(rtype, interaction):
        raise NotFound(f"resource type {rtype!r} is not supported by this server; see /metadata")
    if interaction.startswith("$") and not has_rule(rtype, interaction):  # every operation routed has a row
        raise NotFound(f"the operation {interaction} is not supported on {rtype}; see /metadata")
    authorize(caller.role, rtype, interaction, expression=f"{rtype}/{interaction}")


def access_check(caller: Caller) -> AccessCheck:
    """The table, for one caller, in the shape the interactions take (bundle entries, includes)."""
    def check(resource_type: str, interaction: str) -> None:
        authorize(caller.role, resource_type, interaction)
    return check


def request_caller(request: Request) -> Caller:
    caller: Caller = request.state.caller
    return caller
