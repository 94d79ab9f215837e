"""INS masking on the way out (SGL.INS.05): for a role the permission table does not entitle to
``ins`` on Patient (by default ``technicien`` and ``automate``), every JSON answer loses the INS:
identifiers under the INS OIDs wherever they appear (a Patient, a contained or included one, a
reference's identifier, a Bundle entry at any depth, a Parameters output) and the INS-specific
birth traits of a Patient (the list of birth first names, the birthplace code). The Binary
content of documents (CDA, PDF with the INS Datamatrix) is not masked: the table keeps those roles
away from Binary and ``$cr-bio``.
"""

from __future__ import annotations

from typing import Any

from resources.ins import INS_TYPE_BY_OID
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1, BIRTHPLACE_URL

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
    if node.get("resourceType") == "Patient" and isinstance(out.get("extension"), list):
        out["extension"] = [e for e in out["extension"] if e.get("url") not in INS_TRAIT_EXTENSIONS]
    return {k: v for k, v in out.items() if v != [] or node[k] == []}  # no list left empty by the masking
