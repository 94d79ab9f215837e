"""Every inbound handler, registered in one place (as ``server/api.py`` lists the HTTP routers).

Add a line here to route a new HL7 message type or to handle ASTM results or queries.
"""

from __future__ import annotations

from server.analyzers import register_analyzers
from server.context import AppContext


def register_inbound(ctx: AppContext) -> None:
    """Wire the handlers of each workflow into the dispatchers of ``ctx``."""
    register_analyzers(ctx)  # ORU^R01, OUL^R22, QBP^Q11; ASTM results and host queries
