"""The simulated DMP refuses what the real one refuses: a VIHF that does not verify, metadata that breaks
the rules, a submission whose patient is not the VIHF's. Requests are built by the production code, then
altered on the wire, and posted over mutual TLS."""

from __future__ import annotations

import httpx
import pytest

from facades.dmp import DmpRejected, Seal, VihfSubject
from facades.dmp.client import provide_request
from facades.dmp.codes import DE_PRACTICE
from facades.dmp.response import read_response
from tests.support.dmp import BIOLOGIST, SOFTWARE, DmpSimulator, crbio_submission
from tests.support.pki import create_test_pki

SENDER = VihfSubject.professional(BIOLOGIST)


async def _post(sim: DmpSimulator, content_type: str, body: bytes) -> httpx.Response:
    async with httpx.AsyncClient(verify=sim.tls(), timeout=10) as http:
        return await http.post(sim.base_url + "/repository", content=body, headers={"Content-Type": content_type})


async def _refusal(sim: DmpSimulator, content_type: str, body: bytes) -> DmpRejected:
    answer = await _post(sim, content_type, body)
    with pytest.raises(DmpRejected) as caught:
        read_response(answer.content)
    assert sim.documents() == []
    return caught.value


def _request(sim: DmpSimulator, seal: Seal, **kwargs: object) -> tuple[str, bytes]:
    _, outgoing = provide_request(crbio_submission(**kwargs), SENDER, SOFTWARE, seal, sim.base_url + "/repository")  # type: ignore[arg-type]
    return outgoing.content_type, outgoing.body


async def test_the_unaltered_request_is_accepted(sim: DmpSimulator, seal: Seal) -> None:
    content_type, body = _request(sim, seal)
    answer = await _post(sim, content_type, body)
    assert read_response(answer.content).duplicates is False
    assert len(sim.documents()) == 2


async def test_an_altered_vihf_is_refused_with_a_wsse_fault(sim: DmpSimulator, seal: Seal) -> None:
    content_type, body = _request(sim, seal)
    forged = body.replace(b"<saml2:NameID>810001234567</saml2:NameID>", b"<saml2:NameID>810009999999</saml2:NameID>")
    assert forged != body
    refusal = await _refusal(sim, content_type, forged)
    assert refusal.errors[0].code == "wsse:FailedAuthentication" and "signature" in refusal.diagnostics


async def test_a_vihf_signed_by_a_foreign_ca_is_refused(sim: DmpSimulator,
                                                      tmp_path_factory: pytest.TempPathFactory) -> None:
    foreign = create_test_pki(tmp_path_factory.mktemp("foreign"))
    content_type, body = _request(sim, Seal.from_files(foreign.client.cert, foreign.client.key))
    refusal = await _refusal(sim, content_type, body)
    assert "not issued by the trusted CA" in refusal.diagnostics


async def test_a_missing_classification_is_a_registry_metadata_error(sim: DmpSimulator, seal: Seal) -> None:
    content_type, body = _request(sim, seal)
    stripped = body.replace(DE_PRACTICE.encode(), b"urn:uuid:00000000-0000-0000-0000-000000000000")
    refusal = await _refusal(sim, content_type, stripped)
    assert {e.code for e in refusal.errors} == {"XDSRegistryMetadataError"}
    assert "practiceSettingCode missing" in refusal.diagnostics


async def test_metadata_about_another_patient_than_the_vihf_is_refused(sim: DmpSimulator, seal: Seal) -> None:
    content_type, body = _request(sim, seal)
    head, sep, rest = body.partition(b"<soap:Body")
    moved = head + sep + rest.replace(b"279035121518989^^^", b"180036915812345^^^")
    refusal = await _refusal(sim, content_type, moved)
    assert "XDSPatientIdDoesNotMatch" in {e.code for e in refusal.errors}


async def test_a_document_changed_after_signing_breaks_hash_and_xades(sim: DmpSimulator, seal: Seal) -> None:
    content_type, body = _request(sim, seal)
    altered = body.replace(b"7.9", b"8.9", 1)  # the glucose value inside the N3 part
    assert altered != body
    refusal = await _refusal(sim, content_type, altered)
    assert "hash does not match" in refusal.diagnostics and "signature XAdES" in refusal.diagnostics


async def test_an_unreadable_request_gets_a_soap_fault(sim: DmpSimulator) -> None:
    answer = await _post(sim, "application/soap+xml", b"<soap:Envelope")
    assert answer.status_code == 400
    with pytest.raises(DmpRejected):
        read_response(answer.content)
