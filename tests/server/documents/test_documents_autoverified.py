"""A dedicated server: autoverification on and a site lab profile without Cofrac accreditation."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from facades.cda import validate_cda
from resources.errors import InvalidInput
from server.documents.profile import DEFAULT_PROFILE, load_profile
from tests.support.dedicated_lab import dedicated_lab
from tests.support.documents_wait import crbio, wait_for_documents
from tests.support.dossiers import patient
from tests.support.pdf_text import pdf_text
from tests.support.validation_lab import Lab

NOTICE = "validés automatiquement selon des règles définies par le biologiste"


@pytest.fixture(scope="module")
async def auto(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Lab]:
    folder = tmp_path_factory.mktemp("documents-auto")
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    profile.update(name="Laboratoire Sans Accréditation", cofrac_number=None,
                   rgpd="Texte RGPD propre au site de test.", extra_traits=["birthplace"])
    (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    env = {"SGL_AUTOVERIFICATION": "true", "SGL_LAB_PROFILE": str(folder / "profile.json")}
    async with dedicated_lab(folder / "var", env) as lab:
        yield lab


def _batch(ids: list[str]) -> dict[str, Any]:
    return {"resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]}


async def _pdf(lab: Lab, report_id: str) -> str:
    answer = await crbio(lab.client, report_id)
    assert answer.status_code == 200, answer.text
    return pdf_text(answer.content)


@pytest.mark.req("SGL.DOC.09")
@pytest.mark.req("SGL.DOC.08")
@pytest.mark.req("SGL.INS.52")
@pytest.mark.req("SGL.DOC.10")
async def test_autoverified_notice_until_review_site_profile_and_no_cofrac_SGL_DOC_09_SGL_DOC_08_SGL_DOC_10_SGL_INS_52(
        auto: Lab) -> None:
    pid = await patient(auto)
    [order] = await auto.order(pid)
    ids = [await auto.result(pid, order, "NA", 140), await auto.result(pid, order, "K", 4.2)]
    answer = await auto.client.post("Observation/$validate-technical", json=_batch(ids))
    assert answer.status_code == 200, answer.text
    report = await wait_for_documents(auto.client, (await auto.report_of(ids[0]))["id"])
    assert report["status"] == "final" and len(report["presentedForm"]) == 3
    first = await _pdf(auto, report["id"])
    assert NOTICE in first and "validé automatiquement" in first
    assert "Laboratoire Sans Accréditation" in first and "Texte RGPD propre au site de test." in first
    assert "Lieu de naissance" in first and "Prénoms de naissance" not in first and "IPP" not in first  # site traits
    assert "COFRAC" not in first.upper()  # NA and K are accredited analyses, but this lab has no accreditation
    n3 = (await auto.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n3"})).content
    assert validate_cda(n3, level="N3").errors == []

    review = await auto.client.post(f"DiagnosticReport/{report['id']}/$validate-biological")
    assert review.status_code == 200, review.text
    reviewed = await _pdf(auto, report["id"])
    assert NOTICE not in reviewed and "Annule et remplace" in reviewed


def test_lab_profile_errors_name_the_missing_key(tmp_path: Path) -> None:
    broken = tmp_path / "profile.json"
    broken.write_text(json.dumps({"name": "Labo"}), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_profile(broken)
    assert caught.value.issues[0].expression == ("$.finess",)


def test_unknown_extra_trait_is_refused_at_load(tmp_path: Path) -> None:
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    (tmp_path / "profile.json").write_text(json.dumps({**profile, "extra_traits": ["shoe_size"]}), encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        load_profile(tmp_path / "profile.json")
    assert caught.value.issues[0].expression == ("$.extra_traits",) and "shoe_size" in str(caught.value)
