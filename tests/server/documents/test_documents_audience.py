"""SGL.DOC.02 without a server: what the patient version leaves out, its ids, and its RPLC only when it has a
predecessor of its own (``server/documents/audience.py``, ``compose.py``, ``generate.py``)."""

from __future__ import annotations

import dataclasses

import pytest
from lxml import etree

from server.documents.audience import NOTE_AUDIENCE_URL, audiences, for_audience
from server.documents.compose import Version
from server.documents.gather import Dossier
from server.documents.generate import generate, generate_versions
from server.documents.profile import load_profile
from tests.support import crbio_samples as samples

# WeasyPrint 70 opens its sRGB ICC profile without closing it; the handle is freed by the GC.
pytestmark = pytest.mark.filterwarnings("ignore:Exception ignored in.*sRGB2014.icc")
CDA = {"cda": "urn:hl7-org:v3"}
PRO_ONLY = {"text": "Pour le prescripteur", "extension": [{"url": NOTE_AUDIENCE_URL, "valueCode": "professional"}]}


def dossier(versions: str = "single") -> Dossier:
    data = samples.thirty_results(samples.TINY_PDF)
    observations = [dict(o) for o in data.observations]
    observations[0]["note"] = [PRO_ONLY, {"text": "Pour tous"}]
    report = {**data.report, "result": [{"reference": f"Observation/r{n}"} for n in range(3)]}
    return Dossier(report=report, patient=data.patient, requests=[data.service_request or {}],
                   observations=observations, specimens=data.specimens, requester=data.requester,
                   recipients=data.recipients, biologist=data.biologist,
                   profile=dataclasses.replace(load_profile(), versions=versions), organizations=data.organizations)


def clinical(n3: bytes) -> etree._Element:
    found = etree.fromstring(n3).find(".//cda:ClinicalDocument", CDA)
    assert found is not None
    return found


@pytest.mark.req("SGL.DOC.02")
def test_patient_dossier_drops_only_professional_notes_SGL_DOC_02() -> None:
    source = dossier()
    patient = for_audience(source, "patient")
    assert patient.observations[0]["note"] == [{"text": "Pour tous"}]
    assert [o["id"] for o in patient.observations] == [o["id"] for o in source.observations]
    assert for_audience(source, "professional") is source and for_audience(source, None) is source
    assert source.observations[0]["note"][0] == PRO_ONLY  # the gathered dossier is not changed
    assert audiences("single") == (None,) and audiences("patient-professional") == ("professional", "patient")


def test_single_setting_makes_one_unmarked_version_SGL_DOC_02() -> None:
    [single] = generate_versions(dossier(), Version(1), check=False)
    assert single.audience is None and single.n1 is not None and sorted(single.contents) == ["n1", "n3", "pdf"]
    assert b"Exemplaire" not in single.n3 and b"Pour le prescripteur" in single.n3


@pytest.mark.req("SGL.DOC.02")
def test_patient_version_names_a_predecessor_only_when_it_had_one_SGL_DOC_02() -> None:
    two = dossier("patient-professional")
    after_single = generate(two, Version(2, "2026-12-01T10:00:00+01:00"), check=False, audience="patient")
    head = clinical(after_single.n3)
    assert head.find("cda:setId", CDA).get("extension") == "rep1.pat"
    assert head.find("cda:versionNumber", CDA).get("value") == "2" and head.find("cda:relatedDocument", CDA) is None
    assert after_single.n1 is None and after_single.pdf_name.endswith("_V2_PATIENT.pdf")
    after_two = generate(two, Version(2, "2026-12-01T10:00:00+01:00", True), check=False, audience="patient")
    parent = clinical(after_two.n3).find("cda:relatedDocument/cda:parentDocument/cda:id", CDA)
    assert parent is not None and parent.get("extension") == "rep1.pat.1"
    professional = generate(two, Version(2, "2026-12-01T10:00:00+01:00"), check=False, audience="professional")
    assert clinical(professional.n3).find("cda:relatedDocument/cda:parentDocument/cda:id", CDA).get(
        "extension") == "rep1.1"
