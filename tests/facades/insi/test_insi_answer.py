"""Answer envelopes: every kit answer is read; what the simulator writes is valid and reads back the same."""

from __future__ import annotations

import pytest
from lxml import etree

from facades.insi import Identity, Ins, InsiAnswerUnreadable, InsiFault, Result, Traits
from facades.insi.answer import answer_envelope, fault_envelope, read_answer, resultat_element
from tests.support.insi_kit import KIT

ANSWERS = KIT / "test-identities"
RESULTAT_XSD = etree.XMLSchema(etree.parse(str(KIT / "wsdl/xsd/ServiceIdentiteCertifiee/INSi_RESULTAT_INS.xsd")))


@pytest.mark.parametrize(
    ("name", "code", "matricule", "oid", "history"),
    [
        ("REP_CR00_ADRTROIS_DOMINIQUE.xml", "00", "297022A02077878", "1.2.250.1.213.1.4.8", 0),
        ("REP_CR00_ADRTROIS_TOUSSAINT.xml", "00", "160012B02077713", "1.2.250.1.213.1.4.8", 0),
        ("REP_CR00_ECETINSI_PIERRE-ALAIN.xml", "00", "109076322083489", "1.2.250.1.213.1.4.8", 2),
        ("REP_CR00_TCHITCHI_CATARINA.xml", "00", "236066322083656", "1.2.250.1.213.1.4.8", 0),
        ("TEST_2.04_cas2.xml", "00", "109076322083489", "1.2.250.1.213.1.4.8", 2),
        ("TEST_2.05.xml", "00", "109076322088835", "1.2.250.1.213.1.4.9", 0),
        ("TEST_2.08_cas1.xml", "00", "180032B02040123", "1.2.250.1.213.1.4.8", 1),
        ("TEST_2.08_cas2.xml", "00", "181036322045660", "1.2.250.1.213.1.4.8", 2),
        ("REP_CR01.xml", "01", None, None, 0),
        ("REP_CR02_DE_VINCI_LEONARDO.xml", "02", None, None, 0),
    ],
)
def test_every_kit_answer_is_read(name: str, code: str, matricule: str | None, oid: str | None, history: int) -> None:
    result = read_answer((ANSWERS / name).read_bytes())
    assert result.code == code
    if matricule is None:
        assert result.identity is None
        return
    assert result.identity is not None
    assert (result.identity.active.matricule, result.identity.active.oid) == (matricule, oid)
    assert len(result.identity.history) == history


def test_nia_answer_carries_prenom_and_list() -> None:
    result = read_answer((ANSWERS / "TEST_2.05.xml").read_bytes())
    assert result.identity is not None
    t = result.identity.traits
    assert (t.birth_name, t.first_name, t.first_names, t.sex, t.birth_date, t.birthplace) == (
        "PROVISOIRE",
        "MATRICULE",
        "MATRICULE",
        "M",
        "2009-07-01",
        "63220",
    )


def test_hermann_key_is_read_but_flagged_inconsistent() -> None:
    result = read_answer((ANSWERS / "TEST_2.08_cas2.xml").read_bytes())
    assert result.identity is not None
    assert not result.identity.active.key_is_consistent
    assert result.identity.history[1].matricule == "281036322045610"


IDENTITY = Identity(
    active=Ins("1090763220834", "89", "1.2.250.1.213.1.4.8"),
    traits=Traits("ECETINSI", "PIERRE-ALAIN", "PIERRE-ALAIN MURIEL FLORIANT", "M", "2009-07-14", "63220"),
    history=(Ins("2090763220834", "39", "1.2.250.1.213.1.4.8", "2019-03-01", "2019-02-28"),),
)


def test_written_answer_is_schema_valid_and_reads_back_identically() -> None:
    result = Result(code="00", label="OK", identity=IDENTITY)
    element = resultat_element(result)
    assert RESULTAT_XSD.validate(element), RESULTAT_XSD.error_log
    assert read_answer(answer_envelope(element)) == result


