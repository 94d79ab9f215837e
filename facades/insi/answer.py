"""INSi answer envelopes: ``RESULTAT`` or a SOAP 1.2 fault, read into the model and written back.

Reading is tolerant of element order inside ``INSACTIF`` / ``INSHISTO`` because the INSi test
service itself sends ``DateDeb``/``DateFin`` before ``IdIndividu`` (CNDA case 2.04), against the
XSD sequence; everything else that the XSD makes mandatory is required, with its location.
Writing is what the simulator sends.
"""

from __future__ import annotations

import re

from lxml import etree

from facades.insi.envelope import RESULTAT, SIRAM, SOAP
from facades.insi.errors import InsiAnswerUnreadable, InsiFault
from facades.insi.model import Identity, Ins, Result, Traits
from resources.outside_xml import parse_outside_xml

_NS = {"soap": SOAP, "r": RESULTAT, "siram": SIRAM}
_NIR13 = re.compile(r"^\d{6}[A-Za-z0-9]\d{6}$")
_KEY = re.compile(r"^\d{2}$")
LABELS = {"00": "OK", "01": "Aucune identite trouvee", "02": "Plusieurs identites trouvees"}


def _text(parent: etree._Element, path: str) -> str:
    el = parent.find(path, _NS)
    return (el.text or "").strip() if el is not None else ""


def _ins(el: etree._Element, where: str) -> Ins:
    number = _text(el, "r:IdIndividu/r:NumIdentifiant")
    key = _text(el, "r:IdIndividu/r:Cle")
    oid = _text(el, "r:OID")
    if not _NIR13.match(number):
        raise InsiAnswerUnreadable(
            f"INSi matricule {number!r} is not 13 characters", expression=f"{where}/IdIndividu/NumIdentifiant"
        )
    if not _KEY.match(key):
        raise InsiAnswerUnreadable(
            f"INSi key {key!r} for {number} is not 2 digits", expression=f"{where}/IdIndividu/Cle"
        )
    if not oid:
        raise InsiAnswerUnreadable(f"INSi matricule {number} comes without an OID", expression=f"{where}/OID")
    return Ins(
        number=number.upper(),
        key=key,
        oid=oid,
        start=_text(el, "r:DateDeb") or None,
        end=_text(el, "r:DateFin") or None,
    )


def _identity(individu: etree._Element) -> Identity:
    where = "RESULTAT/INDIVIDU"
    active = individu.find("r:INSACTIF", _NS)
    tiq = individu.find("r:TIQ", _NS)
    if active is None or tiq is None:
        missing = "INSACTIF" if active is None else "TIQ"
        raise InsiAnswerUnreadable(f"INDIVIDU without {missing}", expression=f"{where}/{missing}")
    history = tuple(
        _ins(h, f"{where}/INSHISTO[{i}]") for i, h in enumerate(individu.findall("r:INSHISTO", _NS), start=1)
    )
    traits = Traits(
        birth_name=_text(tiq, "r:NomNaissance"),
        first_name=_text(tiq, "r:Prenom"),
        first_names=_text(tiq, "r:ListePrenom"),
        sex=_text(tiq, "r:Sexe"),
        birth_date=_text(tiq, "r:DateNaissance"),
        birthplace=_text(tiq, "r:LieuNaissance"),
    )
    return Identity(active=_ins(active, f"{where}/INSACTIF"), traits=traits, history=history)


def _local(qname: str) -> str:
    """``soap:siram_100`` -> ``siram_100``: fault codes are QNames whose prefix varies by sender."""
    return qname.rpartition(":")[2]


def _raise_fault(fault: etree._Element) -> None:
    erreur = fault.find("soap:Detail/siram:Erreur", _NS)
    raise InsiFault(
        soap_code=_local(_text(fault, "soap:Code/soap:Value")),
        subcode=_local(_text(fault, "soap:Code/soap:Subcode/soap:Value")),
        reason=_text(fault, "soap:Reason/soap:Text"),
        error_code=erreur.get("code", "") if erreur is not None else "",
        severity=erreur.get("severite", "") if erreur is not None else "",
        detail=(erreur.text or "").strip() if erreur is not None else "",
    )


