"""SGL.DOC.02: one CR-Bio version, or a patient and a professional one, chosen by a general setting.

End to end on a dedicated ``sgl serve`` with a real ``sgl mssante-simulator``: an administrator chooses the
setting through ``Organization/$lab-profile``; a dossier is ordered with a prescriber at an MSSanté address and
a qualified patient, one result carries a comment for professionals only (``$validate-technical``
``note-audience=professional``), another a plain comment; the report is biologically validated. What the ANS
scenario would look at: both N3 pass the same ANS checks (XSD + CR-BIO/CI-SIS schematrons, ``validate_cda``),
each DocumentReference says which version it is, the patient's lacks the professional comment (N3 and PDF) and
keeps the same results, the patient's mailbox receives the patient version and the prescriber the professional
one (mails read back from the simulator), and the DMP / EHR deliveries carry the professional version. The
default (one version) is checked to be made exactly as before: same ids, no version marks, same N3 to everyone.
"""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from typing import Any

import httpx
import pytest
from lxml import etree

from facades.cda import validate_cda
from server.delivery.channel import Action, DeliveryItem, DeliverySettings
from server.delivery.loading import document_set
from tests.support.delivery_lab import DeliveryLab, wait_until
from tests.support.documents_wait import wait_for_documents
from tests.support.mssante_dossiers import attachment, doctor, mss, ordered, states
from tests.support.mssante_operator import OperatorProcess
from tests.support.mssante_site import mssante_fixtures
from tests.support.pdf_text import pdf_text
from tests.support.validation_lab import parameters

pytestmark = pytest.mark.db
BAL = "labo-resultats@labo-opensgl.mssante.fr"
PRESCRIBER = "prescripteur.doc02@cabinet.mssante.fr"
PATIENT_ADDRESS = "279035121518989@patient.mssante.fr"
PRO_ONLY = "Hémolyse discrète, à interpréter avec le contexte clinique (réservé au prescripteur)."
FOR_ALL = "Prélèvement reçu à température ambiante."
CDA = {"cda": "urn:hl7-org:v3"}
AUDIENCE_SYSTEM = "https://opensgl.org/fhir/CodeSystem/crbio-audience"


operator, site = mssante_fixtures("doc02", BAL, lab_fixture="site", SGL_MSS_RECEIPTS_POLL="0.5",
                                  SGL_DELIVERY_ATTEMPTS="20")


def values(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in answer.json()["parameter"]}


async def choose(site: DeliveryLab, setting: str) -> dict[str, Any]:
    """The administrator's form as the workbench posts it: the texts shown, with the setting chosen."""
    admin = await site.act_as("administrateur")
    shown = values(await admin.get("Organization/$lab-profile"))
    body = parameters(rgpd=shown["rgpd"], autoverification=shown["autoverification"],
                      versions={"valueCode": setting})
    return values(await admin.post("Organization/$lab-profile", json=body))


async def validated_dossier(site: DeliveryLab) -> tuple[str, str]:
    """Prescriber at an MSSanté address, qualified patient, two results (one professional-only comment, one
    plain comment), technically then biologically validated; (report id, sodium result id) once the documents
    are made."""
    lab = site.lab
    prescriber = await doctor(lab, 7, PRESCRIBER)
    pid, request = await ordered(lab, qualified=True, correspondents=[prescriber])
    glucose, sodium = await lab.result(pid, request["id"], "GLU", 1.05), await lab.result(pid, request["id"], "NA", 140)
    for rid, note in ((glucose, {"note": PRO_ONLY, "note-audience": {"valueCode": "professional"}}),
                      (sodium, {"note": FOR_ALL})):
        answer = await lab.client.post(f"Observation/{rid}/$validate-technical", json=parameters(**note))
        assert answer.status_code == 200, answer.text
    report = await lab.report_of(glucose)
    answer = await lab.client.post(f"DiagnosticReport/{report['id']}/$validate-biological", json=parameters())
    assert answer.status_code == 200, answer.text
    await wait_for_documents(lab.client, report["id"])
    return str(report["id"]), sodium


