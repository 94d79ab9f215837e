"""Every ``$operation`` the server routes, declared as a FHIR ``OperationDefinition``.

The declarations below say what each operation takes and returns; the routes say where it lives
(type or instance level, read off the app's paths). Together they give the ``OperationDefinition``
resources served at ``/fhir/OperationDefinition/{Type}-{code}`` (the ids the CapabilityStatement
points to) and the ``Parameters`` schemas of the OpenAPI document (server/openapi.py), so that
integrators and fuzzers see the same contract the handlers enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from resources.errors import NotFound
from server.deps import BaseUrl
from server.responses import fhir_response


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    """A FHIR data type (``string``, ``Reference``...) or a resource type for a ``resource`` part."""
    min: int = 0
    max: str = "1"
    use: str = "in"
    documentation: str = ""


@dataclass(frozen=True)
class Operation:
    code: str
    title: str
    parameters: tuple[Param, ...] = ()
    affects_state: bool = True
    body: str = "Parameters"
    """What the POST body is: ``Parameters``, ``none``, or a media type read as is (``application/xml``)."""


_REASON = Param("reason", "string", 1, documentation="why (kept in the audit trail)")
OPERATIONS: dict[str, Operation] = {op.code: op for op in (
    Operation("loinc-export", "LOINC_4/5/6 files of the lab catalogue", affects_state=False, body="none"),
    Operation("loinc-import", "Import LOINC_4/5/6 CSV files or a ConceptMap", body="text/csv"),
    Operation("translate", "Local code to LOINC through the catalogue ConceptMap", (
        Param("code", "code"), Param("system", "uri"), Param("coding", "Coding"), Param("url", "uri"),
        Param("targetsystem", "uri"), Param("reverse", "boolean"),
        Param("result", "boolean", 1, use="out"), Param("match", "BackboneElement", 0, "*", use="out")),
        affects_state=False),
    Operation("set-loinc", "Set the LOINC code of a catalogue entry", (
        Param("code", "code", 1, documentation="the LOINC code"), Param("display", "string"),
        Param("concept", "string"))),
    Operation("validate-technical", "Technical validation of results", (
        Param("observation", "Reference", 0, "*", documentation="type level: the Observations to validate"),
        Param("note", "string"),
        Param("note-audience", "code", documentation="professional: the note is left out of the patient version of "
                                                     "the CR-Bio (SGL.DOC.02)"))),
    Operation("rerun", "Ask for a result to be measured again", (_REASON,)),
    Operation("validate-biological", "Biological validation of a report", (Param("conclusion", "string"),)),
    Operation("correct", "Correct a validated result", (
        Param("observation", "Reference", 1, "*"), Param("value", "Quantity", 1,
                                                          documentation="value[x] of the corrected result"),
        _REASON)),
    Operation("withdraw", "Take back a validated report: entered-in-error, withdrawal sent to who received it",
              (_REASON,)),
    Operation("order", "Place an order: ServiceRequests and Specimens", (
        Param("patient", "Reference", 1), Param("requester", "Reference", 1),
        Param("correspondent", "Reference", 0, "*"),
        Param("exam", "Coding", 1, "*", documentation="valueCoding, or valueCode of the lab catalogue"),
        Param("collected", "dateTime"), Param("priority", "code"), Param("requisition", "Identifier"),
        Param("refusal", "code", 0, "*"))),
    Operation("refusal", "Record or withdraw a patient's refusal of a delivery channel", (
        Param("requisition", "Identifier", 1), Param("channel", "code", 1), Param("refused", "boolean", 1))),
    Operation("label", "Specimen tube label (PDF)", affects_state=False, body="none"),
    Operation("insi-search", "Search the INS with INSi (traits or carte Vitale)", (
        Param("patient", "Reference"), Param("mode", "code", documentation="traits | carte-vitale"),
        Param("birthName", "string"), Param("sex", "code"), Param("birthDate", "date"),
        Param("birthPlace", "string"), Param("nir", "string"), Param("birthRank", "string"))),
    Operation("insi-verify", "Verify the INS of a patient with INSi", ()),
    Operation("validate-identity", "Validate an identity on a justificatif", (
        Param("justificatif", "code", 1),)),
    Operation("receive-identity", "Receive an identity from another domain", (Param("patient", "Patient", 1),)),
    Operation("insi-verify-all", "Verify every qualified INS with INSi", ()),
    Operation("merge", "Merge a duplicate identity into the one that stays (RNIV): inactive, replaced-by", (
        Param("source-patient", "Reference", 1, documentation="the duplicate, made inactive"),
        Param("target-patient", "Reference", 1, documentation="the identity that stays (highest status)"),
        Param("result", "Patient", 1, use="out"), Param("merged", "Patient", 1, use="out"))),
    Operation("identity-label", "Identity label with the INS Datamatrix of a qualified identity (PDF)",
              affects_state=False, body="none"),
    Operation("duplicates", "Possible duplicate identities", affects_state=False, body="none"),
    Operation("cr-bio", "The CR-Bio documents of a report", affects_state=False, body="none"),
    Operation("produce-documents", "Produce the CR-Bio of a validated report again (after a fixed failure)",
              body="none"),
    Operation("deliveries", "Where the CR-Bio of a report, a refused tube's notice (Communication) or the data of a "
              "patient went: each delivery and answer",
              affects_state=False, body="none"),
    Operation("delivery-retry", "Send deliveries of a report or notice again (failed or cancelled ones, or one "
              "named)", (
        Param("delivery", "string", 0, "*", documentation="delivery id; none: every failed one of the report "
                                                           "or notice"),)),
    Operation("delivery-cancel", "Cancel pending or failed deliveries of a report", (
        Param("delivery", "string", 0, "*", documentation="delivery id; none: every unfinished one"), _REASON)),
    Operation("dmp-access", "The TD0.9 call opening the DMP web portal on a patient with a qualified INS", (
        Param("target", "code", documentation="patient-file (default) | dashboard"),
        Param("_format", "code", documentation="json (default) | html: the form posting the call, auto-submitted"),
        Param("launch", "string", documentation="with _format=html: the single-use handle of an answer's launch URL "
                                                 "(its call, already signed and audited)"),
        Param("launch", "url", 1, use="out", documentation="the html form of this very call (single use, 2 minutes), "
                                                           "for a new browser window"),
        Param("url", "url", 1, use="out"), Param("method", "code", 1, use="out"),
        Param("page", "string", 1, use="out"), Param("mode", "code", 1, use="out"),
        Param("expires", "instant", 1, use="out"), Param("professional", "BackboneElement", 1, use="out"),
        Param("field", "BackboneElement", 1, "*", use="out", documentation="a form field to post: name, value")),
        affects_state=False, body="none"),
    Operation("mssante-send", "Send the report's CR-Bio over MSSanté to chosen recipients (hospital setting, "
              "partial report)", (
        Param("recipient", "Reference", 0, "*", documentation="PractitionerRole, Practitioner or Organization "
                                                               "with an MSSanté address"),
        Param("address", "string", 0, "*", documentation="an MSSanté address typed in"),
        Param("patient", "boolean", documentation="true: to the patient at the address of his qualified INS"),
        Param("delivery", "string", 0, "*", use="out", documentation="the delivery ids; already sent: "
                                                                        "'already <id>'"))),
    Operation("mssante-lookup", "MSSanté addresses of a professional from the Annuaire Santé extraction", (
        Param("identifier", "string", documentation="8 + RPPS, 0 + ADELI, or an 11-digit RPPS"),
        Param("family", "string"), Param("given", "string"),
        Param("place", "string", documentation="postal code, department or town (with family)"),
        Param("match", "BackboneElement", 0, "*", use="out")), affects_state=False, body="none"),
    Operation("annuaire-status", "Schedule and last load of the Annuaire Santé extractions", (
        Param("lastRun", "BackboneElement", use="out"),), affects_state=False, body="none"),
    Operation("export", "FHIR Bulk Data export (asynchronous: Prefer: respond-async)", (
        Param("_type", "string"), Param("_since", "instant"), Param("_outputFormat", "string"),
        Param("patient", "Reference", 0, "*"),
        Param("crbio", "boolean", documentation="also the CR-Bio documents (N3, N1, PDF) and crbio.csv")),
        affects_state=False),
    Operation("export-status", "Status, manifest or cancellation of a Bulk Data export", affects_state=False,
              body="none"),
    Operation("export-file", "One output file of a Bulk Data export", affects_state=False, body="none"),
    Operation("worklist-events", "Live counts of the worklists (text/event-stream, server-sent events)",
              affects_state=False, body="none"),
    Operation("delivery-dashboard", "Delivery dashboards: CR-Bio produced and sent per channel, failures "
              "(SGL.TBB.01-03); _format=csv for the ';' extract", (
        Param("period", "code", 0, "*", documentation="mois, annee, annee-precedente (default: all three)"),
        Param("finess", "string", documentation="one FINESS géographique (default: every one)"),
        Param("date", "date", documentation="the day the periods are drawn around (default: today)"),
        Param("row", "BackboneElement", 0, "*", use="out")), affects_state=False, body="none"),
    Operation("identity-document", "Keep (POST, the copy as the body), list (GET) or read (GET .../{copy}) the "
              "encrypted copy of a patient's identity document (SGL.INS.57)", (
                  Param("id", "string", 0, "1", use="out"), Param("copy", "BackboneElement", 0, "*", use="out")),
              body="image/jpeg"),
    Operation("create-account", "Create a local account of the workbench (Argon2id password, never returned)", (
        Param("username", "string", 1), Param("role", "code", 1), Param("password", "string", 1),
        Param("name", "string"), Param("rpps", "string"), Param("practitioner", "Reference"))),
    Operation("disable", "Disable an account: its sessions and tokens stop at once", body="none"),
    Operation("enable", "Enable a disabled account again", body="none"),
    Operation("unlock", "Lift the lockout after repeated failed logins", body="none"),
    Operation("set-role", "Give an account another role", (Param("role", "code", 1),)),
    Operation("set-password", "Reset an account's password (the lockout is lifted)", (Param("password", "string", 1),)),
    Operation("add-partner", "Register a socket partner (the fields of sgl partners import)", (
        Param("name", "string", 1), Param("role", "code", 1), Param("hl7_application", "string"),
        Param("hl7_facility", "string"), Param("astm_sender", "string"), Param("addresses", "string", 0, "*"),
        Param("send_to", "string"), Param("identifier_types", "string", 0, "*"), Param("options", "string", 0, "*"),
        Param("identity_updates", "boolean"))),
    Operation("set-mappings", "Replace a partner's identifier-type mappings and options (If-Match: its version)", (
        Param("identifier_types", "string", 0, "*", documentation="SENT=READ_AS (MR=PI); absent: none"),
        Param("options", "string", 0, "*", documentation="KEY=VALUE (test_code=alternate); absent: none"))),
    Operation("lab-profile", "Read (GET) or save (POST) the lab's texts printed on every CR-Bio: RGPD information, "
              "Cofrac number, autoverification notice (SGL.DOC.08-10)", (
                  Param("rgpd", "string"), Param("cofrac-number", "string"), Param("autoverification", "string"),
                  Param("source", "code", 0, "1", use="out"))),
    Operation("import-crbio", "Import a subcontractor's CR-Bio (CDA N3/N1 or PDF) into a patient file",
              body="application/xml"),
)}


def operation_of(path: str) -> tuple[str | None, str, bool] | None:
    """``/fhir/Patient/{rid}/$insi-verify`` -> ("Patient", "insi-verify", instance=True); None if no operation."""
    parts = path.removeprefix("/fhir/").split("/")
    op = next((p for p in parts if p.startswith("$")), None)
    if op is None or not path.startswith("/fhir/"):
        return None
    rtype = parts[0] if not parts[0].startswith("$") else None
    return rtype, op[1:], len(parts) > 2


def definition_id(rtype: str | None, code: str) -> str:
    return f"{rtype}-{code}" if rtype else code


def definitions(routes: list[tuple[str, str]], base: str) -> dict[str, dict[str, Any]]:
    """The OperationDefinition resources of the routed ``(method, path)`` pairs, by id."""
    found: dict[str, dict[str, Any]] = {}
    for _method, path in routes:
        where = operation_of(path)
        if where is None:
            continue
        rtype, code, instance = where
        rid = definition_id(rtype, code)
        op = OPERATIONS.get(code, Operation(code, code))
        definition = found.setdefault(rid, _definition(rid, rtype, op, base))
        definition["instance" if instance else "type"] = True
    return found


def _definition(rid: str, rtype: str | None, op: Operation, base: str) -> dict[str, Any]:
    params = [{"name": p.name, "use": p.use, "min": p.min, "max": p.max,
               **({"type": p.type} if p.type[0].islower() or p.type in ("Reference", "Coding", "Identifier",
                                                                          "Quantity", "BackboneElement")
                  else {"type": "Resource", "targetProfile": [f"http://hl7.org/fhir/StructureDefinition/{p.type}"]}),
               **({"documentation": p.documentation} if p.documentation else {})} for p in op.parameters]
    return {
        "resourceType": "OperationDefinition", "id": rid, "url": f"{base}/OperationDefinition/{rid}",
        "name": rid.replace("-", "_"), "title": op.title, "status": "active", "kind": "operation",
        "code": op.code, "affectsState": op.affects_state, "system": rtype is None,
        "type": False, "instance": False, **({"resource": [rtype]} if rtype else {}),
        **({"parameter": params} if params else {}),
    }


router = APIRouter()


def _routes(request: Request) -> list[tuple[str, str]]:
    return [(m, p) for p, item in request.app.openapi()["paths"].items() for m in item]


@router.get("/OperationDefinition")
async def list_definitions(request: Request, base: BaseUrl) -> Response:
    found = definitions(_routes(request), base)
    return fhir_response({"resourceType": "Bundle", "type": "searchset", "total": len(found),
                          "entry": [{"fullUrl": d["url"], "resource": d, "search": {"mode": "match"}}
                                    for d in found.values()]})


@router.get("/OperationDefinition/{rid}")
async def read_definition(rid: str, request: Request, base: BaseUrl) -> Response:
    found = definitions(_routes(request), base).get(rid)
    if found is None:
        raise NotFound(f"OperationDefinition/{rid} does not exist; see /fhir/OperationDefinition")
    return fhir_response(found)
