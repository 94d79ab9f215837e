"""``GET /fhir/Patient/{id}/$identity-label``: the identity label with the INS Datamatrix, as a PDF.

Only for a qualified identity (SGL.INS.53: the Datamatrix carries a qualified INS only): any other
status is refused with 422 naming the rule, before anything is rendered. The label carries the INS, so
who may print it is the ``$identity-label`` row of the permission table (roles that see the INS), and
printing it is an access to the identity, audited (SGL.INS.03). Rendering runs in a worker thread.
"""

from __future__ import annotations

import asyncio

from facades.pdf.labels import render_identity_label
from resources.errors import RuleViolation
from resources.ins import identity_status
from server.access.permissions import authorize
from server.audit import record_patient_access
from server.identity.scope import Scope


async def identity_label(scope: Scope, pid: str) -> bytes:
    authorize(scope.caller.role, "Patient", "$identity-label", expression="Patient/$identity-label")
    patient, _ = await scope.patient(pid)
    status = identity_status(patient)
    if status != "QUAL":
        raise RuleViolation("SGL.INS.53", f"the identity is {status}: only a qualified identity (QUAL) has an "
                                          "INS Datamatrix label",
                            expression="Patient.extension('identity-reliability')")
    await record_patient_access(scope.store, patient, who=scope.caller, interaction="read",
                                query=f"Patient/{pid}/$identity-label")
    return await asyncio.to_thread(render_identity_label, patient)
