"""Every inbound handler, registered in one place (as ``server/api.py`` lists the HTTP routers).

Add a line here to route a new HL7 message type or to handle ASTM results or queries.
"""

from __future__ import annotations

from server.analyzers import register_analyzers
from server.context import AppContext
from server.identity_feed import register_identity_feed
from server.orders import register_orders_inbound


def register_inbound(ctx: AppContext) -> None:
    """Wire the handlers of each workflow into the dispatchers of ``ctx``."""
    register_analyzers(ctx)  # ORU^R01, OUL^R22, QBP^Q11; ASTM results and host queries
    register_identity_feed(ctx)  # PAM-FR ADT A28/A31/A01/A04/A05/A03/A08/A40/A47 -> Patient
    register_orders_inbound(ctx)  # OML^O21 laboratory orders -> ServiceRequest + Specimen
