"""What the mail needs from a CDA N3 header: ids, code, title, dates, patient, author, INS.

Read once from the document the lab generated (never re-typed), so that the XDM metadata and the
``X-MSS-*`` headers say exactly what the document says.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from facades.mssante.errors import MssMessageInvalid
from resources.outside_xml import parse_outside_xml

NS = {"cda": "urn:hl7-org:v3"}
INS_OIDS = frozenset({"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10", "1.2.250.1.213.1.4.11"})
"""INS-NIR, INS-NIA and their test/demonstration roots: a CR-Bio carries one only for a qualified identity."""


@dataclass(frozen=True)
class Coded:
    code: str
    system: str
    display: str


@dataclass(frozen=True)
class CdaHeader:
    unique_id: str
    set_id: str
    version: int
    code: Coded
    title: str
    effective_time: str
    confidentiality: Coded
    language: str
    patient_ids: tuple[tuple[str, str], ...]
    """``(root, extension)`` of every ``patientRole/id``, INS first when there is one."""
    family: str
    given: str
    gender: str
    birth_time: str
    author_ids: tuple[tuple[str, str], ...]
    author_name: str
    organisation_id: tuple[str, str]
    organisation_name: str
    service_start: str
    service_stop: str
    facility: Coded
    """``componentOf/encompassingEncounter/location/healthCareFacility/code``: the XDS healthcareFacilityTypeCode."""
    practice_setting: Coded
    """The performing organisation's ``standardIndustryClassCode``: the XDS practiceSettingCode (cadre d'exercice)."""

    @property
    def ins(self) -> tuple[str, str] | None:
        """The ``(OID, matricule)`` of a qualified INS, else ``None``."""
        return next(((root, ext) for root, ext in self.patient_ids if root in INS_OIDS and ext), None)

    @property
    def patient_id(self) -> tuple[str, str]:
        """The XDS patient id: the INS when qualified, else the first local id."""
        ins = self.ins
        if ins:
            return ins
        if not self.patient_ids:
            raise MssMessageInvalid("the CDA has no patientRole/id", expression="ClinicalDocument/recordTarget")
        return self.patient_ids[0]


def _attr(root: etree._Element, path: str, name: str) -> str:
    found = root.xpath(path, namespaces=NS)
    return str(found[0].get(name, "")) if found else ""


def _text(root: etree._Element, path: str) -> str:
    found = root.xpath(path, namespaces=NS)
    return " ".join(" ".join(str(e.text or "").split()) for e in found).strip()


def _coded(root: etree._Element, path: str) -> Coded:
    found = root.xpath(path, namespaces=NS)
    if not found:
        return Coded("", "", "")
    e = found[0]
    return Coded(str(e.get("code", "")), str(e.get("codeSystem", "")), str(e.get("displayName", "")))


def _ids(root: etree._Element, path: str) -> tuple[tuple[str, str], ...]:
    ids = [(str(e.get("root", "")), str(e.get("extension", ""))) for e in root.xpath(path, namespaces=NS)]
    return tuple(sorted(ids, key=lambda i: i[0] not in INS_OIDS))


def read_header(document: bytes) -> CdaHeader:
    """Parse the header of a CDA R2 document, bare or self-presenting (the ``ClinicalDocument`` inside the
    stylesheet document of the CI-SIS "auto-présentable" format); :class:`MssMessageInvalid` when it is neither."""
    try:
        root = parse_outside_xml(document)
    except etree.XMLSyntaxError as exc:
        raise MssMessageInvalid(f"the document is not well-formed XML: {exc}", expression="ClinicalDocument") from exc
    if root.tag != "{urn:hl7-org:v3}ClinicalDocument":  # a self-presenting N3 embeds it in its stylesheet
        root = next(iter(root.iter("{urn:hl7-org:v3}ClinicalDocument")), root)
    if root.tag != "{urn:hl7-org:v3}ClinicalDocument":
        raise MssMessageInvalid("the document is not a CDA ClinicalDocument", expression="ClinicalDocument")
    doc_root, doc_ext = _attr(root, "cda:id", "root"), _attr(root, "cda:id", "extension")
    set_root, set_ext = _attr(root, "cda:setId", "root"), _attr(root, "cda:setId", "extension")
    person = "cda:recordTarget/cda:patientRole/cda:patient"
    author = "cda:author[1]/cda:assignedAuthor"
    org = f"{author}/cda:representedOrganization"
    event = "cda:documentationOf/cda:serviceEvent/cda:effectiveTime"
    name = f"{person}/cda:name"
    family = _text(root, f"{name}/cda:family[@qualifier='BR']") or _text(root, f"{name}/cda:family")
    given = _text(root, f"{name}/cda:given[not(@qualifier)]") or _text(root, f"{name}/cda:given")
    version = _attr(root, "cda:versionNumber", "value")
    return CdaHeader(
        unique_id=f"{doc_root}^{doc_ext}" if doc_ext else doc_root,
        set_id=f"{set_root}^{set_ext}" if set_ext else set_root,
        version=int(version) if version.isdigit() else 1,
        code=_coded(root, "cda:code"),
        title=_text(root, "cda:title"),
        effective_time=_attr(root, "cda:effectiveTime", "value"),
        confidentiality=_coded(root, "cda:confidentialityCode"),
        language=_attr(root, "cda:languageCode", "code") or "fr-FR",
        patient_ids=_ids(root, "cda:recordTarget/cda:patientRole/cda:id"),
        family=family,
        given=given.split(" ")[0] if given else "",
        gender=_attr(root, f"{person}/cda:administrativeGenderCode", "code"),
        birth_time=_attr(root, f"{person}/cda:birthTime", "value"),
        author_ids=_ids(root, f"{author}/cda:id"),
        author_name=" ".join(p for p in (_text(root, f"{author}/cda:assignedPerson/cda:name/cda:given"),
                                         _text(root, f"{author}/cda:assignedPerson/cda:name/cda:family")) if p),
        organisation_id=(_attr(root, f"{org}/cda:id", "root"), _attr(root, f"{org}/cda:id", "extension")),
        organisation_name=_text(root, f"{org}/cda:name"),
        service_start=_attr(root, f"{event}/cda:low", "value"),
        service_stop=_attr(root, f"{event}/cda:high", "value"),
        facility=_coded(root, "cda:componentOf/cda:encompassingEncounter/cda:location/cda:healthCareFacility/cda:code"),
        practice_setting=_coded(root, "cda:documentationOf/cda:serviceEvent/cda:performer/cda:assignedEntity/"
                                      "cda:representedOrganization/cda:standardIndustryClassCode"),
    )
