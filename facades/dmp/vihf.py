"""The DMP's VIHF: a SAML 2.0 assertion (VIHF 3.0) signed with the structure's seal certificate.

It names who sends (the authenticated biologist, or the lab's ``AUTOMATE`` identity for automatic
sending: TD0.9 / trans-cda-r2 "Mapping VIHF pour le DMP"), the structure, the patient (resource-id =
the INS with its OID), the access mode and the software, and travels in ``wsse:Security``. The
signature is enveloped, RSA-SHA256 with exclusive c14n, referencing the assertion's ``ID``; it sits
right after ``Issuer`` as SAML requires. :func:`verify_vihf` is what the receiver does: check the
certificate against its CA, verify the signature, then read the attributes *from the signed bytes
only* (so that a wrapped or altered assertion cannot pass).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from lxml import etree

from facades.dmp import codes
from facades.dmp.errors import DmpRequestInvalid
from facades.dmp.model import Software, Submission, VihfSubject
from facades.xmlsig import Seal, SignatureRefused, sign_assertion, verify_assertion

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
X509_NAME = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
SUBJECT_ID = "urn:oasis:names:tc:xspa:1.0:subject:subject-id"
SUBJECT_ROLE = "urn:oasis:names:tc:xacml:2.0:subject:role"
PURPOSE = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse"
RESOURCE_ID = "urn:oasis:names:tc:xacml:2.0:resource:resource-id"
PATIENT_CONFIDENTIALITY = "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code"
REQUIRED = ("VIHF_Version", "Authentification_Mode", "Identifiant_Structure", "Secteur_Activite", SUBJECT_ID,
            SUBJECT_ROLE, PURPOSE, RESOURCE_ID, "Ressource_URN", "LPS_Nom", "LPS_Version")
LIFETIME = timedelta(minutes=10)


class VihfInvalid(Exception):
    """The receiver refuses the VIHF; the message says why (signature, certificate, missing attribute)."""


@dataclass(frozen=True)
class VihfContent:
    """What a receiver reads back from a verified VIHF."""

    name_id: str
    subject_name: str
    roles: tuple[str, ...]
    structure: str
    resource_id: str
    issuer: str
    not_after: datetime
    attributes: dict[str, str]


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{SAML}}}{tag}", attrs)
    if text is not None:
        el.text = text
    return el


def _attribute(statement: etree._Element, name: str, value: str) -> None:
    _el(_el(statement, "Attribute", Name=name), "AttributeValue", value)


def _coded(statement: etree._Element, name: str, tag: str, *coded: tuple[str, str, str]) -> None:
    attribute = _el(statement, "Attribute", Name=name)
    for code, system, display in coded:
        value = _el(attribute, "AttributeValue")
        etree.SubElement(value, f"{{{HL7}}}{tag}", {f"{{{XSI}}}type": "CE", "code": code, "codeSystem": system,
                                                    "displayName": display})


def build_vihf(subject: VihfSubject, submission: Submission, software: Software, seal: Seal, now: datetime,
               *, lifetime: timedelta = LIFETIME, mode: str = "INDIRECTE") -> etree._Element:
    """The signed assertion for one call about ``submission``'s patient, from its structure; ``mode`` is the
    Authentification_Mode (``INDIRECTE``; ``INDIRECTE_RENFORCEE`` for a Pro Santé Connect user, TD0.10 AIR)."""
    structure = submission.structure
    if not subject.name_id or not subject.roles:
        raise DmpRequestInvalid("a VIHF needs the sender's identifier and role", expression="VIHF.Subject")
    ident = f"_{uuid.uuid4()}"
    assertion = etree.Element(f"{{{SAML}}}Assertion", {"Version": "2.0", "ID": ident, "IssueInstant": _stamp(now)},
                              nsmap={"saml2": SAML, "hl7": HL7, "xsi": XSI})
    _el(assertion, "Issuer", seal.subject_dn, Format=X509_NAME)
    _el(_el(assertion, "Subject"), "NameID", subject.name_id)
    _el(assertion, "Conditions", NotBefore=_stamp(now), NotOnOrAfter=_stamp(now + lifetime))
    authn = _el(assertion, "AuthnStatement", AuthnInstant=_stamp(now))
    _el(_el(authn, "AuthnContext"), "AuthnContextClassRef", subject.authn_class)
    statement = _el(assertion, "AttributeStatement")
    _attribute(statement, "VIHF_Version", "3.0")
    _attribute(statement, "Authentification_Mode", mode)
    _attribute(statement, "Identifiant_Structure", structure.identifier)
    _attribute(statement, "Secteur_Activite", f"{structure.sector[0]}^{structure.sector[1]}")
    _attribute(statement, SUBJECT_ID, subject.subject_name)
    _coded(statement, SUBJECT_ROLE, "Role", *subject.roles)
    _coded(statement, PURPOSE, "PurposeOfUse", ("normal", "1.2.250.1.213.1.1.4.248", "Accès normal"))
    _attribute(statement, RESOURCE_ID, submission.patient_id)
    _attribute(statement, "Ressource_URN", "urn:dmp")
    if submission.visibility.secret_connection:
        _attribute(statement, PATIENT_CONFIDENTIALITY,
                   f"{codes.INVISIBLE_REPRESENTANTS_LEGAUX}^{codes.CONFIDENTIALITY_SYSTEM}")
    _attribute(statement, "LPS_Nom", software.name)
    _attribute(statement, "LPS_Version", software.version)
    if software.lps_id:
        _attribute(statement, "LPS_ID", software.lps_id)
    if software.homologation:
        _attribute(statement, "LPS_ID_HOMOLOGATION_DMP", software.homologation)
    return sign_assertion(assertion, seal)


def verify_vihf(assertion: etree._Element, ca: x509.Certificate, now: datetime) -> VihfContent:
    """Check a received assertion as the DMP does; :class:`VihfInvalid` names the first problem."""
    try:
        signed, cert = verify_assertion(assertion, ca)
    except SignatureRefused as exc:
        raise VihfInvalid(f"the VIHF is refused: {exc}") from exc
    return _read(signed, cert, now)


def _read(signed: etree._Element, cert: x509.Certificate, now: datetime) -> VihfContent:
    ns = {"s": SAML}
    values: dict[str, str] = {}
    roles: list[str] = []
    for attribute in signed.findall("s:AttributeStatement/s:Attribute", ns):
        name = attribute.get("Name", "")
        coded = [el.get("code", "") for el in attribute.iter(f"{{{HL7}}}Role", f"{{{HL7}}}PurposeOfUse")]
        text = (attribute.findtext("s:AttributeValue", "", ns) or "").strip()
        values[name] = text or ",".join(coded)
        if name == SUBJECT_ROLE:
            roles.extend(coded)
    missing = [name for name in REQUIRED if not values.get(name)]
    name_id = (signed.findtext("s:Subject/s:NameID", "", ns) or "").strip()
    if not name_id:
        missing.insert(0, "Subject/NameID")
    if missing:
        raise VihfInvalid(f"the VIHF lacks {', '.join(missing)}")
    issuer = (signed.findtext("s:Issuer", "", ns) or "").strip()
    if issuer != cert.subject.rfc4514_string():
        raise VihfInvalid(f"the VIHF Issuer {issuer!r} is not the signing certificate's subject")
    conditions = signed.find("s:Conditions", ns)
    try:
        not_after = datetime.fromisoformat((conditions.get("NotOnOrAfter", "") if conditions is not None else "")
                                           .replace("Z", "+00:00"))
    except ValueError as exc:
        raise VihfInvalid("the VIHF lacks Conditions/NotOnOrAfter") from exc
    if not_after <= now:
        raise VihfInvalid(f"the VIHF expired at {_stamp(not_after)}")
    return VihfContent(name_id, values[SUBJECT_ID], tuple(roles), values["Identifiant_Structure"],
                       values[RESOURCE_ID], issuer, not_after, values)
