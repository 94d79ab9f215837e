"""The lab profile's texts as stored data (issue 15, item 9): an administrator reads and saves the RGPD text,
the Cofrac number and the autoverification notice over ``Organization/$lab-profile`` on a real ``sgl serve``;
the next CR-Bio (PDF and N3) prints what was saved, with no restart. Other roles are refused (403), bad input
is refused naming the field with nothing stored, and the change leaves an AuditEvent naming the administrator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from server.documents.profile import DEFAULT_PROFILE
from tests.support.dedicated_lab import Dedicated, dedicated_server
from tests.support.documents_wait import crbio, wait_for_documents
from tests.support.dossiers import patient
from tests.support.pdf_text import pdf_text

pytestmark = pytest.mark.db
ENV_RGPD = "Texte RGPD du fichier de profil (premier démarrage)."
NEW_RGPD = "Vos données sont traitées par le laboratoire ; délégué à la protection des données : dpo@labo-test.fr."
NEW_NOTICE = "Résultat libéré par les règles du biologiste, relu à la prochaine séance."


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Dedicated]:
    folder = tmp_path_factory.mktemp("lab-profile")
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    profile.update(cofrac_number=None, rgpd=ENV_RGPD)
    (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    env = {"SGL_AUTOVERIFICATION": "true", "SGL_LAB_PROFILE": str(folder / "profile.json")}
    async with dedicated_server(folder / "var", env, Dedicated) as holder:
        yield holder


def texts(**values: str) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": k, "valueString": v} for k, v in values.items()]}


def values(parameters: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in parameters["parameter"]}


async def test_other_roles_are_refused_the_lab_profile(site: Dedicated) -> None:
    for role in ("secretaire", "biologiste-responsable", "technicien"):
        client = await site.act_as(role)
        for answer in (await client.get("Organization/$lab-profile"),
                       await client.post("Organization/$lab-profile", json=texts(rgpd="pirate"))):
            assert answer.status_code == 403, (role, answer.text)
            assert answer.json()["resourceType"] == "OperationOutcome"
            assert "$lab-profile" in answer.text
    admin = await site.act_as("administrateur")
    assert values((await admin.get("Organization/$lab-profile")).json())["rgpd"] == ENV_RGPD


async def test_bad_texts_are_refused_naming_the_field_and_nothing_is_stored(site: Dedicated) -> None:
    admin = await site.act_as("administrateur")
    for body, field in ((texts(rgpd="  "), "rgpd"), (texts(rgpd="ok", **{"cofrac-number": "COFRAC"}), "cofrac_number"),
                        (texts(rgpd="x" * 5000), "rgpd"), ({"resourceType": "Patient"}, "resourceType")):
        answer = await admin.post("Organization/$lab-profile", json=body)
        assert answer.status_code == 400, answer.text
        assert field in json.dumps(answer.json()["issue"])
    current = values((await admin.get("Organization/$lab-profile")).json())
    assert current["source"] == "environment" and current["rgpd"] == ENV_RGPD


@pytest.mark.req("SGL.DOC.08")
@pytest.mark.req("SGL.DOC.10")
async def test_saved_rgpd_text_prints_on_the_next_crbio_pdf_and_n3_SGL_DOC_08_SGL_DOC_10(site: Dedicated) -> None:
    admin = await site.act_as("administrateur")
    saved = await admin.post("Organization/$lab-profile", json=texts(
        rgpd=NEW_RGPD, **{"cofrac-number": "8-1234"}, autoverification=NEW_NOTICE))
    assert saved.status_code == 200, saved.text
    assert values(saved.json()) | {"updated": None} == {
        "rgpd": NEW_RGPD, "cofrac-number": "8-1234", "autoverification": NEW_NOTICE, "versions": "single",
        "source": "stored",
        "updated": None, "by": values(saved.json())["by"]}
    audit = (await admin.get("AuditEvent", params={"_count": "500"})).json()
    [event] = [e["resource"] for e in audit.get("entry", [])
               if any(s.get("code") == "lab-profile-update" for s in e["resource"].get("subtype", []))]
    assert event["agent"][0]["role"][0]["coding"][0]["code"] == "administrateur" and event["outcome"] == "0"

    lab = site.lab
    pid = await patient(lab)
    [order] = await lab.order(pid)
    ids = [await lab.result(pid, order, "NA", 140), await lab.result(pid, order, "K", 4.2)]
    answer = await lab.client.post("Observation/$validate-technical", json={"resourceType": "Parameters", "parameter": [
        {"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]})
    assert answer.status_code == 200, answer.text
    report = await wait_for_documents(lab.client, (await lab.report_of(ids[0]))["id"])
    pdf = await crbio(lab.client, report["id"])
    assert pdf.status_code == 200, pdf.text
    text = " ".join(pdf_text(pdf.content).split())
    assert NEW_RGPD in text and ENV_RGPD not in text
    assert NEW_NOTICE in text and "8-1234" in text  # the saved accreditation marks NA and K (SGL.DOC.10)
    n3 = (await lab.client.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n3"})).content
    n3_text = n3.decode("utf-8")
    assert NEW_RGPD in n3_text and ENV_RGPD not in n3_text and "8-1234" in n3_text