def read_answer(xml: bytes) -> Result:
    """The ``RESULTAT`` of an answer; a SOAP fault raises :class:`InsiFault`."""
    try:
        env = parse_outside_xml(xml)
    except etree.XMLSyntaxError as exc:
        raise InsiAnswerUnreadable(f"INSi answer is not well-formed XML: {exc}", expression="Envelope") from exc
    body = env.find("soap:Body", _NS) if env.tag == f"{{{SOAP}}}Envelope" else None
    if body is None:
        raise InsiAnswerUnreadable(
            f"INSi answer root {env.tag} is not a SOAP 1.2 envelope with a Body", expression="Envelope"
        )
    fault = body.find("soap:Fault", _NS)
    if fault is not None:
        _raise_fault(fault)
    resultat = body.find("r:RESULTAT", _NS)
    if resultat is None:
        raise InsiAnswerUnreadable("INSi answer Body holds no RESULTAT", expression="Envelope/Body")
    code = _text(resultat, "r:CR/r:CodeCR")
    if not code:
        raise InsiAnswerUnreadable("RESULTAT without CR/CodeCR", expression="RESULTAT/CR/CodeCR")
    individu = resultat.find("r:INDIVIDU", _NS)
    identity = _identity(individu) if individu is not None else None
    if code == "00" and identity is None:
        raise InsiAnswerUnreadable("CodeCR 00 without INDIVIDU", expression="RESULTAT/INDIVIDU")
    return Result(code=code, label=_text(resultat, "r:CR/r:LibelleCR"), identity=identity)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{RESULTAT}}}{tag}")
    el.text = text
    return el


def _write_ins(parent: etree._Element, tag: str, ins: Ins) -> None:
    el = _sub(parent, tag)
    ident = _sub(el, "IdIndividu")
    _sub(ident, "NumIdentifiant", ins.number)
    _sub(ident, "Cle", ins.key)
    _sub(el, "OID", ins.oid)
    if ins.start:
        _sub(el, "DateDeb", ins.start)
    if ins.end:
        _sub(el, "DateFin", ins.end)


def resultat_element(result: Result) -> etree._Element:
    """``RESULTAT`` in the XSD's element order, omitting empty optional traits."""
    root = etree.Element(f"{{{RESULTAT}}}RESULTAT", nsmap={None: RESULTAT})
    cr = _sub(root, "CR")
    _sub(cr, "CodeCR", result.code)
    _sub(cr, "LibelleCR", result.label or LABELS.get(result.code, ""))
    if result.identity is not None:
        individu = _sub(root, "INDIVIDU")
        _write_ins(individu, "INSACTIF", result.identity.active)
        for old in result.identity.history:
            _write_ins(individu, "INSHISTO", old)
        tiq = _sub(individu, "TIQ")
        t = result.identity.traits
        for tag, value in (
            ("NomNaissance", t.birth_name),
            ("Prenom", t.first_name),
            ("ListePrenom", t.first_names),
            ("Sexe", t.sex),
            ("DateNaissance", t.birth_date),
            ("LieuNaissance", t.birthplace),
        ):
            if value:
                _sub(tiq, tag, value)
    return root


def answer_envelope(resultat: etree._Element) -> bytes:
    """Wrap a ``RESULTAT`` element (built, or taken from a recorded answer) in a SOAP 1.2 envelope."""
    env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP})
    etree.SubElement(env, f"{{{SOAP}}}Body").append(resultat)
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))


def fault_envelope(
    *,
    subcode: str,
    reason: str,
    error_code: str,
    detail: str,
    severity: str = "erreur",
    message_id: str = "",
    soap_code: str = "soap:Sender",
) -> bytes:
    """A SOAP 1.2 fault shaped like the INSi's: siram subcode, French reason, ``siram:Erreur`` detail."""
    env = etree.Element(f"{{{SOAP}}}Envelope", nsmap={"soap": SOAP, "siram": SIRAM})
    fault = etree.SubElement(etree.SubElement(env, f"{{{SOAP}}}Body"), f"{{{SOAP}}}Fault")
    code = etree.SubElement(fault, f"{{{SOAP}}}Code")
    etree.SubElement(code, f"{{{SOAP}}}Value").text = soap_code
    etree.SubElement(etree.SubElement(code, f"{{{SOAP}}}Subcode"), f"{{{SOAP}}}Value").text = f"soap:{subcode}"
    text = etree.SubElement(etree.SubElement(fault, f"{{{SOAP}}}Reason"), f"{{{SOAP}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    text.text = reason
    erreur = etree.SubElement(
        etree.SubElement(fault, f"{{{SOAP}}}Detail"),
        f"{{{SIRAM}}}Erreur",
        {"code": error_code, "severite": severity},
    )
    if message_id:
        erreur.set("messageID", message_id)
    erreur.text = detail
    return bytes(etree.tostring(env, xml_declaration=True, encoding="UTF-8"))