async def references(site: DeliveryLab, report_id: str) -> dict[str, dict[str, Any]]:
    answer = await site.lab.client.get("DocumentReference", params={"related": f"DiagnosticReport/{report_id}",
                                                                    "_count": "50"})
    return {e["resource"]["id"]: e["resource"] for e in answer.json()["entry"] if e["search"]["mode"] == "match"}


async def crbio(site: DeliveryLab, report_id: str, fmt: str, audience: str | None = None) -> bytes:
    params = {"format": fmt, **({"audience": audience} if audience else {})}
    answer = await site.lab.client.get(f"DiagnosticReport/{report_id}/$cr-bio", params=params)
    assert answer.status_code == 200, answer.text
    return answer.content


def header(n3: bytes) -> etree._Element:
    root = etree.fromstring(n3).find(".//cda:ClinicalDocument", CDA)  # inside the self-presenting stylesheet
    assert root is not None
    return root


def results(n3: bytes) -> list[tuple[str | None, str | None]]:
    """The coded results of an N3 (LOINC code, value), in document order."""
    found = header(n3).xpath(".//cda:observation[cda:templateId/@root='1.3.6.1.4.1.19376.1.3.1.6']", namespaces=CDA)
    return [(o.find("cda:code", CDA).get("code"), o.find("cda:value", CDA).get("value")) for o in found]


async def mailed(site: DeliveryLab, operator: OperatorProcess, report_id: str,
                 address: str) -> tuple[bytes, bytes, str]:
    """(N3 in IHE_XDM.ZIP, PDF, PDF name) of the one mail the address received for this report."""
    await wait_until(site.lab.client, report_id,
                     lambda f: len(mss(f)) == 2 and states(mss(f), "delivered"))
    mails = []
    for mail in await asyncio.to_thread(operator.messages, address, raw=True):
        raw = base64.b64decode(mail["raw"])
        n3 = zipfile.ZipFile(io.BytesIO(attachment(raw, "IHE_XDM.ZIP"))).read("IHE_XDM/SUBSET01/DOC0001.XML")
        if header(n3).find("cda:componentOf/cda:encompassingEncounter/cda:id", CDA).get("extension") == report_id:
            mails.append((n3, attachment(raw, mail["attachments"][1]), str(mail["attachments"][1])))
    assert len(mails) == 1, f"{address}: {len(mails)} mails for DiagnosticReport/{report_id}"
    return mails[0]


def item(report_id: str, patient: str, channel: str, extra: dict[str, str]) -> DeliveryItem:
    return DeliveryItem("k", "k", channel, "r", Action.PUBLISH, report_id, 1, patient, DeliverySettings(), extra=extra)


async def test_single_version_by_default_is_made_as_before_SGL_DOC_02(site: DeliveryLab,
                                                                      operator: OperatorProcess) -> None:
    assert (await choose(site, "single"))["versions"] == "single"
    report_id, _ = await validated_dossier(site)
    refs = await references(site, report_id)
    assert sorted(refs) == sorted(f"{report_id}-{fmt}-v1" for fmt in ("n3", "n1", "pdf"))
    assert all("category" not in r and r["description"] == "Compte rendu d'examens biologiques, version 1"
               for r in refs.values())
    n3 = await crbio(site, report_id, "n3")
    assert header(n3).find("cda:setId", CDA).get("extension") == report_id
    assert "Exemplaire" not in n3.decode() and PRO_ONLY in n3.decode()  # one document, every comment
    missing = await site.lab.client.get(f"DiagnosticReport/{report_id}/$cr-bio",
                                        params={"format": "n3", "audience": "patient"})
    assert missing.status_code == 422 and "no patient n3" in missing.text
    patient_n3, _, _ = await mailed(site, operator, report_id, PATIENT_ADDRESS)
    professional_n3, _, _ = await mailed(site, operator, report_id, PRESCRIBER)
    assert patient_n3 == professional_n3 == n3  # the patient gets the one version there is


