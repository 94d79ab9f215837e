"""``recordTarget`` -> ``DocumentPatient``: the identity a CR-Bio names, so an importer can check it is the
patient the document is being attached to (birth name, first names, birth date, sex, INS).

Only what the CI-SIS header carries is read: family with qualifier BR (birth name, else the first
family), the unqualified ``given`` (every birth first name) and ``given`` BR (the first one),
``birthTime``, ``administrativeGenderCode`` and an ``id`` under an INS OID.
"""

from __future__ import annotations

from lxml import etree

from facades.cda.reader.model import DocumentPatient
from facades.cda.reader.values import NS, find, text_of
from resources.ins import INS_TYPE_BY_OID


def _birth_date(value: str | None) -> str | None:
    digits = (value or "")[:8]
    if len(digits) < 4 or not digits.isdigit():
        return None
    return "-".join(p for p in (digits[:4], digits[4:6], digits[6:8]) if p)


def read_patient(cda: etree._Element) -> DocumentPatient | None:
    """The document's patient, None when it has no ``recordTarget/patientRole``."""
    role = find(cda, "c:recordTarget/c:patientRole")
    if role is None:
        return None
    ins = next(((str(i.get("root")), str(i.get("extension"))) for i in role.xpath("c:id", namespaces=NS)
                if i.get("root") in INS_TYPE_BY_OID and i.get("extension")), None)
    person = "c:patient/c:name"
    birth_name = (text_of(role, f"{person}/c:family[@qualifier='BR']/text()")
                  or text_of(role, f"{person}/c:family/text()"))
    listed = text_of(role, f"{person}/c:given[not(@qualifier)]/text()")
    first_names = tuple(listed.split()) if listed else ()
    first = text_of(role, f"{person}/c:given[@qualifier='BR']/text()") or (first_names[0] if first_names else None)
    return DocumentPatient(
        birth_name=birth_name, first_name=first, first_names=first_names,
        birth_date=_birth_date(text_of(role, "c:patient/c:birthTime/@value")),
        sex=text_of(role, "c:patient/c:administrativeGenderCode/@code"), ins=ins)
