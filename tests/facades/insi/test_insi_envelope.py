"""Request envelopes: valid against the kit's XSDs, headers as the WSDL binding wants, bad input located."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from facades.insi import CarteVitaleQuery, InsiRequestInvalid, Matricule, Operation, TraitsQuery
from facades.insi.envelope import (
    CTXBAM,
    CTXLPS,
    NSMAP,
    RECSANS,
    RECVIT,
    SOAP,
    carte_vitale_request,
    normalise_name,
    read_request,
    traits_request,
)
from tests.support.insi_kit import CALLER, KIT, SOFTWARE

XSD = KIT / "wsdl/xsd"
NOW = datetime(2026, 11, 26, 8, 30, 0, 123000, tzinfo=UTC)
QUERY = TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", birthplace="2A020")


def _schema(relative: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD / relative)))


def _valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    copy = etree.fromstring(etree.tostring(element))
    assert schema.validate(copy), schema.error_log


def test_traits_request_body_and_headers_validate_against_the_kit_xsds() -> None:
    env = etree.fromstring(traits_request(QUERY, SOFTWARE, CALLER, NOW).xml)
    _valid(_schema("ServiceIdentiteCertifiee/INSi_RECSANS_INS.xsd"), env.find(f"{{{SOAP}}}Body")[0])
    _valid(_schema("CTX/ROOT_ctxlps_CTXLPS_V01_00.xsd"), env.find(f"soap:Header/{{{CTXLPS}}}ContexteLPS", NSMAP))
    _valid(_schema("CTX/ROOT_ctxbam_CTXBAM_V01_02.xsd"), env.find(f"soap:Header/{{{CTXBAM}}}ContexteBAM", NSMAP))


def test_carte_vitale_request_body_validates_against_the_kit_xsd() -> None:
    query = CarteVitaleQuery("ADRUN", "1975-12-31", "1", individual=Matricule("2751263220749", "74", "1"))
    env = etree.fromstring(carte_vitale_request(query, SOFTWARE, CALLER, NOW).xml)
    body = env.find(f"{{{SOAP}}}Body")[0]
    _valid(_schema("ServiceIdentiteCertifiee/INSi_RECVITALE_INS.xsd"), body)
    assert [etree.QName(c).localname for c in body] == [
        "MatriculeIndividu",
        "NomNaissance",
        "DateNaissance",
        "RangNaissance",
    ]


def test_headers_carry_software_lab_user_action_and_message_id() -> None:
    request = traits_request(QUERY, SOFTWARE, CALLER, NOW)
    env = etree.fromstring(request.xml)
    header = env.find("soap:Header", NSMAP)
    assert [etree.QName(c).localname for c in header] == ["ContexteBAM", "ContexteLPS", "Action", "MessageID"]
    bam = header.find("ctxbam:ContexteBAM", NSMAP)
    lps = header.find("ctxlps:ContexteLPS", NSMAP)
    assert bam.get("Version") == "01_02"
    assert (lps.get("Nature"), lps.get("Version")) == ("CTXLPS", "01_00")
    assert bam.findtext("ctxbam:Emetteur", namespaces=NSMAP) == CALLER.user
    assert lps.findtext("ctxlps:Emetteur", namespaces=NSMAP) == CALLER.structure
    assert bam.findtext("ctxbam:Temps", namespaces=NSMAP) == "2026-11-26T08:30:00.123Z"
    idam = lps.find("ctxlps:LPS/ctxlps:IDAM", NSMAP)
    assert (idam.text, idam.get("R")) == (SOFTWARE.idam, "4")
    assert lps.findtext("ctxlps:LPS/ctxlps:Nom", namespaces=NSMAP) == SOFTWARE.name
    assert lps.findtext("ctxlps:LPS/ctxlps:Version", namespaces=NSMAP) == SOFTWARE.version
    assert lps.findtext("ctxlps:LPS/ctxlps:Instance", namespaces=NSMAP) == SOFTWARE.instance
    assert header.findtext("wsa:Action", namespaces=NSMAP) == (
        "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
    )
    assert header.findtext("wsa:MessageID", namespaces=NSMAP) == request.message_id
    assert request.message_id.startswith("uuid:")
    action = "urn:ServiceIdentiteCertifiee:1.0.0:rechercherInsAvecTraitsIdentite"
    assert request.content_type == f'application/soap+xml; charset=utf-8; action="{action}"'


def test_each_request_gets_fresh_identifiers() -> None:
    first = traits_request(QUERY, SOFTWARE, CALLER, NOW)
    second = traits_request(QUERY, SOFTWARE, CALLER, NOW)
    assert first.message_id != second.message_id


def test_verification_is_sent_as_the_wsdl_traits_search() -> None:
    request = traits_request(QUERY, SOFTWARE, CALLER, NOW, operation=Operation.VERIFY)
    assert request.operation is Operation.VERIFY
    assert read_request(request.xml).operation is Operation.SEARCH_TRAITS


def test_several_first_names_become_several_prenom_elements_in_order() -> None:
    query = TraitsQuery("ecetinsi", ("Pierre-Alain", "Muriel"), "M", "2009-07-14")
    env = etree.fromstring(traits_request(query, SOFTWARE, CALLER, NOW).xml)
    names = [p.text for p in env.iter(f"{{{RECSANS}}}Prenom")]
    assert names == ["PIERRE-ALAIN", "MURIEL"]


def test_names_are_upper_cased_without_diacritics() -> None:
    assert normalise_name("  Hélène-Françoise d'Arc ") == "HELENE-FRANCOISE D'ARC"


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (TraitsQuery("", ("DOMINIQUE",), "F", "1997-02-26"), "RECSANSVITALE/NomNaissance"),
        (TraitsQuery("ADR3", ("DOMINIQUE",), "F", "1997-02-26"), "RECSANSVITALE/NomNaissance"),
        (TraitsQuery("ADRTROIS", (), "F", "1997-02-26"), "RECSANSVITALE/Prenom"),
        (TraitsQuery("ADRTROIS", ("DOMINIQUE", "X_Y"), "F", "1997-02-26"), "RECSANSVITALE/Prenom[2]"),
        (TraitsQuery("ADRTROIS", ("DOMINIQUE",), "U", "1997-02-26"), "RECSANSVITALE/Sexe"),
        (TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "26/02/1997"), "RECSANSVITALE/DateNaissance"),
        (TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26", "2A0"), "RECSANSVITALE/LieuNaissance"),
    ],
)
def test_invalid_traits_are_refused_with_their_location(query: TraitsQuery, where: str) -> None:
    with pytest.raises(InsiRequestInvalid) as caught:
        traits_request(query, SOFTWARE, CALLER, NOW)
    assert caught.value.expression == [where]
    assert caught.value.status == 400


def test_date_with_unknown_day_may_be_searched() -> None:
    query = TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-00")
    assert b"1997-02-00" in traits_request(query, SOFTWARE, CALLER, NOW).xml


@pytest.mark.parametrize(
    ("query", "where"),
    [
        (CarteVitaleQuery("ADRUN", "1975-12-31", "A"), "RECVITALE/RangNaissance"),
        (
            CarteVitaleQuery("ADRUN", "1975-12-31", "1", insured=Matricule("27512")),
            "RECVITALE/MatriculeOD/NumIdentifiant",
        ),
        (CarteVitaleQuery("ADRUN", "31-12-1975", "1"), "RECVITALE/DateNaissance"),
    ],
)
def test_invalid_carte_vitale_data_is_refused_with_its_location(query: CarteVitaleQuery, where: str) -> None:
    with pytest.raises(InsiRequestInvalid) as caught:
        carte_vitale_request(query, SOFTWARE, CALLER, NOW)
    assert caught.value.expression == [where]


def test_request_read_back_gives_the_same_query_and_idam() -> None:
    received = read_request(traits_request(QUERY, SOFTWARE, CALLER, NOW).xml)
    assert received.query == QUERY
    assert received.idam == SOFTWARE.idam
    query = CarteVitaleQuery("ADRUN", "1975-12-31", "1", Matricule("2751263220749", "74"), Matricule("2751263220749"))
    assert read_request(carte_vitale_request(query, SOFTWARE, CALLER, NOW).xml).query == query


def test_kit_sample_request_is_read() -> None:
    sample = (KIT / "test-identities/REQ_rechercherInsAvecTraitsIdentite_ADRTROIS_DOMINIQUE.xml").read_bytes()
    received = read_request(sample)
    assert received.query == TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26")
    assert received.idam == "PDP17NF21DD0"


def _without(xpath: str) -> bytes:
    env = etree.fromstring(traits_request(QUERY, SOFTWARE, CALLER, NOW).xml)
    el = env.find(xpath, {**NSMAP, "r": RECSANS, "v": RECVIT})
    el.getparent().remove(el)
    return etree.tostring(env)


@pytest.mark.parametrize(
    ("xml", "where"),
    [
        (b"<not-xml", "Envelope"),
        (b"<Envelope/>", "Envelope"),
        (_without("soap:Header/ctxlps:ContexteLPS"), "Envelope/Header/ctxlps:ContexteLPS"),
        (_without("soap:Header/ctxbam:ContexteBAM"), "Envelope/Header/ctxbam:ContexteBAM"),
        (_without("soap:Header/wsa:MessageID"), "Envelope/Header/wsa:MessageID"),
        (_without("soap:Body/r:RECSANSVITALE"), "Envelope/Body"),
    ],
    ids=["not-xml", "not-soap", "no-ContexteLPS", "no-ContexteBAM", "no-MessageID", "empty-body"],
)
def test_malformed_requests_are_refused_with_their_location(xml: bytes, where: str) -> None:
    with pytest.raises(InsiRequestInvalid) as caught:
        read_request(xml)
    assert caught.value.expression == [where]


def test_action_that_does_not_match_the_body_is_refused() -> None:
    xml = traits_request(QUERY, SOFTWARE, CALLER, NOW).xml.replace(
        b"1.0.0:rechercherInsAvecTraitsIdentite<", b"1.0.0:rechercherInsAvecCarteVitale<"
    )
    with pytest.raises(InsiRequestInvalid, match="does not match the body"):
        read_request(xml)


def test_entities_are_never_expanded() -> None:
    xml = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + traits_request(
        TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26"), SOFTWARE, CALLER, NOW
    ).xml.split(b"?>", 1)[1].replace(b">ADRTROIS<", b">&e;<")
    with pytest.raises(InsiRequestInvalid, match="DTD") as caught:  # refused outright (resources/outside_xml.py)
        read_request(xml)
    assert "root:" not in str(caught.value)