def test_written_not_found_answer_gets_the_insi_label() -> None:
    element = resultat_element(Result(code="01", label=""))
    assert RESULTAT_XSD.validate(element), RESULTAT_XSD.error_log
    assert read_answer(answer_envelope(element)).label == "Aucune identite trouvee"


def test_fault_is_raised_with_code_subcode_severity_and_detail() -> None:
    xml = fault_envelope(
        subcode="siram_40",
        error_code="insi_102",
        severity="fatale",
        reason="Service temporairement inaccessible.",
        detail="Erreur technique traits d'identité.",
        message_id="uuid:1",
    )
    with pytest.raises(InsiFault) as caught:
        read_answer(xml)
    fault = caught.value
    assert (fault.soap_code, fault.subcode, fault.error_code, fault.severity) == (
        "Sender",
        "siram_40",
        "insi_102",
        "fatale",
    )
    assert fault.reason == "Service temporairement inaccessible."
    assert fault.detail == "Erreur technique traits d'identité."
    assert fault.status == 422
    assert "insi_102" in fault.outcome()["issue"][0]["diagnostics"]


def _answer(body: str) -> bytes:
    return (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        f'<RESULTAT xmlns="http://www.cnamts.fr/INSiResultat">{body}</RESULTAT></soap:Body></soap:Envelope>'
    ).encode()


_ACTIVE = "<INSACTIF><IdIndividu><NumIdentifiant>{n}</NumIdentifiant><Cle>{k}</Cle></IdIndividu>{oid}</INSACTIF>"
_OK = "<CR><CodeCR>00</CodeCR><LibelleCR>OK</LibelleCR></CR>"
_TIQ = "<TIQ><NomNaissance>X</NomNaissance></TIQ>"


@pytest.mark.parametrize(
    ("xml", "where"),
    [
        (b"<soap:Envelope", "Envelope"),
        (b"<Envelope/>", "Envelope"),
        (
            b'<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body/></soap:Envelope>',
            "Envelope/Body",
        ),
        (_answer("<CR><LibelleCR>OK</LibelleCR></CR>"), "RESULTAT/CR/CodeCR"),
        (_answer(_OK), "RESULTAT/INDIVIDU"),
        (_answer(_OK + "<INDIVIDU>" + _TIQ + "</INDIVIDU>"), "RESULTAT/INDIVIDU/INSACTIF"),
        (
            _answer(
                _OK + "<INDIVIDU>" + _ACTIVE.format(n="2751263220749", k="74", oid="<OID>1.2</OID>") + "</INDIVIDU>"
            ),
            "RESULTAT/INDIVIDU/TIQ",
        ),
        (
            _answer(
                _OK + "<INDIVIDU>" + _ACTIVE.format(n="27512632", k="74", oid="<OID>1.2</OID>") + _TIQ + "</INDIVIDU>"
            ),
            "RESULTAT/INDIVIDU/INSACTIF/IdIndividu/NumIdentifiant",
        ),
        (
            _answer(
                _OK
                + "<INDIVIDU>"
                + _ACTIVE.format(n="2751263220749", k="7", oid="<OID>1.2</OID>")
                + _TIQ
                + "</INDIVIDU>"
            ),
            "RESULTAT/INDIVIDU/INSACTIF/IdIndividu/Cle",
        ),
        (
            _answer(_OK + "<INDIVIDU>" + _ACTIVE.format(n="2751263220749", k="74", oid="") + _TIQ + "</INDIVIDU>"),
            "RESULTAT/INDIVIDU/INSACTIF/OID",
        ),
    ],
    ids=[
        "not-xml",
        "not-soap",
        "empty-body",
        "no-code",
        "00-without-individu",
        "no-insactif",
        "no-tiq",
        "short-nir",
        "short-key",
        "no-oid",
    ],
)
def test_unreadable_answers_are_refused_with_their_location(xml: bytes, where: str) -> None:
    with pytest.raises(InsiAnswerUnreadable) as caught:
        read_answer(xml)
    assert caught.value.expression == [where]
    assert caught.value.status == 503


def test_kit_answers_are_all_covered() -> None:
    listed = {p.name for p in ANSWERS.glob("*.xml") if not p.name.startswith("REQ_")}
    assert len(listed) == 10
