"""Socket partners (issue 11 items 6 and 8): the registry of who may send HL7/ASTM to the lab.

``model`` (a partner, its role and what the role may send), ``registry`` (MongoDB, cached reads),
``gate`` (the check the dispatchers run before a handler; refusal + AuditEvent), ``administration``
(add/remove with their AuditEvent, for ``cli`` (``sgl partners``) and the ``/fhir/Endpoint`` doors).
"""

from server.partners.gate import PartnerAstmMessage, PartnerGate, PartnerMessage, partner_of
from server.partners.model import IDENTITY_SOURCE, Partner, allows
from server.partners.registry import PartnerRegistry

__all__ = ["IDENTITY_SOURCE", "Partner", "PartnerAstmMessage", "PartnerGate", "PartnerMessage",
           "PartnerRegistry", "allows", "partner_of"]
