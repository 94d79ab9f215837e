"""The CR-Bio path from the outside with FR Core-shaped input (issue 10 items 11-16), on a dedicated real
``sgl serve`` whose ANS kit was installed by ``sgl kit install`` into a temp dir:

- the patient comes over MLLP as a PAM-FR A28 whose IPP authority is not an ISO OID
  (``000003^^^CHU-X&000897406&N^PI``, as in the ANS PAM-FR examples) with a VALI INS;
- the biologist and the requester are FR Core Practitioners (TRE_G15 / TRE_R38 canonical URLs);
- the specimen is posted without ``status`` (0..1 in R4);
- results are autoverified, so the site's autoverification text is printed.

The N3 served by ``$cr-bio`` passes ``sgl validate cda`` with that installed kit; its PDF prints the IPP.
A biologist Practitioner without qualification makes the step answer 422 naming the FHIR element.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from facades.hl7v2 import MllpClient
from server.documents.profile import DEFAULT_PROFILE
from tests.support.access import ActAs
from tests.support.documents_wait import documents_status, wait_for_documents
from tests.support.pdf_text import pdf_text
from tests.support.sgl_server import SglProcess, start_sgl
from tests.support.validation_lab import CATALOG, UCUM, seed_definitions
from tests.support.worklist import worklist

SHARED_KIT = Path(__file__).resolve().parents[3].parent / "shared" / "kits" / "ans-cda-testkit"
NS = {"c": "urn:hl7-org:v3"}
G15 = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
R38 = "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale"
RPPS = "urn:oid:1.2.250.1.71.4.2.1"
MAPPED_OID = "1.2.250.1.999.1.9"
AUTOVERIFICATION = "Texte d'autovalidation propre au site de test : résultats validés par les règles du biologiste."
INS = "279035121518989"


def _sgl(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([str(Path(sys.executable).parent / "sgl"), *args], capture_output=True, text=True,
                          timeout=900, check=False, env={**os.environ, **(env or {})})


def _adt(ipp: str) -> str:
    """A PAM-FR A28 shaped like the ANS examples: non-ISO IPP authority, INS test OID, PID-32 VALI."""
    return "\r".join([
        "MSH|^~\\&|GAM|CHU-X|SGL|LABO|20261120081500||ADT^A28^ADT_A05|E2E-A28-1|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8"
        "|||2.11^IHE_FRANCE-2.11-PAM",
        "EVN||20261120081500",
        f"PID|1||{ipp}^^^CHU-X&000897406&N^PI~{INS}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"
        "||PAT-TROIS^DOMINIQUE^DOMINIQUE MARIE-LOUISE^^^^L||19790328|F|||28 avenue de Breteuil^^PARIS^^75007^FRA^H"
        "~^^^^^^BDL^^63220"
        "|||||||||||||||||||||VALI",
        "PV1|1|N",
    ]) + "\r"


def _practitioner(rpps: str, family: str, given: str, *, qualified: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Practitioner",
        "meta": {"profile": ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-practitioner"]},
        "identifier": [{"use": "official", "type": {"coding": [{
            "system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "IDNPS"}]},
            "system": RPPS, "value": rpps}],
        "name": [{"use": "official", "family": family, "given": [given], "prefix": ["DR"]}],
        "telecom": [{"system": "phone", "value": "0100000000", "use": "work"}]}
    if qualified:
        body["qualification"] = [
            {"code": {"coding": [{"system": G15, "code": "10", "display": "Médecin"}]}},
            {"code": {"coding": [{"system": R38, "code": "SM03", "display": "Biologie médicale (SM)"}]}}]
    return body


@pytest.fixture(scope="module")
def kit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sgl kit install`` from the shared copy into a temp dir (the repository holds no kit file)."""
    target = tmp_path_factory.mktemp("kit") / "ans-cda-testkit"
    done = _sgl("kit", "install", str(SHARED_KIT), "--dir", str(target))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "installed 630 files" in done.stdout
    return target


