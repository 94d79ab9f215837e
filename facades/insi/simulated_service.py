"""What the simulated INSi answers to one request body: a ``RESULTAT`` or a SOAP fault (no I/O).

The checks run in the order the real service applies them, as far as public material shows:
the certificate role (CN ``INSI-AUTO`` / ``INSI-MANU``, else ``DESIR_560``), the envelope and
its mandatory headers, the software's IDAM authorisation number (``desir_550`` when a list of
accepted numbers is configured and it is not in it), then the search itself. Fault codes
``siram_100``/``desir_550``/``DESIR_560`` are the INSi's own; a malformed request gets the
simulator's own ``SIMU_REQUETE_INVALIDE`` detail, since no public sample shows the real one.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509

from facades.insi.answer import answer_envelope, fault_envelope
from facades.insi.directory import Directory
from facades.insi.envelope import read_request
from facades.insi.errors import InsiRequestInvalid
from facades.insi.model import TraitsQuery
from facades.insi.vihf import WSSE
from facades.xmlsig import SignatureRefused, verify_assertion
from facades.xmlsig.saml import DS, SAML
from resources.outside_xml import parse_outside_xml

log = logging.getLogger(__name__)

CERTIFICATE_ROLES = frozenset({"INSI-AUTO", "INSI-MANU"})


@dataclass(frozen=True)
class Reply:
    """An HTTP status and a SOAP 1.2 body."""

    status: int
    body: bytes


class SimulatedInsi:
    """The INSi test service's behaviour over the kit's test identities."""

    def __init__(self, directory: Directory, accepted_idams: Collection[str] | None = None,
                 ca: x509.Certificate | None = None) -> None:
        self.directory = directory
        self.accepted_idams = frozenset(accepted_idams) if accepted_idams is not None else None
        self.ca = ca  # when set, a signed VIHF must verify against it (an unsigned one is still accepted)

    def _vihf_signature(self, body: bytes) -> str | None:
        """Why the VIHF's signature is refused, or ``None`` (verified, or no signature, or no CA to check)."""
        if self.ca is None:
            return None
        assertion = parse_outside_xml(body).find(
            f".//{{{WSSE}}}Security/{{{SAML}}}Assertion")
        if assertion is None or assertion.find(f"{{{DS}}}Signature") is None:
            return None
        try:
            verify_assertion(assertion, self.ca)
        except SignatureRefused as exc:
            return str(exc)
        return None

    def handle(self, body: bytes, client_common_name: str | None) -> Reply:
        if client_common_name not in CERTIFICATE_ROLES:
            return Reply(
                500,
                fault_envelope(
                    subcode="siram_100",
                    error_code="DESIR_560",
                    detail="Niveau d'accès insuffisant.",
                    reason=f"Le certificat présenté (CN={client_common_name}) ne donne pas accès au service.",
                ),
            )
        try:
            request = read_request(body)
        except InsiRequestInvalid as exc:
            log.info("simulated INSi refuses a malformed request: %s", exc.diagnostics)
            return Reply(
                500,
                fault_envelope(
                    subcode="siram_10",
                    error_code="SIMU_REQUETE_INVALIDE",
                    reason="La requête est invalide.",
                    detail=f"{exc.diagnostics} ({', '.join(exc.expression)})",
                ),
            )
        refused = self._vihf_signature(body)
        if refused is not None:
            return Reply(500, fault_envelope(
                subcode="siram_100", error_code="SIMU_VIHF_SIGNATURE", message_id=request.message_id,
                detail=f"Signature du VIHF refusée : {refused}",
                reason="Le VIHF n'est pas signé par un certificat de confiance."))
        if request.vihf is not None and request.vihf.not_after <= datetime.now(UTC):
            return Reply(500, fault_envelope(subcode="siram_100", error_code="SIMU_VIHF_EXPIRE",
                                             message_id=request.message_id, detail="Le VIHF a expiré.",
                                             reason=f"Assertion du professionnel {request.vihf.national_id} expirée."))
        if self.accepted_idams is not None and request.idam not in self.accepted_idams:
            return Reply(
                500,
                fault_envelope(
                    subcode="siram_100",
                    error_code="desir_550",
                    message_id=request.message_id,
                    detail="Numéro d'autorisation du logiciel inconnu.",
                    reason="L'accès par ce progiciel au service n'est pas autorisé. "
                    "Contactez l'éditeur du progiciel ou votre responsable informatique.",
                ),
            )
        query = request.query
        if isinstance(query, TraitsQuery):
            resultat = self.directory.by_traits(query)
        else:
            resultat = self.directory.by_carte_vitale(query)
        return Reply(200, answer_envelope(copy.deepcopy(resultat)))
