"""Wiring of the order workflow into the inbound dispatchers (called from server/inbound/routes.py)."""

from __future__ import annotations

from server.context import AppContext
from server.orders.oml_inbound import oml_handler


def register_orders_inbound(ctx: AppContext) -> None:
    """OML^O21 (laboratory order from a hospital EHR) goes to the order workflow."""
    ctx.hl7.route("OML", "O21", oml_handler(ctx))
