"""The VIHF naming the calling professional in INSi requests (SGL.INS.48): built from what PSC gave,
carried in ``wsse:Security`` over the mutual-TLS call, read back by the simulated service, refused
when expired; its attribute names are those of the ANS VIHF examples."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from lxml import etree

from facades.insi import (
    InsiClient,
    Professional,
    TraitsQuery,
    build_vihf,
    client_ssl_context,
    read_vihf,
)
from facades.insi.envelope import read_request, traits_request
from facades.insi.simulator import SimulatorHandle
from facades.insi.vihf import SAML, security_header
from facades.xmlsig import Seal, verify_assertion
from tests.support.insi_kit import CALLER, KIT, SOFTWARE
from tests.support.pki import TestPki, create_test_pki

BIOLOGIST = Professional(national_id="899700200001", name="BIOLAB CLAIRE", profession="21", sector="SA25")
ADRTROIS = TraitsQuery("ADRTROIS", ("DOMINIQUE",), "F", "1997-02-26")
ISSUER = "CN=INSI-MANU,OU=3750000001,O=LABORATOIRE OPENSGL,C=FR"


def _attribute_names(root: etree._Element) -> set[str]:
    return {a.get("Name", "").replace(" ", "_").lower() for a in root.iter(f"{{{SAML}}}Attribute")}


@pytest.mark.req("SGL.INS.48")
def test_vihf_names_the_professional_with_the_ans_attribute_set_SGL_INS_48() -> None:
    now = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    assertion = build_vihf(BIOLOGIST, issuer=ISSUER, structure_id="3750000001", software=SOFTWARE, now=now)
    expected = etree.parse(str(KIT.parent / "vihf" / "VIHF_from_PSC_userinfo_expected.xml")).getroot()
    wanted = _attribute_names(expected) - {"urn:oasis:names:tc:xacml:2.0:resource:resource-id", "ressource_urn",
                                          "lps_id_homologation_dmp"}  # DMP-only: the INSi call is about no patient
    assert wanted <= _attribute_names(assertion), wanted - _attribute_names(assertion)
    ns = {"s": SAML}
    assert assertion.findtext("s:Subject/s:NameID", None, ns) == "899700200001"
    assert assertion.findtext("s:Issuer", None, ns) == ISSUER
    assert assertion.findtext("s:AuthnStatement/s:AuthnContext/s:AuthnContextClassRef", None, ns) == \
        expected.findtext("s:AuthnStatement/s:AuthnContext/s:AuthnContextClassRef", None, ns)
    summary = read_vihf(security_header(assertion))
    assert (summary.national_id, summary.version, summary.mode, summary.profession) == \
        ("899700200001", "3.0", "INDIRECTE", "21")
    assert summary.not_after == now + timedelta(hours=1)


@pytest.mark.req("SGL.INS.48")
def test_request_carries_the_vihf_only_when_a_professional_is_named_SGL_INS_48() -> None:
    now = datetime.now(UTC)
    plain = read_request(traits_request(ADRTROIS, SOFTWARE, CALLER, now).xml)
    assert plain.vihf is None
    named = dataclasses.replace(CALLER, professional=BIOLOGIST, vihf_issuer=ISSUER)
    received = read_request(traits_request(ADRTROIS, SOFTWARE, named, now).xml)
    assert received.vihf is not None and received.vihf.national_id == "899700200001"


@pytest.mark.req("SGL.INS.48")
async def test_insi_call_over_mutual_tls_presents_the_users_vihf_SGL_INS_48(
        client: InsiClient, simulator: SimulatorHandle) -> None:
    named = dataclasses.replace(CALLER, professional=BIOLOGIST, vihf_issuer=ISSUER)
    result = await client.search_by_traits(ADRTROIS, named)
    assert result.code == "00"
    seen = read_request(simulator.received[-1])
    assert seen.vihf is not None and (seen.vihf.national_id, seen.vihf.profession) == ("899700200001", "21")


@pytest.mark.req("SGL.INS.48")
async def test_expired_vihf_is_refused_by_the_service_SGL_INS_48(simulator: SimulatorHandle, pki: TestPki) -> None:
    """A request built two hours ago (its VIHF expired after one) posted as is over mutual TLS."""
    named = dataclasses.replace(CALLER, professional=BIOLOGIST, vihf_issuer=ISSUER)
    request = traits_request(ADRTROIS, SOFTWARE, named, datetime.now(UTC) - timedelta(hours=2))
    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    async with httpx.AsyncClient(verify=context, timeout=5.0) as http:
        answer = await http.post(simulator.url, content=request.xml, headers={"Content-Type": request.content_type})
    assert answer.status_code == 500 and b"SIMU_VIHF_EXPIRE" in answer.content


async def _post(simulator: SimulatorHandle, pki: TestPki, xml: bytes) -> httpx.Response:
    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)
    async with httpx.AsyncClient(verify=context, timeout=5.0) as http:
        return await http.post(simulator.url, content=xml, headers={"Content-Type": "application/soap+xml"})


@pytest.mark.req("SGL.INS.48")
async def test_a_client_with_the_seal_sends_a_signed_vihf_the_service_verifies_SGL_INS_48(
        simulator: SimulatorHandle, pki: TestPki, tmp_path_factory: pytest.TempPathFactory) -> None:
    seal = Seal.from_files(pki.client.cert, pki.client.key)
    named = dataclasses.replace(CALLER, professional=BIOLOGIST)
    context = client_ssl_context(pki.client.cert, pki.client.key, pki.ca.cert)

    async def trace(exchange: object) -> None:
        return None

    async with InsiClient(simulator.url, context, SOFTWARE, trace=trace, seal=seal, timeout=5.0) as insi:
        assert (await insi.search_by_traits(ADRTROIS, named)).code == "00"
    sent = etree.fromstring(simulator.received[-1]).find(f".//{{{SAML}}}Assertion")
    assert sent is not None and sent.findtext(f"{{{SAML}}}Issuer") == seal.subject_dn
    signed, _ = verify_assertion(sent, x509.load_pem_x509_certificate(pki.ca.cert.read_bytes()))
    assert signed.findtext(f"{{{SAML}}}Subject/{{{SAML}}}NameID") == "899700200001"
    # altered after signing, or signed by a certificate of another CA: refused by the service
    forged = simulator.received[-1].replace(b">899700200001<", b">899700200002<")
    answer = await _post(simulator, pki, forged)
    assert answer.status_code == 500 and b"SIMU_VIHF_SIGNATURE" in answer.content
    foreign = create_test_pki(tmp_path_factory.mktemp("foreign-seal"))
    stranger = traits_request(ADRTROIS, SOFTWARE, named, datetime.now(UTC),
                              seal=Seal.from_files(foreign.client.cert, foreign.client.key))
    answer = await _post(simulator, pki, stranger.xml)
    assert answer.status_code == 500 and b"not issued by the trusted CA" in answer.content
