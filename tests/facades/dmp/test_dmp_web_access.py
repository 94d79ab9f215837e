"""TD0.9 contextual calls (SGL.DMP.05, DMP.06) posted to the running ``sgl dmp-simulator`` web-PS port as a
browser posts the form: accepted ones land on a page naming the patient and the professional, malformed or
forged ones are refused with the reason, and every call is recorded on the harness side."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree

from facades.dmp import Seal
from facades.dmp.web_access import CallRefused, build_call
from facades.insi.dev_pki import create_test_pki
from tests.support.dmp import BIOLOGIST, LAB, SOFTWARE, DmpSimulator

INS, TEST_OID = "279035121518989", "1.2.250.1.213.1.4.10"


def _call(sim: DmpSimulator, seal: Seal, *, target: str = "patient-file", login: str = "password",
          now: datetime | None = None) -> dict[str, str]:
    call = build_call(sim.web_url, target, INS, TEST_OID, BIOLOGIST, LAB, SOFTWARE, seal, login,
                      now or datetime.now(UTC))
    assert call.url == sim.web_url
    return call.fields


def _post(sim: DmpSimulator, fields: dict[str, str] | bytes, content_type: str | None = None) -> httpx.Response:
    """The browser's POST: server certificate checked against the test CA, no client certificate."""
    headers = {"Content-Type": content_type} if content_type else None
    with httpx.Client(verify=sim.tls(with_certificate=False), timeout=10) as browser:
        if isinstance(fields, bytes):
            return browser.post(sim.web_url, content=fields, headers=headers)
        return browser.post(sim.web_url, data=fields)


@pytest.mark.req("SGL.DMP.05")
def test_a_patient_file_call_lands_on_the_page_naming_the_patient_and_the_biologist_SGL_DMP_05(
        sim: DmpSimulator, seal: Seal) -> None:
    fields = _call(sim, seal)
    assert fields["page"] == "DossierPatient" and fields["ins"] == f"{INS}^^^&{TEST_OID}&ISO^NH"
    assert fields["ps"] == BIOLOGIST.national_id and fields["mode"] == "INDIRECTE"
    landed = _post(sim, fields)
    assert landed.status_code == 200, landed.text
    assert "Dossier patient" in landed.text and INS in landed.text
    assert f"BIOLOGISTE Marie ({BIOLOGIST.national_id})" in landed.text and LAB.identifier in landed.text
    [seen] = sim.web_calls()
    assert seen["accepted"] and seen["page"] == "DossierPatient" and seen["ps"] == BIOLOGIST.national_id
    assert seen["structure"] == LAB.identifier and seen["roles"] == ["21", "SP12"] and seen["software"] == "OpenSGL"


@pytest.mark.req("SGL.DMP.06")
def test_the_dashboard_call_with_pro_sante_connect_is_the_reinforced_indirect_mode_SGL_DMP_06(
        sim: DmpSimulator, seal: Seal) -> None:
    fields = _call(sim, seal, target="dashboard", login="psc")
    assert fields["page"] == "TableauDeBord" and fields["mode"] == "INDIRECTE_RENFORCEE"
    landed = _post(sim, fields)
    assert landed.status_code == 200 and "Tableau de bord du professionnel" in landed.text
    assert sim.web_calls()[-1]["authnMode"] == "INDIRECTE_RENFORCEE"
    assertion = etree.fromstring(base64.b64decode(fields["vihf"]))
    authn = assertion.findtext(".//{urn:oasis:names:tc:SAML:2.0:assertion}AuthnContextClassRef")
    assert authn == "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered"


def test_an_unknown_target_is_not_built(sim: DmpSimulator, seal: Seal) -> None:
    with pytest.raises(CallRefused, match="target 'documents'"):
        _call(sim, seal, target="documents")


def _forged_seal(tmp_path: Path) -> Seal:
    pki = create_test_pki(tmp_path / "other-ca")
    return Seal.from_files(pki.client.cert, pki.client.key)


@pytest.mark.parametrize(("change", "reason"), [
    ({"vihf": ""}, "missing field(s): vihf"),
    ({"page": "Comptabilite"}, "unknown page 'Comptabilite'"),
    ({"ins": "2790351215189^^^&1.2.250.1.213.1.4.10&ISO^NH"}, "ins is not"),
    ({"ins": f"180017512345678^^^&{TEST_OID}&ISO^NH"}, "another patient"),
    ({"ps": "810009999999"}, "another professional"),
    ({"ps": "10009999999"}, "ps is not a national id"),
    ({"mode": "DIRECTE"}, "Authentification_Mode is not mode"),
    ({"vihf": "pas du base64 !"}, "not a base64 SAML assertion"),
])
def test_a_malformed_or_inconsistent_call_is_refused_with_its_reason(
        sim: DmpSimulator, seal: Seal, change: dict[str, str], reason: str) -> None:
    landed = _post(sim, {**_call(sim, seal), **change})
    assert landed.status_code == 400 and "Appel contextuel refusé" in landed.text
    [seen] = sim.web_calls()
    assert not seen["accepted"] and reason in seen["reason"]


def test_a_vihf_signed_by_another_ca_or_expired_is_refused(sim: DmpSimulator, seal: Seal, tmp_path: Path) -> None:
    forged = _post(sim, _call(sim, _forged_seal(tmp_path)))
    expired = _post(sim, _call(sim, seal, now=datetime.now(UTC) - timedelta(hours=1)))
    tampered_fields = _call(sim, seal)
    xml = base64.b64decode(tampered_fields["vihf"]).replace(b"BIOLOGISTE Marie", b"AUTRE Personne")
    tampered = _post(sim, {**tampered_fields, "vihf": base64.b64encode(xml).decode()})
    assert [r.status_code for r in (forged, expired, tampered)] == [400, 400, 400]
    reasons = [c["reason"] for c in sim.web_calls()]
    assert "refused" in reasons[0] and "expired" in reasons[1] and "refused" in reasons[2], reasons


def test_a_call_that_is_not_a_form_is_refused(sim: DmpSimulator) -> None:
    landed = _post(sim, b'{"page": "DossierPatient"}', "application/json")
    assert landed.status_code == 400 and "application/x-www-form-urlencoded" in sim.web_calls()[0]["reason"]


def test_the_web_port_asks_no_client_certificate_but_the_services_do(sim: DmpSimulator) -> None:
    with httpx.Client(verify=sim.tls(with_certificate=False), timeout=10) as browser:
        assert browser.get(sim.web_url).status_code == 405  # reached without a certificate: only POST is served
        with pytest.raises(httpx.HTTPError):
            browser.get(sim.root + "/_sim/stats")
