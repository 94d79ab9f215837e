"""Which permission a route asks for, read off its path template and method, so that every route,
present or future, is classified the same way: ``/fhir/{rtype}`` GET is ``read`` of that type,
``/fhir/DiagnosticReport/{rid}/$cr-bio`` is ``$cr-bio`` of DiagnosticReport, and so on.

The few public doors are listed here by name; nothing else is public.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PUBLIC_ROUTES: set[tuple[str, str]] = {
    ("GET", "/fhir/metadata"),
    ("GET", "/fhir/.well-known/smart-configuration"),
    ("GET", "/fhir/OperationDefinition"),  # conformance, like the CapabilityStatement that points to them
    ("GET", "/fhir/OperationDefinition/{rid}"),
    ("POST", "/auth/token"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/psc/login"),
    ("GET", "/auth/psc/callback"),
    ("POST", "/auth/psc/logout"),
    ("GET", "/auth/psc/logged-out"),
    ("GET", "/auth/psc/available"),  # whether the login form offers the PSC button: a boolean, nothing else
    ("GET", "/"),  # the web workbench (server/web.py): static files of the built SPA, no data in them
    ("GET", "/assets/{name}"),
    ("GET", "/patients"),  # the SPA's screens (server.web.SCREENS): its index.html; the data comes from /fhir
    ("GET", "/patients/{rid}"),
    ("GET", "/paillasse"),
    ("GET", "/paillasse/{rid}"),
    ("GET", "/validation"),
    ("GET", "/validation/{rid}"),
    ("GET", "/identite"),
    ("GET", "/identite/{rid}"),
    ("GET", "/demandes"),
    ("GET", "/demandes/{rid}"),
    ("GET", "/reception"),
    ("GET", "/reception/{rid}"),
    ("GET", "/non-rattaches"),
    ("GET", "/non-rattaches/{rid}"),
    ("GET", "/comptes-rendus"),  # the results side's screens (web2)
    ("GET", "/comptes-rendus/{rid}"),
    ("GET", "/catalogue"),
    ("GET", "/catalogue/{rid}"),
    ("GET", "/tableau-de-bord"),
    ("GET", "/tableau-de-bord/{rid}"),
    ("GET", "/administration"),  # accounts and partners (admin lane); its data come from /fhir/Person, /Endpoint
    ("GET", "/administration/{rid}"),
    ("GET", "/autovalides"),  # results validated by the rules awaiting review (ident lane); data from /fhir
    ("GET", "/autovalides/{rid}"),
}
"""(method, path template) answered without authentication. The Pro Santé Connect routes (server/psc) are
how a professional authenticates: the callback proves who they are, the logout checks the session's CSRF
token itself. The web workbench's files are public like any web page's: they hold code, never data (every
datum they show comes from /fhir with the user's session)."""
SELF_AUTHENTICATED: set[tuple[str, str]] = {("POST", "/auth/password"), ("GET", "/auth/session")}
"""Routes outside /fhir that authenticate the caller themselves (a session and its CSRF token)."""

_WRITE = {"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}


def door(method: str, template: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """(resource type or ``*``, interaction) for a /fhir route; None for a public one."""
    method = "GET" if method == "HEAD" else method
    if (method, template) in PUBLIC_ROUTES or (method, template) in SELF_AUTHENTICATED:
        return None
    parts = [p for p in template.removeprefix("/fhir").strip("/").split("/") if p]
    if not parts:
        return ("*", "batch")
    rtype = str(params.get("rtype", "")) if parts[0] == "{rtype}" else parts[0]
    if rtype.startswith("$"):  # a system-level operation (/fhir/$export): the ``*`` rows of the table
        rtype = "*"
    operation = next((p for p in parts if p.startswith("$")), None)
    if operation:
        return (rtype, operation)
    if len(parts) == 1:
        return (rtype, "read" if method == "GET" else _WRITE.get(method, method.lower()))
    if parts[1] in ("_search", "_history") or len(parts) > 2 or method == "GET":
        return (rtype, "read")
    return (rtype, _WRITE.get(method, method.lower()))
