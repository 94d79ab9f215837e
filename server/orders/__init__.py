"""The order workflow: ``$order``, refusals, specimen labels, OML^O21 in, pending orders per specimen."""

from server.orders.oml_inbound import oml_handler
from server.orders.pending import pending_orders
from server.orders.refusals import refused_channels
from server.orders.routes import router
from server.orders.setup import register_orders_inbound

__all__ = ["oml_handler", "pending_orders", "refused_channels", "register_orders_inbound", "router"]
