"""The simulated registry's ITI-18 Registry Stored Query: FindDocuments and GetDocuments, answered from what it
holds, only about the patient the VIHF names (the DMP answers a professional about the patient of the
access, never another).

FindDocuments needs ``$XDSDocumentEntryPatientId`` (one value) and ``$XDSDocumentEntryStatus``; it filters on
``$XDSDocumentEntryFormatCode`` when given. GetDocuments takes ``$XDSDocumentEntryUniqueId``. Another stored
query id is ``XDSUnknownStoredQuery``, a missing parameter ``XDSStoredQueryParamNumber``, another patient than
the VIHF's ``XDSPatientIdDoesNotMatch`` (IHE ITI TF-3 §4.2.4 codes)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

from lxml import etree

from facades.dmp import codes
from facades.dmp.errors import RegistryError
from facades.dmp.query import FoundEntry

_QUOTED = re.compile(r"'((?:[^']|'')*)'")


class Held(Protocol):
    """What the registry holds of one entry (``registry.StoredEntry``)."""

    entry_uuid: str
    unique_id: str
    status: str
    record: dict[str, Any]


def _values(query: etree._Element, name: str) -> list[str] | None:
    """The quoted values of a slot (``('a','b')`` or ``'a'``, over one or several Value elements); None if absent."""
    slot = query.find(f"{{{codes.RIM}}}Slot[@name='{name}']")
    if slot is None:
        return None
    text = " ".join(v.text or "" for v in slot.iterfind(f"{{{codes.RIM}}}ValueList/{{{codes.RIM}}}Value"))
    return [v.replace("''", "'") for v in _QUOTED.findall(text)]


def _found(held: Held) -> FoundEntry:
    r = held.record
    return FoundEntry(held.entry_uuid, held.unique_id, held.status, r["patientId"], r["mimeType"], r["formatCode"],
                      r["typeCode"], r["classCode"], tuple(r["confidentialityCode"]), r["hash"], r["size"])


def _error(code: str, context: str) -> tuple[list[FoundEntry], tuple[RegistryError, ...]]:
    return [], (RegistryError(code, context, codes.SEVERITY_ERROR),)


def answer(query: etree._Element | None, held: Iterable[Held], patient_id: str
           ) -> tuple[list[FoundEntry], tuple[RegistryError, ...]]:
    """The entries answering ``query`` (an ``rim:AdhocQuery``), or the errors, for the VIHF's ``patient_id``."""
    if query is None:
        return _error("XDSRegistryMetadataError", "no AdhocQuery in the request")
    mine = [h for h in held if h.record["patientId"] == patient_id]
    if query.get("id") == codes.GET_DOCUMENTS:
        wanted = _values(query, "$XDSDocumentEntryUniqueId")
        if not wanted:
            return _error("XDSStoredQueryParamNumber", "$XDSDocumentEntryUniqueId is required")
        by_uid = {h.unique_id: h for h in mine}
        return [_found(by_uid[uid]) for uid in wanted if uid in by_uid], ()
    if query.get("id") != codes.FIND_DOCUMENTS:
        return _error("XDSUnknownStoredQuery", f"stored query {query.get('id')!r} is not simulated")
    patient, statuses = _values(query, "$XDSDocumentEntryPatientId"), _values(query, "$XDSDocumentEntryStatus")
    if not patient or len(patient) != 1 or not statuses:
        return _error("XDSStoredQueryParamNumber",
                      "FindDocuments needs one $XDSDocumentEntryPatientId and $XDSDocumentEntryStatus")
    if patient[0] != patient_id:
        return _error("XDSPatientIdDoesNotMatch", "the query names another patient than the VIHF resource-id")
    formats = {f.split("^", 1)[0] for f in _values(query, "$XDSDocumentEntryFormatCode") or ()}
    return [_found(h) for h in mine if h.status in statuses and (not formats or h.record["formatCode"] in formats)], ()
