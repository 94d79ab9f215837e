"""The parsing options of the partner a message came from (``server/partners/options.py`` defines them)."""

from __future__ import annotations

from facades.astm import Message
from facades.hl7v2 import InboundMessage
from server.partners.gate import partner_of
from server.partners.options import DEFAULTS, PartnerOptions, parse_options

__all__ = ["DEFAULTS", "PartnerOptions", "options_for"]


def options_for(message: InboundMessage | Message) -> PartnerOptions:
    """The sending partner's options; the defaults for a message that reached no partner (unit tests)."""
    partner = partner_of(message)
    return parse_options(partner.options) if partner is not None else DEFAULTS
