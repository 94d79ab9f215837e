"""Who gets a CR-Bio over MSSanté: shapes as FR Core and the order workflow store them."""

from __future__ import annotations

from typing import Any

import pytest

from resources.ins import IDENTITY_RELIABILITY_URL, IDENTITY_STATUS_SYSTEM, ins_identifier_for
from server.mssante.recipients import EMAIL_TYPE_URL, plan_recipients
from server.mssante.wording import wording

INS = "279035121518989"


def patient(status: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1",
            "identifier": [ins_identifier_for(INS, "1.2.250.1.213.1.4.10")],
            "extension": [{"url": IDENTITY_RELIABILITY_URL, "extension": [
                {"url": "identityStatus", "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": status}}]}]}


def doctor(n: int, address: str | None = None, *, typed: bool = False) -> tuple[Any, Any, Any]:
    telecom: list[dict[str, Any]] = [{"system": "phone", "value": "0102030405"}]
    if address:
        point: dict[str, Any] = {"system": "email", "value": address}
        if typed:
            point["extension"] = [{"url": EMAIL_TYPE_URL, "valueCoding": {"code": "MSSANTE"}}]
        telecom.append(point)
    role = {"resourceType": "PractitionerRole", "id": f"r{n}", "telecom": telecom}
    person = {"resourceType": "Practitioner", "id": f"d{n}", "name": [{"family": f"MEDECIN{n}", "given": ["Anne"]}]}
    return role, person, None


FINAL = {"resourceType": "DiagnosticReport", "status": "final"}


@pytest.mark.req("SGL.MSS.15")
@pytest.mark.req("SGL.MSS.17")
def test_prescriber_and_twelve_correspondents_all_receive_SGL_MSS_15_SGL_MSS_17() -> None:
    parties = [doctor(n, f"medecin{n}@cabinet{n}.mssante.fr") for n in range(13)]
    plan = plan_recipients(FINAL, patient("PROV"), parties, set())
    pros = [r.address for r in plan.recipients if r.audience == "pro"]
    assert pros == [f"medecin{n}@cabinet{n}.mssante.fr" for n in range(13)]


def test_address_must_be_an_mssante_one_and_nobody_gets_it_twice() -> None:
    parties = [doctor(1, "a@gmail.com"), doctor(2, "secretariat@clinique.fr", typed=True),
               doctor(3, "b@x.mssante.fr"), doctor(4, "B@x.mssante.fr"), doctor(5)]
    plan = plan_recipients(FINAL, patient("PROV"), parties, set())
    assert [r.address for r in plan.recipients] == ["secretariat@clinique.fr", "b@x.mssante.fr"]
    assert [s.who for s in plan.skipped if "SGL.ANN.05" in s.reason] == ["Anne MEDECIN1", "Anne MEDECIN5"]


@pytest.mark.req("SGL.MSS.12")
@pytest.mark.req("SGL.MSS.20")
@pytest.mark.parametrize("status", ["PROV", "VALI", "RECUP"])
def test_patient_mail_only_for_a_qualified_identity_SGL_MSS_12_SGL_MSS_20(status: str) -> None:
    plan = plan_recipients(FINAL, patient(status), [], set())
    assert plan.recipients == ()
    assert [s.who for s in plan.skipped] == ["patient"] and "SGL.MSS.12" in plan.skipped[0].reason
    qualified = plan_recipients(FINAL, patient("QUAL"), [], set())
    assert [(r.address, r.audience) for r in qualified.recipients] == [(f"{INS}@patient.mssante.fr", "patient")]


@pytest.mark.req("SGL.MSS.16")
@pytest.mark.req("SGL.MSS.19")
def test_refusals_remove_each_audience_with_a_reason_SGL_MSS_16_SGL_MSS_19() -> None:
    parties = [doctor(1, "a@x.mssante.fr")]
    no_pro = plan_recipients(FINAL, patient("QUAL"), parties, {"mssante-pro"})
    assert [r.audience for r in no_pro.recipients] == ["patient"]
    assert any("SGL.MSS.16" in s.reason for s in no_pro.skipped)
    nobody = plan_recipients(FINAL, patient("QUAL"), parties, {"mssante-pro", "mssante-patient"})
    assert nobody.recipients == () and {s.who for s in nobody.skipped} == {"professionals", "patient"}


@pytest.mark.req("SGL.MSS.23")
def test_partial_report_is_not_sent_automatically_SGL_MSS_23() -> None:
    partial = {"resourceType": "DiagnosticReport", "status": "preliminary"}
    parties = [doctor(1, "a@x.mssante.fr")]
    assert plan_recipients(partial, patient("QUAL"), parties, set()).recipients == ()
    asked = plan_recipients(partial, patient("QUAL"), parties, set(), deliberate=True)
    assert len(asked.recipients) == 2


@pytest.mark.req("SGL.MSS.24")
@pytest.mark.req("SGL.MSS.25")
def test_replacement_and_deletion_wording_SGL_MSS_24_SGL_MSS_25() -> None:
    replaced = wording("replace", "pro", patient_label="DUPONT Jean", report_date="02/12/2026",
                       previous="du 01/12/2026")
    assert "ANNULE ET REMPLACE le compte rendu du 01/12/2026" in replaced.body and replaced.attach
    assert "annule et remplace" in replaced.subject
    deleted = wording("delete", "patient", patient_label="", report_date="02/12/2026")
    assert "supprimé" in deleted.body and not deleted.attach and "vous concernant" in deleted.body