@pytest.fixture(scope="module")
def server(kit_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[SglProcess]:
    folder = tmp_path_factory.mktemp("frcore")
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    profile.update(autoverification=AUTOVERIFICATION, identifier_oids={"000897406": MAPPED_OID})
    (folder / "profile.json").write_text(json.dumps(profile), encoding="utf-8")
    process = start_sgl(folder / "var", env={"SGL_CDA_KIT_DIR": str(kit_dir), "SGL_TEST_MODE": "true",
                                             "SGL_AUTOVERIFICATION": "true",
                                             "SGL_LAB_PROFILE": str(folder / "profile.json")})
    yield process  # type: ignore[misc]
    process.stop()


@pytest.fixture(scope="module")
async def http(server: SglProcess) -> AsyncIterator[httpx.AsyncClient]:
    clients = ActAs(server)
    try:
        client = await clients.biologist()
        await seed_definitions(client)
        yield client
    finally:
        await clients.close()


async def _created(http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    answer = await http.post(body["resourceType"], json=body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def _admitted(server: SglProcess, http: httpx.AsyncClient, ipp: str) -> str:
    async with MllpClient("127.0.0.1", server.mllp_port, read_timeout=60) as mllp:
        ack = await mllp.send(_adt(ipp))
    assert ack.segment("MSA") is not None and ack.segment("MSA").get(1) == "AA", str(ack)  # type: ignore[union-attr]
    found = (await http.get("Patient", params={"identifier": f"urn:oid:000897406|{ipp}"})).json()
    [patient] = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "match"]
    return str(patient["id"])


async def _results(http: httpx.AsyncClient, pid: str, requester: str) -> list[str]:
    """An order by an FR Core requester, a specimen without status, two results on it, technically validated
    (the autoverification rules then validate the report)."""
    subject = {"reference": f"Patient/{pid}"}
    specimen = await _created(http, {
        "resourceType": "Specimen", "subject": subject, "receivedTime": "2026-11-20T08:30:00+01:00",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": "SER",
                             "display": "Sérum"}]},
        "collection": {"collectedDateTime": "2026-11-20T07:45:00+01:00"}})
    order = await _created(http, {
        "resourceType": "ServiceRequest", "status": "active", "intent": "order", "subject": subject,
        "requester": {"reference": f"Practitioner/{requester}"}, "code": {"text": "ionogramme"},
        "requisition": {"system": "https://opensgl.org/sid/demande", "value": f"E2E-{pid[:8]}"},
        "authoredOn": "2026-11-19T17:00:00+01:00", "specimen": [{"reference": f"Specimen/{specimen}"}]})
    ids = []
    for code, value, unit in (("NA", 140, "mmol/L"), ("K", 4.2, "mmol/L")):
        ids.append(await _created(http, {
            "resourceType": "Observation", "status": "preliminary", "subject": subject,
            "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": CATALOG, "code": code}]},
            "basedOn": [{"reference": f"ServiceRequest/{order}"}], "specimen": {"reference": f"Specimen/{specimen}"},
            "effectiveDateTime": "2026-11-20T07:45:00+01:00",
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}))
    return ids


def _technical(ids: list[str]) -> dict[str, Any]:
    return {"resourceType": "Parameters",
            "parameter": [{"name": "observation", "valueReference": {"reference": f"Observation/{i}"}} for i in ids]}


