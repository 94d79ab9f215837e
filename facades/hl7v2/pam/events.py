"""One PAM-FR ADT message -> one ``IdentityChange`` (IHE ITI-30 identity feed, ITI-31 movements).

Every event below carries the full PID, so each one creates or updates the patient it names; the
movement itself (PV1, ZBE) is not the identity feed's business. A40 (merge) and A47 (change of
identifier) also carry MRG-1: the patient merged into the PID one, or the IPP being replaced. Only
the first PID/MRG group of a message is read.

The RNIV status follows the CI-SIS INS annex (SGL.INS.54/55): PID-32 ``VALI`` with an INS in PID-3 ->
the INS is stored and the identity is qualified (QUAL); ``VALI`` without INS -> VALI; anything else
(PROV, RECUP, VIDE, or a doubtful/fictitious attribute) -> traits only, status PROV.
"""

from __future__ import annotations

from collections.abc import Mapping

from facades.hl7v2 import ErrorLocation, Hl7Message, Segment
from facades.hl7v2.pam.errors import REQUIRED_FIELD_MISSING, UNSUPPORTED_EVENT_CODE, field_error
from facades.hl7v2.pam.model import ChangeKind, IdentityChange, Traits
from facades.hl7v2.pam.pid_reader import (
    STATUS_CODES,
    read_date,
    read_gender,
    read_ins,
    read_ipp,
    read_names,
    read_places,
    read_reliability,
)
from facades.hl7v2.pam.zfd import birth_date_corrected, collection, lunar_birth_date

EVENT_KINDS: dict[str, ChangeKind] = {
    "A28": "upsert", "A31": "upsert", "A01": "upsert", "A04": "upsert", "A05": "upsert", "A03": "upsert",
    "A08": "upsert", "A40": "merge", "A47": "change-id",
}
SUPPORTED_EVENTS = tuple(EVENT_KINDS)
_TRUSTING = frozenset({"VALI", "QUAL"})
_BLOCKING = frozenset({"DOUT", "FICT"})


def _segment(message: Hl7Message, name: str) -> Segment:
    segment = message.segment(name)
    if segment is None:
        raise field_error(f"ADT^{message.trigger_event} needs a {name} segment", ErrorLocation(name),
                          REQUIRED_FIELD_MISSING)
    return segment


def _traits(message: Hl7Message, pid: Segment) -> Traits:
    birth_name, first, names, used_name, used_first = read_names(pid)
    birthplace, home = read_places(pid)
    birth_date = read_date(pid, 7, pid.get(7)) or lunar_birth_date(message)
    return Traits(birth_name, first, names, used_name, used_first, birth_date, birth_date_corrected(message),
                  read_gender(pid), birthplace, home)


def read_identity_change(message: Hl7Message, *, identifier_types: Mapping[str, str] | None = None) -> IdentityChange:
    """Read the identity an ADT message carries; raises errors naming the segment and field.

    ``identifier_types``: the sender's PID-3/MRG-1 type mapping (see ``read_ipp``)."""
    event = message.trigger_event
    kind = EVENT_KINDS.get(event)
    if message.message_type != "ADT" or kind is None:
        raise field_error(f"{message.message_type}^{event} is not a PAM-FR identity event "
                          f"(ADT^{', ADT^'.join(SUPPORTED_EVENTS)})", ErrorLocation("MSH", 1, 9),
                          UNSUPPORTED_EVENT_CODE)
    facility = message.msh.get("4.1")
    pid = _segment(message, "PID")
    codes, warnings = read_reliability(pid)
    trusted = bool(_TRUSTING & set(codes)) and not _BLOCKING & set(codes)
    ins, deleted, ins_warnings = read_ins(pid, trusted=trusted)
    status = ("QUAL" if ins else "VALI") if trusted else "PROV"
    prior = read_ipp(_segment(message, "MRG"), 1, facility, identifier_types) if kind != "upsert" else None
    return IdentityChange(
        event=event, kind=kind, ipp=read_ipp(pid, 3, facility, identifier_types), traits=_traits(message, pid),
        status=status,
        ins=ins, ins_deleted=deleted, reliability_codes=codes,
        attributes=tuple(c for c in codes if c not in STATUS_CODES), collection=collection(message),
        prior_ipp=prior, warnings=warnings + ins_warnings,
    )
