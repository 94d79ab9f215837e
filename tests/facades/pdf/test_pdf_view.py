"""Report view: built from JSON or a FHIR Patient, refusing bad data with the spot named."""

from __future__ import annotations

import pytest

from facades.pdf.errors import PdfInputError
from facades.pdf.view import PatientIdentity, ReportView
from resources.errors import RuleViolation
from tests.support.pdf_samples import PAT_TROIS_DATAMATRIX, ans_test_patient, sample_view_dict


def test_sample_view_builds_with_thirty_results() -> None:
    view = ReportView.from_dict(sample_view_dict())
    assert len(view.results) == 30
    assert view.patient.ins_nature == "NIR" and view.patient.ins_environment == "TEST"
    assert not view.accredited_results and not view.has_autoverified


@pytest.mark.req("SGL.INS.37")
def test_identity_from_a_qualified_patient_carries_ins_and_datamatrix_SGL_INS_37() -> None:
    identity = PatientIdentity.from_patient(ans_test_patient(), local_id="IPP0042")
    assert identity.ins_matricule == "279035121518989"
    assert identity.ins_oid == "1.2.250.1.213.1.4.10"
    assert identity.datamatrix == PAT_TROIS_DATAMATRIX
    assert identity.birthplace_cog == "63220" and identity.used_name == "MARTIN"


@pytest.mark.req("SGL.INS.37")
@pytest.mark.parametrize("status", ["PROV", "RECUP", "VALI"])
def test_identity_from_a_non_qualified_patient_has_traits_only_SGL_INS_37(status: str) -> None:
    identity = PatientIdentity.from_patient(ans_test_patient(status))
    assert (identity.ins_matricule, identity.ins_oid, identity.datamatrix) == (None, None, None)
    assert identity.birth_name == "PAT-TROIS" and identity.identity_status == status


@pytest.mark.req("SGL.INS.37")
def test_view_refuses_an_ins_on_a_non_qualified_identity_SGL_INS_37() -> None:
    data = sample_view_dict()
    data["patient"]["identity_status"] = "VALI"
    with pytest.raises(RuleViolation) as err:
        ReportView.from_dict(data)
    assert err.value.rule == "SGL.INS.37"


def test_patient_without_birth_date_is_refused_with_fhirpath() -> None:
    patient = ans_test_patient("PROV")
    del patient["birthDate"]
    with pytest.raises(PdfInputError) as err:
        PatientIdentity.from_patient(patient)
    assert err.value.expression == ["Patient.birthDate"]


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: d["chapters"][1]["sections"][0]["results"][2].update(flag="X"),
     "view.chapters[1].sections[0].results[2].flag"),
    (lambda d: d["chapters"][0]["sections"][0]["results"][0].update(value=4.21),
     "view.chapters[0].sections[0].results[0].value"),
    (lambda d: d["laboratory"].update(fax="x"), "view.laboratory.fax"),
    (lambda d: d.pop("validation"), "view"),
    (lambda d: d.update(status="draft"), "view.status"),
    (lambda d: d["specimens"][0].update(received_at="25/11/2026"), "view.specimens[0].received_at"),
    (lambda d: d["patient"].update(birth_date="28-03-1979"), "view.patient.birth_date"),
    (lambda d: d.update(issued_at="hier"), "view.issued_at"),
    (lambda d: d["patient"].update(ins_matricule="297022A02077878"), "view.patient.datamatrix"),
    (lambda d: d["patient"].update(datamatrix="IS01"), "view.patient.datamatrix"),
    (lambda d: d.update(chapters=[{"title": "Hématologie", "sections": []}]), "view.chapters"),
    (lambda d: d["texts"].update(extra_traits=["shoe_size"]), "view.texts.extra_traits"),
    (lambda d: d["chapters"][0]["sections"][0]["results"][0].update(accredited=True),
     "view.laboratory.cofrac_number"),
])
def test_bad_view_data_is_refused_naming_the_path(mutate, where: str) -> None:  # type: ignore[no-untyped-def]
    data = sample_view_dict()
    mutate(data)
    with pytest.raises(PdfInputError) as err:
        ReportView.from_dict(data)
    assert where in err.value.expression