@pytest.mark.req("SGL.DOC.01")
@pytest.mark.req("SGL.DOC.08")
@pytest.mark.req("SGL.DOC.09")
@pytest.mark.req("SGL.DOC.10")
async def test_frcore_input_gives_a_conformant_n3_and_a_pdf_with_the_ipp_SGL_DOC_01_SGL_DOC_08_SGL_DOC_09_SGL_DOC_10(
        server: SglProcess, http: httpx.AsyncClient, kit_dir: Path, tmp_path: Path) -> None:
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    await _created(http, _practitioner(profile["responsible_biologist"]["rpps"], "BIOLOGISTE", "Responsable"))
    requester = await _created(http, _practitioner("810002422979", "CHARLES", "Pascal"))
    pid = await _admitted(server, http, "000003")
    ids = await _results(http, pid, requester)
    answer = await http.post("Observation/$validate-technical", json=_technical(ids))
    assert answer.status_code == 200, answer.text
    found = (await http.get("DiagnosticReport", params={"result": f"Observation/{ids[0]}"})).json()
    [report] = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "match"]
    report = await wait_for_documents(http, report["id"])
    assert report["status"] == "final" and len(report["presentedForm"]) == 3

    n3 = (await http.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n3"})).content
    (tmp_path / "n3.xml").write_bytes(n3)
    checked = _sgl("validate", "cda", str(tmp_path / "n3.xml"), "--level", "N3", env={"SGL_CDA_KIT_DIR": str(kit_dir)})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    cda = etree.fromstring(n3).xpath("//c:ClinicalDocument", namespaces=NS)[0]
    ids_written = [(i.get("root"), i.get("extension"))
                   for i in cda.xpath("c:recordTarget/c:patientRole/c:id", namespaces=NS)]
    assert ("1.2.250.1.213.1.4.10", INS) in ids_written and (MAPPED_OID, "000003") in ids_written
    assert all(root != "000897406" for root, _ in ids_written)
    assert cda.xpath("string(c:author/c:assignedAuthor/c:code/@code)", namespaces=NS) == "G15_10/SM03"
    mentions = " ".join(cda.xpath("//c:section[c:code/@code='55112-7']/c:text//text()", namespaces=NS))
    assert AUTOVERIFICATION in mentions and profile["rgpd"] in mentions
    assert f"Accréditation Cofrac n° {profile['cofrac_number']}" in mentions  # NA and K are accredited analyses
    cofrac = "//c:responsibleParty//c:representedOrganization/c:id[@root='1.2.250.1.213.6.3.1']/@extension"
    assert cda.xpath(cofrac, namespaces=NS) == [profile["cofrac_number"]]
    n1 = (await http.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "n1"})).content
    (tmp_path / "n1.xml").write_bytes(n1)
    assert _sgl("validate", "cda", str(tmp_path / "n1.xml"), env={"SGL_CDA_KIT_DIR": str(kit_dir)}).returncode == 0

    pdf = pdf_text((await http.get(f"DiagnosticReport/{report['id']}/$cr-bio", params={"format": "pdf"})).content)
    assert "N° patient (IPP) 000003" in pdf and pid not in pdf
    assert AUTOVERIFICATION in pdf


async def test_biologist_without_qualification_gives_a_task_naming_the_fhir_element_and_no_document(
        server: SglProcess, http: httpx.AsyncClient) -> None:
    profile = json.loads(DEFAULT_PROFILE.read_text(encoding="utf-8"))
    rpps = profile["responsible_biologist"]["rpps"]
    found = (await http.get("Practitioner", params={"identifier": f"{RPPS}|{rpps}"})).json()
    [biologist] = [e["resource"] for e in found.get("entry", ()) if e["search"]["mode"] == "match"] or [None]
    if biologist is None:
        biologist = {**_practitioner(rpps, "BIOLOGISTE", "Responsable"), "id": "e2e-biologist"}
    biologist.pop("qualification", None)
    answer = await http.put(f"Practitioner/{biologist['id']}", json=biologist)
    assert answer.status_code in (200, 201), answer.text
    requester = await _created(http, _practitioner("810002422987", "DURAND", "Anne"))
    pid = await _admitted(server, http, "000004")
    ids = await _results(http, pid, requester)
    validated = await http.post("Observation/$validate-technical", json=_technical(ids))
    assert validated.status_code == 200, validated.text  # the validation stands: the document step fails apart
    found = (await http.get("DiagnosticReport", params={"result": f"Observation/{ids[0]}"})).json()
    [report] = [e["resource"] for e in found["entry"] if e["search"]["mode"] == "match"]
    failed = await wait_for_documents(http, report["id"], expect="failed")
    reason = documents_status(failed)["reason"]
    assert "Practitioner.qualification" in reason and "TRE_G15" in reason
    assert "presentedForm" not in failed
    [task] = await worklist(http, "document-production-failed", f"DiagnosticReport/{report['id']}")
    assert "Practitioner.qualification" in task["description"]
