"""``POST /fhir/Patient/{id}/$validate-identity``: a user records the justificatif checked (SGL.INS.18).

Parameters in: ``justificatif`` (a code of the site list, SGL.INS.19: CN, PA, CS... see
``policy.JUSTIFICATIFS`` and ``SGL_IDENTITY_JUSTIFICATIFS``). The justificatif and the date are
written in the FR Core identity-reliability extension (``validationMode``, ``validationDate``).
A high-trust one raises PROV to VALI and RECUP to QUAL (SGL.INS.24-25); a low-trust one is
recorded and changes nothing (warning). This operation, called by a user whose profile has the
validation habilitation, is the only way to validate: there is no automatic validation
(SGL.INS.20-21). A douteuse/fictive identity cannot be validated (SGL.INS.27).
"""

from __future__ import annotations

from typing import Any

from resources.errors import Issue, RuleViolation, operation_outcome
from resources.ins import identity_status
from resources.search.date import now_utc
from server.identity.attestation import Attestation
from server.identity.parameters import Params, parameters
from server.identity.roles import Right
from server.identity.scope import Scope
from server.identity.vocabulary import BLOCKING_ATTRIBUTES, attributes, reliability, validation_mode, with_reliability

_RAISED = {"PROV": "VALI", "RECUP": "QUAL"}


async def validate_identity(scope: Scope, pid: str, params: Params) -> dict[str, Any]:
    scope.profile.require(Right.VALIDATE, expression="Patient/$validate-identity")
    justificatif = scope.policy.justificatif(params.text("justificatif", required=True) or "")
    patient, vid = await scope.patient(pid)
    marked = attributes(patient) & BLOCKING_ATTRIBUTES
    if marked:
        raise RuleViolation("SGL.INS.27", f"the identity is marked {'/'.join(sorted(marked))}: it stays provisional",
                            expression="Patient.extension('identity-attribute')")
    before = identity_status(patient)
    status = _RAISED.get(before, before) if justificatif.trust == "high" else before
    subs = {**reliability(patient), "validationMode": validation_mode(justificatif.code, justificatif.label),
            "validationDate": {"url": "validationDate", "valueDate": now_utc().date().isoformat()}}
    reason = (f"SGL.INS.20 justificatif {justificatif.code} ({justificatif.label}, {justificatif.trust} trust) "
              f"checked by {scope.caller.id}")
    written = await scope.write(with_reliability(patient, status, subs), vid, Attestation(pid, status, reason))
    warning = None
    if justificatif.trust != "high":
        warning = operation_outcome([Issue(
            code="business-rule", severity="warning", expression=("Parameters.parameter('justificatif')",),
            diagnostics=f"[SGL.INS.19] {justificatif.label} is not a high-trust justificatif: status stays {before}")])
    return parameters(("status", status), ("patient", written), ("outcome", warning))
