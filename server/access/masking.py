"""INS masking on the way out (SGL.INS.05): for a role the permission table does not entitle to
``ins`` on Patient (by default ``technicien`` and ``automate``), every JSON answer loses the INS:
identifiers under the INS OIDs wherever they appear (a Patient, a contained or included one, a
reference's identifier, a Bundle entry at any depth, a Parameters output) and the INS-specific
birth traits of a Patient (the list of birth first names, the birthplace code), and the same values quoted
in free text: a Task's (an INSi verification KO says "matricule INS <stored> is not returned; active INS is
<INSi's>" and "birthplace '<stored>' differs from INSi '<INSi's>'", a failed delivery may quote a partner's
error) and a Patient's extensions (its identity status history repeats the KO's reasons). There the log
filter's pattern (``logmask.py``) replaces each NIR/NIA-shaped number by a mark, and the INSi facade's
``mask_ins_traits`` the values of the birthplace and birth first names reasons (technicien and automate read
Tasks and Patients; found by probing: a technicien read the birthplace codes of a KO in its Task). The Binary
content of documents (CDA, PDF with the INS Datamatrix) is not masked: the table keeps those roles
away from Binary and ``$cr-bio``.

A document's content may also come inline, as an Attachment's base64 ``data`` (a partner's
DocumentReference, a DiagnosticReport's ``presentedForm``): INS masking cannot see inside it, so for a role
that may not read Binary (by default ``technicien`` and ``preleveur``, who read DocumentReference) every
Attachment loses its ``data`` and says so with the ``data-absent-reason`` extension, code ``masked``
(found by probing: a technicien read a CR-Bio CDA with its INS from a DocumentReference a biologist had
stored with inline data). Its ``url``, type, size and hash stay.
"""

from __future__ import annotations

from typing import Any

from facades.insi.verification import mask_ins_traits
from resources.ins import INS_TYPE_BY_OID
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1, BIRTHPLACE_URL
from server.access.logmask import mask_text

INS_SYSTEMS = frozenset(f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID) | frozenset(INS_TYPE_BY_OID)
INS_TRAIT_EXTENSIONS = frozenset({BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1, BIRTHPLACE_URL})
MASKED = "masqué"


def _is_ins(node: Any) -> bool:
    return isinstance(node, dict) and node.get("system") in INS_SYSTEMS and "value" in node


def mask_ins(node: Any) -> Any:
    """A copy of ``node`` without INS values; counts nothing, raises nothing, keeps every other element."""
    if isinstance(node, list):
        return [mask_ins(v) for v in node if not _is_ins(v)]
    if not isinstance(node, dict):
        return node
    if _is_ins(node):  # a lone identifier (a reference's): keep the shape, drop the value
        return {**node, "value": MASKED}
    out = {k: mask_ins(v) for k, v in node.items()}
    if node.get("resourceType") == "Task":
        out = {k: v if k == "id" else _mask_free_text(v) for k, v in out.items()}
    if node.get("resourceType") == "Patient" and isinstance(out.get("extension"), list):
        out["extension"] = _mask_free_text([e for e in out["extension"] if e.get("url") not in INS_TRAIT_EXTENSIONS])
    return {k: v for k, v in out.items() if v != [] or node[k] == []}  # no list left empty by the masking


def _mask_free_text(node: Any) -> Any:
    """Every string of ``node`` with the NIR/NIA-shaped numbers in it masked (the log filter's pattern) and the
    values of the INS trait reasons of an INSi verification (the facade's wording)."""
    if isinstance(node, str):
        return mask_ins_traits(mask_text(node), f"[{MASKED}]")
    if isinstance(node, list):
        return [_mask_free_text(v) for v in node]
    if isinstance(node, dict):
        return {k: _mask_free_text(v) for k, v in node.items()}
    return node


DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
MASKED_CODE = "masked"


def _is_attachment_with_data(node: dict[str, Any]) -> bool:
    """Inline base64 content: a string ``data`` in an element (an Attachment, even one without the
    ``contentType`` FHIR asks for beside it; a Signature's too), not a Binary resource's own."""
    return isinstance(node.get("data"), str) and node.get("resourceType") is None


def mask_attachment_data(node: Any) -> Any:
    """A copy of ``node`` where every Attachment's inline ``data`` is replaced by a data-absent-reason."""
    if isinstance(node, list):
        return [mask_attachment_data(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: mask_attachment_data(v) for k, v in node.items()}
    if _is_attachment_with_data(node):
        del out["data"]
        reason = {"url": DATA_ABSENT_REASON, "valueCode": MASKED_CODE}
        out["extension"] = [*(out.get("extension") or []), reason]
    return out
