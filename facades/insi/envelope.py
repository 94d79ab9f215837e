"""INSi request envelopes (SOAP 1.2, document/literal), written and read with lxml.

The header carries what the WSDL binding declares for both operations: ``ctxbam:ContexteBAM``
(version 01_02), ``ctxlps:ContexteLPS`` (nature CTXLPS, version 01_00, with the software's
IDAM authorisation number, version, instance and name), ``wsa:Action`` and ``wsa:MessageID``.
The lab authenticates with its organisation certificate at the TLS layer; when the caller names the
professional (``Caller.professional``), ``wsse:Security`` carries a VIHF naming them (SGL.INS.48).
Reading is used by the simulator, and doubles
as a check that what we write is what the service parses.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from facades.insi.errors import InsiRequestInvalid
from facades.insi.model import Caller, CarteVitaleQuery, Matricule, Operation, Software, TraitsQuery
from facades.insi.vihf import WSSE, VihfSummary, build_vihf, read_vihf, security_header
from facades.xmlsig import Seal, sign_assertion
from resources.outside_xml import parse_outside_xml

SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
CTXBAM = "urn:siram:bam:ctxbam"
CTXLPS = "urn:siram:lps:ctxlps"
RECSANS = "http://www.cnamts.fr/INSiRecSans"
RECVIT = "http://www.cnamts.fr/INSiRecVit"
RESULTAT = "http://www.cnamts.fr/INSiResultat"
SIRAM = "urn:siram"
NSMAP = {"soap": SOAP, "wsa": WSA, "ctxbam": CTXBAM, "ctxlps": CTXLPS}
CONTENT_TYPE = "application/soap+xml; charset=utf-8"

_NAME = re.compile(r"^[A-Z]+(?:(?:-{1,2}|[' ])[A-Z]+)*$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COG = re.compile(r"^[A-Za-z0-9]{5}$")
_NIR13 = re.compile(r"^\d{6}[AB0-9]\d{6}$")
_BODY_OPERATION = {
    f"{{{RECSANS}}}RECSANSVITALE": Operation.SEARCH_TRAITS,
    f"{{{RECVIT}}}RECVITALE": Operation.SEARCH_CARTE_VITALE,
}


@dataclass(frozen=True)
class Request:
    """A serialised request and what the trace needs to know about it."""

    operation: Operation
    message_id: str
    xml: bytes

    @property
    def content_type(self) -> str:
        return f'{CONTENT_TYPE}; action="{self.operation.action}"'


def normalise_name(value: str) -> str:
    """Upper-case without diacritics, as INSi expects names (``Élodie`` -> ``ELODIE``)."""
    decomposed = unicodedata.normalize("NFKD", value.strip())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def _name(value: str, where: str) -> str:
    name = normalise_name(value)
    if not _NAME.match(name):
        raise InsiRequestInvalid(
            f"{value!r} is not a name INSi accepts (letters, with hyphen, apostrophe or space between them)",
            expression=where,
        )
    return name


def _date(value: str, where: str) -> str:
    if not _DATE.match(value or ""):
        raise InsiRequestInvalid(
            f"birth date {value!r} must be YYYY-MM-DD (00 allowed for day or month)", expression=where
        )
    return value


def _sub(parent: etree._Element, ns: str, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        el.text = text
    return el


def _context(header: etree._Element, ns: str, software: Software, caller: Caller, now: datetime) -> None:
    emitter = caller.user if ns == CTXBAM else caller.structure
    attrs = {"Version": "01_02"} if ns == CTXBAM else {"Nature": "CTXLPS", "Version": "01_00"}
    ctx = etree.SubElement(header, f"{{{ns}}}{'ContexteBAM' if ns == CTXBAM else 'ContexteLPS'}", attrs)
    _sub(ctx, ns, "Id", str(uuid.uuid4()))
    _sub(ctx, ns, "Temps", now.isoformat(timespec="milliseconds").replace("+00:00", "Z"))
    _sub(ctx, ns, "Emetteur", emitter)
    if ns == CTXBAM:
        _sub(ctx, ns, "COUVERTURE")
        return
    lps = _sub(ctx, ns, "LPS")
    _sub(lps, ns, "IDAM", software.idam).set("R", "4")
    _sub(lps, ns, "Version", software.version)
    _sub(lps, ns, "Instance", software.instance)
    _sub(lps, ns, "Nom", software.name)


def _envelope(
    operation: Operation, software: Software, caller: Caller, now: datetime, seal: Seal | None = None
) -> tuple[etree._Element, etree._Element, str]:
    env = etree.Element(f"{{{SOAP}}}Envelope", nsmap=NSMAP)
    header = _sub(env, SOAP, "Header")
    _context(header, CTXBAM, software, caller, now)
    _context(header, CTXLPS, software, caller, now)
    _sub(header, WSA, "Action", operation.action)
    if caller.professional is not None:
        issuer = seal.subject_dn if seal else caller.vihf_issuer or caller.structure
        vihf = build_vihf(caller.professional, issuer=issuer, structure_id=caller.structure, software=software, now=now)
        header.append(security_header(sign_assertion(vihf, seal) if seal else vihf))
    message_id = f"uuid:{uuid.uuid4()}"
    _sub(header, WSA, "MessageID", message_id)
    return env, _sub(env, SOAP, "Body"), message_id


def _serialise(operation: Operation, env: etree._Element, message_id: str) -> Request:
    return Request(operation, message_id, etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def traits_request(
    query: TraitsQuery,
    software: Software,
    caller: Caller,
    now: datetime,
    operation: Operation = Operation.SEARCH_TRAITS,
    seal: Seal | None = None,
) -> Request:
    """``RECSANSVITALE`` in the XSD's element order; every first name given becomes one ``Prenom``.

    With ``seal`` (the structure's seal certificate) the VIHF is signed (facades/xmlsig)."""
    where = "RECSANSVITALE"
    if not query.first_names:
        raise InsiRequestInvalid("at least one first name is required", expression=f"{where}/Prenom")
    if query.sex not in ("M", "F"):
        raise InsiRequestInvalid(f"sex {query.sex!r} must be M or F", expression=f"{where}/Sexe")
    if query.birthplace is not None and not _COG.match(query.birthplace):
        raise InsiRequestInvalid(
            f"birthplace {query.birthplace!r} must be a 5-character INSEE code",
            expression=f"{where}/LieuNaissance",
        )
    env, body, message_id = _envelope(operation, software, caller, now, seal)
    rec = etree.SubElement(body, f"{{{RECSANS}}}RECSANSVITALE", nsmap={"insi_recsans_ins": RECSANS})
    _sub(rec, RECSANS, "NomNaissance", _name(query.birth_name, f"{where}/NomNaissance"))
    for i, first in enumerate(query.first_names, start=1):
        _sub(rec, RECSANS, "Prenom", _name(first, f"{where}/Prenom[{i}]"))
    _sub(rec, RECSANS, "Sexe", query.sex)
    _sub(rec, RECSANS, "DateNaissance", _date(query.birth_date, f"{where}/DateNaissance"))
    if query.birthplace is not None:
        _sub(rec, RECSANS, "LieuNaissance", query.birthplace.upper())
    return _serialise(operation, env, message_id)


def _matricule(parent: etree._Element, tag: str, value: Matricule | None) -> None:
    if value is None:
        return
    where = f"RECVITALE/{tag}/NumIdentifiant"
    if not _NIR13.match(value.number.upper()):
        raise InsiRequestInvalid(f"{value.number!r} is not a 13-character NIR", expression=where)
    el = _sub(parent, RECVIT, tag)
    _sub(el, RECVIT, "NumIdentifiant", value.number.upper())
    if value.key is not None:
        _sub(el, RECVIT, "Cle", value.key)
    if value.kind is not None:
        _sub(el, RECVIT, "TypeMatricule", value.kind)


def carte_vitale_request(query: CarteVitaleQuery, software: Software, caller: Caller, now: datetime,
                         seal: Seal | None = None) -> Request:
    """``RECVITALE``: the beneficiary's matricules, birth name, birth date and rank from the card."""
    operation = Operation.SEARCH_CARTE_VITALE
    if not query.birth_rank.isdigit():
        raise InsiRequestInvalid(
            f"birth rank {query.birth_rank!r} must be digits", expression="RECVITALE/RangNaissance"
        )
    env, body, message_id = _envelope(operation, software, caller, now, seal)
    rec = etree.SubElement(body, f"{{{RECVIT}}}RECVITALE", nsmap={"insi_recvit_ins": RECVIT})
    _matricule(rec, "MatriculeIndividu", query.individual)
    _matricule(rec, "MatriculeOD", query.insured)
    _sub(rec, RECVIT, "NomNaissance", _name(query.birth_name, "RECVITALE/NomNaissance"))
    _sub(rec, RECVIT, "DateNaissance", _date(query.birth_date, "RECVITALE/DateNaissance"))
    _sub(rec, RECVIT, "RangNaissance", query.birth_rank)
    return _serialise(operation, env, message_id)


@dataclass(frozen=True)
class ReceivedRequest:
    """A request as the service reads it (used by the simulator)."""

    operation: Operation
    message_id: str
    idam: str
    query: TraitsQuery | CarteVitaleQuery
    vihf: VihfSummary | None = None


def _text(parent: etree._Element, path: str, ns: dict[str, str]) -> str:
    el = parent.find(path, ns)
    return (el.text or "").strip() if el is not None else ""


def _required_header(header: etree._Element | None, tag: str) -> etree._Element:
    el = header.find(tag, NSMAP) if header is not None else None
    if el is None:
        raise InsiRequestInvalid(f"SOAP header {tag} is missing", expression=f"Envelope/Header/{tag}")
    return el


def _read_matricule(rec: etree._Element, tag: str) -> Matricule | None:
    el = rec.find(f"v:{tag}", {"v": RECVIT})
    if el is None:
        return None
    ns = {"v": RECVIT}
    return Matricule(
        _text(el, "v:NumIdentifiant", ns),
        _text(el, "v:Cle", ns) or None,
        _text(el, "v:TypeMatricule", ns) or None,
    )


def read_request(xml: bytes) -> ReceivedRequest:
    """Parse a request envelope; anything the WSDL requires and is missing raises with its location."""
    try:
        env = parse_outside_xml(xml)
    except etree.XMLSyntaxError as exc:
        raise InsiRequestInvalid(f"request is not well-formed XML: {exc}", expression="Envelope") from exc
    if env.tag != f"{{{SOAP}}}Envelope":
        raise InsiRequestInvalid(f"root element {env.tag} is not a SOAP 1.2 Envelope", expression="Envelope")
    header = env.find("soap:Header", NSMAP)
    _required_header(header, "ctxbam:ContexteBAM")
    lps = _required_header(header, "ctxlps:ContexteLPS")
    action = (_required_header(header, "wsa:Action").text or "").strip()
    message_id = (_required_header(header, "wsa:MessageID").text or "").strip()
    body = env.find("soap:Body", NSMAP)
    rec = body[0] if body is not None and len(body) else None
    if rec is None or rec.tag not in _BODY_OPERATION:
        raise InsiRequestInvalid("Body holds neither RECSANSVITALE nor RECVITALE", expression="Envelope/Body")
    operation = _BODY_OPERATION[rec.tag]
    if action != operation.action:
        raise InsiRequestInvalid(
            f"wsa:Action {action!r} does not match the body ({operation.action})",
            expression="Envelope/Header/Action",
        )
    query: TraitsQuery | CarteVitaleQuery
    if operation is Operation.SEARCH_TRAITS:
        ns = {"r": RECSANS}
        query = TraitsQuery(
            birth_name=_text(rec, "r:NomNaissance", ns),
            first_names=tuple((p.text or "").strip() for p in rec.findall("r:Prenom", ns)),
            sex=_text(rec, "r:Sexe", ns),
            birth_date=_text(rec, "r:DateNaissance", ns),
            birthplace=_text(rec, "r:LieuNaissance", ns) or None,
        )
    else:
        ns = {"v": RECVIT}
        query = CarteVitaleQuery(
            birth_name=_text(rec, "v:NomNaissance", ns),
            birth_date=_text(rec, "v:DateNaissance", ns),
            birth_rank=_text(rec, "v:RangNaissance", ns),
            individual=_read_matricule(rec, "MatriculeIndividu"),
            insured=_read_matricule(rec, "MatriculeOD"),
        )
    security = header.find(f"{{{WSSE}}}Security") if header is not None else None
    vihf = read_vihf(security) if security is not None else None
    return ReceivedRequest(operation, message_id, _text(lps, "ctxlps:LPS/ctxlps:IDAM", NSMAP), query, vihf)
