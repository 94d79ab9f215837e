"""TD0.9 "Accès Web-PS contextuel": open the DMP professional web portal on one patient and one page
(SGL.DMP.05, DMP.06), built by the LPS for the professional it authenticated.

What the public sources say (``shared/reference/identity.md`` §6): the LPS opens the browser on the
web-PS root URL (configurable) with the patient's INS and the target page (``TableauDeBord``,
``DossierPatient``, ...), and the professional is authenticated either by a CPx card in the browser or by
a context passed by the LPS in an HTTP POST; in the "AIR" mode (TD0.10, Pro Santé Connect) the LPS builds
a VIHF. The exact field names of the GI DMP (SEL-MP-037) were not public: the ones below are this
project's, one per fact the guide asks for, so that renaming them to the guide's is a change of
:data:`FIELDS` only.

The call is an HTML form POST (``application/x-www-form-urlencoded``) to the web-PS URL:

``page``   the web-PS page (:data:`PAGES`)
``ins``    the patient, as the VIHF resource-id: ``<matricule>^^^&<INS OID>&ISO^NH``
``ps``     the professional's national id (``8`` + RPPS)
``mode``   Authentification_Mode: ``INDIRECTE`` (local account), ``INDIRECTE_RENFORCEE`` (Pro Santé Connect)
``vihf``   the signed VIHF (base64 of the SAML assertion) naming the professional, the structure and the patient

:func:`read_call` is what the receiving side does (``sgl dmp-simulator``'s landing page): every field
present and well formed, the VIHF signed by a certificate of its CA and not expired, and the VIHF saying the
same patient, professional and mode as the fields.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from lxml import etree

from facades.dmp.model import Person, Software, Structure, Submission, VihfSubject
from facades.dmp.vihf import LIFETIME, VihfContent, VihfInvalid, build_vihf, verify_vihf
from facades.xmlsig import Seal
from resources.outside_xml import parse_outside_xml

PAGES = {"patient-file": "DossierPatient", "dashboard": "TableauDeBord"}
"""The targets the workbench offers (SGL.DMP.06: at least the patient file and the PS dashboard) -> web-PS page."""
ALL_PAGES = ("TableauDeBord", "DossierPatient", "GestionDMPPatient", "Documents", "ParcoursDeSoins",
             "HistoriqueAcces", "Parametrages", "VolontesEtDroits")
MODES = {"password": ("INDIRECTE", "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
         "psc": ("INDIRECTE_RENFORCEE", "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered")}
"""How the professional logged in to the LPS -> (Authentification_Mode, AuthnContextClassRef) of the VIHF."""
FIELDS = ("page", "ins", "ps", "mode", "vihf")
_INS = re.compile(r"^\d{15}\^\^\^&[0-9.]+&ISO\^NH$")
_PS = re.compile(r"^8\d{11}$")


class CallRefused(ValueError):
    """The web-PS refuses a TD0.9 call; the message says which field or check."""


@dataclass(frozen=True)
class WebCall:
    """One contextual call: POST ``fields`` to ``url`` (the browser does it: an auto-submitted form)."""

    url: str
    page: str
    mode: str
    fields: dict[str, str]
    expires: datetime


def build_call(base_url: str, target: str, ins: str, ins_oid: str, professional: Person, structure: Structure,
               software: Software, seal: Seal, login: str, now: datetime) -> WebCall:
    """The TD0.9 call to ``target`` (:data:`PAGES` key) about the patient ``ins`` for ``professional``,
    who logged in to the LPS by ``login`` (:data:`MODES` key)."""
    if target not in PAGES:
        raise CallRefused(f"target {target!r}: one of {', '.join(PAGES)}")
    mode, authn_class = MODES.get(login, MODES["password"])
    subject = VihfSubject.professional(professional, authn_class=authn_class)
    patient = Submission(ins, ins_oid, (), professional, structure)
    assertion = build_vihf(subject, patient, software, seal, now, mode=mode)
    vihf = base64.b64encode(etree.tostring(assertion)).decode("ascii")
    fields = {"page": PAGES[target], "ins": patient.patient_id, "ps": professional.national_id, "mode": mode,
              "vihf": vihf}
    return WebCall(base_url, PAGES[target], mode, fields, now + LIFETIME)


@dataclass(frozen=True)
class Landing:
    """What the web-PS received and accepted."""

    page: str
    ins: str
    vihf: VihfContent


def read_call(form: Mapping[str, str], ca: x509.Certificate, now: datetime) -> Landing:
    """Check a received TD0.9 call as the web-PS would; :class:`CallRefused` names the first problem."""
    missing = [name for name in FIELDS if not str(form.get(name, "")).strip()]
    if missing:
        raise CallRefused(f"missing field(s): {', '.join(missing)}")
    page, ins, ps, mode = (str(form[name]).strip() for name in ("page", "ins", "ps", "mode"))
    if page not in ALL_PAGES:
        raise CallRefused(f"unknown page {page!r}")
    if not _INS.match(ins):
        raise CallRefused("ins is not <matricule>^^^&<OID>&ISO^NH")
    if not _PS.match(ps):
        raise CallRefused("ps is not a national id (8 + RPPS)")
    try:
        assertion = parse_outside_xml(base64.b64decode(str(form["vihf"]), validate=True))
        vihf = verify_vihf(assertion, ca, now)
    except (binascii.Error, ValueError, etree.XMLSyntaxError) as exc:
        raise CallRefused(f"vihf is not a base64 SAML assertion: {exc}") from exc
    except VihfInvalid as exc:
        raise CallRefused(str(exc)) from exc
    if vihf.resource_id != ins:
        raise CallRefused("the VIHF names another patient than ins")
    if vihf.name_id != ps:
        raise CallRefused("the VIHF names another professional than ps")
    if vihf.attributes.get("Authentification_Mode") != mode:
        raise CallRefused("the VIHF's Authentification_Mode is not mode")
    return Landing(page, ins, vihf)
