"""The VIHF (SAML 2.0 assertion, version 3.0) naming the professional on whose behalf the lab calls the
INSi (SGL.INS.48, issue 11 item 7), placed in ``wsse:Security`` beside the mutual TLS of the
organisation certificate.

Built for a user authenticated through Pro Santé Connect ("authentification indirecte"): ``NameID``
= national PS id (``8`` + RPPS), ``AuthnContextClassRef`` MobileTwoFactorUnregistered, attributes
``VIHF_Version`` 3.0, ``Authentification_Mode`` INDIRECTE, ``Identifiant_Structure``,
``Secteur_Activite`` (``SAxx^1.2.250.1.71.4.2.4``), the subject id (name), the subject role (profession,
TRE_G15 ``1.2.250.1.71.1.2.7``, and specialty ``1.2.250.1.71.4.2.5``), the purpose of use ``normal``
and the software (``LPS_Nom``, ``LPS_Version``, ``LPS_ID``), valid one hour. The names follow the
ANS VIHF examples (``shared/kits/vihf``). Signed (enveloped XML-DSig, RSA-SHA256, with the structure's seal
certificate, ``Issuer`` = its DN) when the client is given a seal: ``facades/xmlsig``, shared with the DMP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from lxml import etree

from facades.insi.errors import InsiRequestInvalid
from facades.insi.model import Professional, Software

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PSC_AUTHN = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"
X509_NAME = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
PROFESSION_SYSTEM = "1.2.250.1.71.1.2.7"
SPECIALTY_SYSTEM = "1.2.250.1.71.4.2.5"
SECTOR_SYSTEM = "1.2.250.1.71.4.2.4"
PURPOSE_SYSTEM = "1.2.250.1.213.1.1.4.248"
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
SUBJECT_ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
LIFETIME = timedelta(hours=1)


@dataclass(frozen=True)
class VihfSummary:
    """What a receiver reads back from a VIHF (the simulator checks it)."""

    national_id: str
    version: str
    mode: str
    profession: str
    not_after: datetime


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{SAML}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _attribute(statement: etree._Element, name: str, *values: str) -> etree._Element:
    attribute = _el(statement, "Attribute", Name=name)
    for value in values:
        _el(attribute, "AttributeValue", value)
    return attribute


def _coded(attribute: etree._Element, tag: str, code: str, system: str) -> None:
    value = _el(attribute, "AttributeValue")
    etree.SubElement(value, f"{{{HL7}}}{tag}", {f"{{{XSI}}}type": "CE", "code": code, "codeSystem": system})


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def build_vihf(pro: Professional, *, issuer: str, structure_id: str, software: Software, now: datetime,
               lifetime: timedelta = LIFETIME) -> etree._Element:
    """A VIHF 3.0 assertion for ``pro``; ``issuer`` is the subject DN of the structure's certificate."""
    if not pro.national_id or not pro.profession:
        raise InsiRequestInvalid("a VIHF needs the professional's national id and profession",
                                 expression="VIHF.Subject")
    assertion = etree.Element(f"{{{SAML}}}Assertion", {"Version": "2.0", "ID": f"_{uuid.uuid4()}",
                                                        "IssueInstant": _stamp(now)},
                              nsmap={"saml2": SAML, "hl7": HL7, "xsi": XSI})
    _el(assertion, "Issuer", issuer, Format=X509_NAME)
    subject = _el(assertion, "Subject")
    _el(subject, "NameID", pro.national_id)
    _el(assertion, "Conditions", NotBefore=_stamp(now), NotOnOrAfter=_stamp(now + lifetime))
    authn = _el(assertion, "AuthnStatement", AuthnInstant=_stamp(now))
    _el(_el(authn, "AuthnContext"), "AuthnContextClassRef", PSC_AUTHN)
    statement = _el(assertion, "AttributeStatement")
    _attribute(statement, "VIHF_Version", "3.0")
    _attribute(statement, "Authentification_Mode", "INDIRECTE")
    _attribute(statement, "Identifiant_Structure", structure_id)
    if pro.sector:
        _attribute(statement, "Secteur_Activite", f"{pro.sector}^{SECTOR_SYSTEM}")
    _attribute(statement, SUBJECT_ID, pro.name)
    role = _el(statement, "Attribute", Name=SUBJECT_ROLE)
    _coded(role, "Role", pro.profession, PROFESSION_SYSTEM)
    if pro.specialty:
        _coded(role, "Role", pro.specialty, SPECIALTY_SYSTEM)
    _coded(_el(statement, "Attribute", Name=PURPOSE), "PurposeOfUse", "normal", PURPOSE_SYSTEM)
    _attribute(statement, "LPS_Nom", software.name)
    _attribute(statement, "LPS_Version", software.version)
    _attribute(statement, "LPS_ID", software.idam)
    return assertion


def security_header(assertion: etree._Element) -> etree._Element:
    """``wsse:Security`` carrying the assertion (SOAP header block)."""
    security = etree.Element(f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    security.append(assertion)
    return security


def read_vihf(security: etree._Element) -> VihfSummary:
    """The essentials of the VIHF in a ``wsse:Security`` block; InsiRequestInvalid naming what is wrong."""
    ns = {"s": SAML, "h": HL7}
    assertion = security.find("s:Assertion", ns)
    if assertion is None:
        raise InsiRequestInvalid("wsse:Security carries no SAML assertion", expression="Header/Security")
    national_id = (assertion.findtext("s:Subject/s:NameID", "", ns) or "").strip()
    attributes = {a.get("Name", ""): a for a in assertion.findall("s:AttributeStatement/s:Attribute", ns)}

    def value(name: str) -> str:
        found = attributes.get(name)
        return (found.findtext("s:AttributeValue", "", ns) or "").strip() if found is not None else ""

    role = attributes.get(SUBJECT_ROLE)
    profession = ""
    if role is not None:
        profession = next((r.get("code", "") for r in role.iter(f"{{{HL7}}}Role")
                           if r.get("codeSystem") == PROFESSION_SYSTEM), "")
    conditions = assertion.find("s:Conditions", ns)
    try:
        not_after = datetime.fromisoformat((conditions.get("NotOnOrAfter") or "").replace("Z", "+00:00")) \
            if conditions is not None else None
    except ValueError:
        not_after = None
    missing = [what for what, got in (("Subject/NameID", national_id), ("VIHF_Version", value("VIHF_Version")),
                                      ("subject:role profession", profession), ("Conditions/NotOnOrAfter", not_after))
               if not got]
    if missing or not_after is None:
        raise InsiRequestInvalid(f"the VIHF lacks {', '.join(missing)}", expression="Header/Security/Assertion")
    return VihfSummary(national_id, value("VIHF_Version"), value("Authentification_Mode"), profession, not_after)
