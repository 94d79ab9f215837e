"""Every inbound handler, registered in one place (as ``server/api.py`` lists the HTTP routers).

Add a line here to route a new HL7 message type or to handle ASTM results or queries.
"""

from __future__ import annotations

from server.context import AppContext


def register_inbound(ctx: AppContext) -> None:
    """Wire the handlers of each workflow into the dispatchers of ``ctx``."""