@pytest.mark.req("SGL.DOC.02")
async def test_two_versions_valid_different_and_routed_SGL_DOC_02(site: DeliveryLab,
                                                                  operator: OperatorProcess) -> None:
    chosen = await choose(site, "patient-professional")
    assert chosen["versions"] == "patient-professional" and chosen["source"] == "stored"
    admin = await site.act_as("administrateur")
    audit = (await admin.get("AuditEvent", params={"_count": "500"})).json()
    details = [str(e["resource"].get("outcomeDesc", "")) for e in audit.get("entry", [])
               if any(s.get("code") == "lab-profile-update" for s in e["resource"].get("subtype", []))]
    assert any("versions: patient-professional (was single)" in d for d in details), details

    report_id, sodium = await validated_dossier(site)
    refs = await references(site, report_id)
    audiences = {ident: [c["code"] for c in r["category"][0]["coding"] if c["system"] == AUDIENCE_SYSTEM]
                 for ident, r in refs.items()}
    assert audiences == {**{f"{report_id}-{fmt}-v1": ["professional"] for fmt in ("n3", "n1", "pdf")},
                         **{f"{report_id}-patient-{fmt}-v1": ["patient"] for fmt in ("n3", "pdf")}}
    assert all(r["type"]["coding"][0]["code"] == "11502-2" and r["status"] == "current" for r in refs.values())

    professional, patient = await crbio(site, report_id, "n3"), await crbio(site, report_id, "n3", "patient")
    for n3 in (professional, patient):  # the same ANS checks as every CR-Bio: XSD + schematrons at level N3
        assert (await asyncio.to_thread(validate_cda, n3, level="N3")).errors == []
    assert (await asyncio.to_thread(validate_cda, await crbio(site, report_id, "n1"), level="N1")).errors == []
    assert results(patient) == results(professional) and len(results(patient)) == 2  # the same results
    pro_text, patient_text = professional.decode(), patient.decode()
    assert PRO_ONLY in pro_text and PRO_ONLY not in patient_text and FOR_ALL in patient_text
    assert "Exemplaire destiné au patient" in patient_text
    assert "Exemplaire destiné aux professionnels de santé" in pro_text
    assert header(patient).find("cda:setId", CDA).get("extension") == f"{report_id}.pat"
    assert header(professional).find("cda:setId", CDA).get("extension") == report_id
    assert header(patient).find("cda:id", CDA).get("extension") != header(professional).find("cda:id", CDA).get(
        "extension")
    patient_pdf = pdf_text(await crbio(site, report_id, "pdf", "patient"))
    professional_pdf = pdf_text(await crbio(site, report_id, "pdf"))
    assert "Exemplaire destiné au patient" in patient_pdf and FOR_ALL in patient_pdf
    assert "réservé au prescripteur" not in patient_pdf and "réservé au prescripteur" in professional_pdf
    no_n1 = await site.lab.client.get(f"DiagnosticReport/{report_id}/$cr-bio",
                                      params={"format": "n1", "audience": "patient"})
    assert no_n1.status_code == 422  # the N1 goes to the DMP, which gets the professional version

    # routing: the patient's mailbox gets the patient version, the prescriber the professional one
    mailed_patient, patient_pdf_bytes, patient_pdf_name = await mailed(site, operator, report_id, PATIENT_ADDRESS)
    mailed_professional, _, professional_pdf_name = await mailed(site, operator, report_id, PRESCRIBER)
    assert mailed_patient == patient and mailed_professional == professional
    assert patient_pdf_name.endswith("_PATIENT.pdf") and not professional_pdf_name.endswith("_PATIENT.pdf")
    assert patient_pdf_bytes == await crbio(site, report_id, "pdf", "patient")
    # and what the DMP and the EHRs would be handed (deliveries without an audience): the professional version
    patient_ref = (await site.lab.client.get(f"DiagnosticReport/{report_id}")).json()["subject"]["reference"]
    for channel in ("dmp", "hl7v2"):
        handed = await document_set(site.lab.store, item(report_id, patient_ref, channel, {}))
        assert sorted(handed.documents) == ["n1", "n3", "pdf"] and handed.documents["n3"].content == professional
        assert handed.documents["n3"].set_id == report_id
    handed = await document_set(site.lab.store, item(report_id, patient_ref, "mssante", {"audience": "patient"}))
    assert sorted(handed.documents) == ["n3", "pdf"] and handed.documents["n3"].set_id == f"{report_id}.pat"
    assert handed.documents["n3"].unique_id and handed.documents["n3"].unique_id.endswith(f"{report_id}.pat.1")

    # back to one version: the correction's version 2 is single, the patient version 1 is superseded, and the
    # patient's mailbox gets the one version there is
    assert (await choose(site, "single"))["versions"] == "single"
    corrected = await site.lab.client.post(f"DiagnosticReport/{report_id}/$correct", json=parameters(
        observation={"valueReference": {"reference": f"Observation/{sodium}"}}, reason="erreur de saisie",
        value={"valueQuantity": {"value": 141, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                                 "code": "mmol/L"}}))
    assert corrected.status_code == 200, corrected.text
    await wait_for_documents(site.lab.client, report_id)
    refs = await references(site, report_id)
    assert {i: r["status"] for i, r in refs.items() if i.endswith("-v1")} == dict.fromkeys(audiences, "superseded")
    assert sorted(i for i, r in refs.items() if r["status"] == "current") == sorted(
        f"{report_id}-{fmt}-v2" for fmt in ("n3", "n1", "pdf"))
    single = await crbio(site, report_id, "n3")
    await wait_until(site.lab.client, report_id,
                     lambda f: len(mss(f, "replace")) == 2 and states(mss(f, "replace"), "delivered"))
    second = [n3 for mail in await asyncio.to_thread(operator.messages, PATIENT_ADDRESS, raw=True)
              if (n3 := zipfile.ZipFile(io.BytesIO(attachment(base64.b64decode(mail["raw"]), "IHE_XDM.ZIP"))).read(
                  "IHE_XDM/SUBSET01/DOC0001.XML")) and header(n3).find("cda:setId", CDA).get("extension") == report_id]
    assert second == [single]


async def test_the_setting_is_for_administrators_and_checked_SGL_DOC_02(site: DeliveryLab) -> None:
    for role in ("biologiste-responsable", "technicien"):
        client = await site.act_as(role)
        answer = await client.post("Organization/$lab-profile", json=parameters(
            rgpd="x", versions={"valueCode": "patient-professional"}))
        assert answer.status_code == 403, (role, answer.text)
    admin = await site.act_as("administrateur")
    before = values(await admin.get("Organization/$lab-profile"))["versions"]
    bad = await admin.post("Organization/$lab-profile", json=parameters(rgpd="x", versions={"valueCode": "three"}))
    assert bad.status_code == 400 and "versions" in bad.text
    assert values(await admin.get("Organization/$lab-profile"))["versions"] == before  # nothing stored
    kept = await admin.post("Organization/$lab-profile", json=parameters(rgpd="Texte RGPD."))  # an older form
    assert values(kept)["versions"] == before  # a form without the setting leaves it as it was
    lab = site.lab
    pid = await lab.patient()
    [order] = await lab.order(pid)
    rid = await lab.result(pid, order, "NA", 139)
    refused = await lab.client.post(f"Observation/{rid}/$validate-technical",
                                    json=parameters(**{"note-audience": {"valueCode": "professional"}}))
    assert refused.status_code == 400 and "note-audience" in refused.text  # an audience without a note
