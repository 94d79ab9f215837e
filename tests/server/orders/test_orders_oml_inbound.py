"""OML^O21 over real MLLP to ``sgl serve``: stored then AA; a bad message gets AE/AR naming the spot
and nothing is written."""

from __future__ import annotations

import httpx

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived
from server.database import Database
from server.worklist_events import COUNTS
from tests.support.oml_samples import oml
from tests.support.orders_lab import count, unique
from tests.support.sgl_server import SglProcess

TYPES = ("Patient", "ServiceRequest", "Specimen", "Provenance", "Observation")


async def send(port: int, text: str) -> Hl7Message:
    async with MllpClient("127.0.0.1", port, read_timeout=30) as client:
        try:
            return await client.send(text)
        except NackReceived as nack:
            return nack.ack


async def _counts(sgl_db: Database) -> list[int]:
    return [await count(sgl_db, t) for t in TYPES]


async def test_oml_creates_patient_orders_and_specimens_then_answers_AA(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, order_people: object) -> None:
    ipp, control = unique("OML"), unique("CTRL")
    placers = [unique("PL"), unique("PL")]
    ack = await send(sgl_server.mllp_port, oml(control, ipp, [(placers[0], "GLY", "S-" + placers[0]),
                                                              (placers[1], "NFS", "S-" + placers[1])]))
    msa = ack.segment("MSA")
    assert msa is not None and msa.get(1) == "AA" and msa.get(2) == control

    [patient] = [e["resource"] for e in (await fhir.get("Patient", params={
        "identifier": f"urn:oid:1.2.250.1.999.1|{ipp}"})).json()["entry"]]
    assert patient["name"][0]["family"] == "ORDRE-HL7" and patient["birthDate"] == "1985-04-12"
    requests = {}
    for placer in placers:
        found = (await fhir.get("ServiceRequest", params={"identifier": placer})).json()
        [requests[placer]] = [e["resource"] for e in found["entry"]]
    gly, nfs = requests[placers[0]], requests[placers[1]]
    assert gly["code"]["coding"][0]["code"] == "GLY" and nfs["code"]["coding"][0]["code"] == "NFS"
    assert gly["subject"]["reference"] == f"Patient/{patient['id']}"
    assert gly["requisition"] == nfs["requisition"]
    assert gly["requester"]["identifier"]["value"] == "10003"
    assert [e["valueReference"]["identifier"]["value"] for e in gly["extension"]] == ["20001", "20002"]
    specimen = (await fhir.get(gly["specimen"][0]["reference"])).json()
    assert specimen["identifier"][0]["value"] == "S-" + placers[0]
    assert specimen["collection"]["collectedDateTime"] == "2026-11-26T07:45:00+01:00"
    assert specimen["container"][0]["type"]["coding"][0]["code"] == "FLUO"
    assert len(specimen["accessionIdentifier"]["value"]) == 10

    again = await send(sgl_server.mllp_port, oml(unique("CTRL"), ipp, [(unique("PL"), "URE", unique("S"))]))
    assert again.segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    found = (await fhir.get("Patient", params={"identifier": f"urn:oid:1.2.250.1.999.1|{ipp}"})).json()
    assert found["total"] == 1  # the known IPP is reused, not created twice


async def test_oml_with_an_unknown_exam_answers_AE_at_OBR_4_and_writes_nothing(
        sgl_server: SglProcess, sgl_db: Database, order_people: object) -> None:
    before = await _counts(sgl_db)
    control = unique("CTRL")
    ack = await send(sgl_server.mllp_port, oml(control, unique("OML"), [(unique("PL"), "GLY", unique("S")),
                                                                        (unique("PL"), "NOPE", unique("S"))]))
    assert ack.segment("MSA").get(1) == "AE" and ack.segment("MSA").get(2) == control  # type: ignore[union-attr]
    err = ack.segment("ERR")
    assert err is not None and err.get("2.1") == "OBR" and err.get("2.2") == "2" and err.get("2.3") == "4"
    assert err.get("3.1") == "103" and "NOPE" in err.get(8)
    assert await _counts(sgl_db) == before


async def test_malformed_oml_answers_AR_with_the_location_and_writes_nothing(
        sgl_server: SglProcess, sgl_db: Database, order_people: object) -> None:
    before = await _counts(sgl_db)
    text = oml(unique("CTRL"), "X", [(unique("PL"), "GLY", unique("S"))]).replace("^PI|", "^NH|")
    ack = await send(sgl_server.mllp_port, text)
    assert ack.segment("MSA").get(1) == "AR"  # type: ignore[union-attr]
    err = ack.segment("ERR")
    assert err is not None and (err.get("2.1"), err.get("2.3"), err.get("3.1")) == ("PID", "3", "101")
    bad_date = oml(unique("CTRL"), unique("OML"), [(unique("PL"), "GLY", unique("S"))]).replace(
        "|20261126074500", "|20261345074500")
    ack = await send(sgl_server.mllp_port, bad_date)
    err = ack.segment("ERR")
    assert err is not None and (err.get("2.1"), err.get("2.3"), err.get("3.1")) == ("SPM", "17", "102")
    assert await _counts(sgl_db) == before


async def test_resent_oml_is_acknowledged_again_without_duplicates(
        sgl_server: SglProcess, sgl_db: Database, order_people: object) -> None:
    placer, ipp = unique("PL"), unique("OML")
    text = oml(unique("CTRL"), ipp, [(placer, "GLY", unique("S"))])
    assert (await send(sgl_server.mllp_port, text)).segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    before = await _counts(sgl_db)
    assert (await send(sgl_server.mllp_port, text)).segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    assert await _counts(sgl_db) == before
    mixed = oml(unique("CTRL"), ipp, [(unique("PL"), "NFS", unique("S")), (placer, "GLY", unique("S"))])
    ack = await send(sgl_server.mllp_port, mixed)
    err = ack.segment("ERR")
    assert ack.segment("MSA").get(1) == "AE"  # type: ignore[union-attr]
    assert err is not None and (err.get("2.1"), err.get("2.2"), err.get("2.3"), err.get("3.1")) == (
        "ORC", "2", "2", "205")
    assert await _counts(sgl_db) == before


async def test_the_prescriber_s_comments_on_an_order_are_stored_as_its_notes(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, order_people: object) -> None:
    """Found by probing as a hospital EHR: the NTE after an OBR ("patient sous AVK") was ACKed and dropped."""
    placer, specimen = unique("PL"), unique("S")
    text = oml(unique("CTRL"), unique("OML"), [(placer, "GLY", specimen)]).replace(
        f"SPM|1|{specimen}", f"NTE|1|P|Patient sous AVK, merci de doser l'INR\rSPM|1|{specimen}", 1)
    ack = await send(sgl_server.mllp_port, text)
    assert ack.segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    found = (await fhir.get("ServiceRequest", params={"identifier": placer})).json()
    [request] = [e["resource"] for e in found["entry"]]
    assert request["note"] == [{"text": "Patient sous AVK, merci de doser l'INR"}]


async def test_the_prescriber_s_clinical_information_is_stored_as_observations_the_order_points_at(
        sgl_server: SglProcess, sgl_db: Database, fhir: httpx.AsyncClient, order_people: object) -> None:
    """Found by probing as a hospital EHR: the OBX under an OBR (weight, pregnancy) and their NTE were ACKed AA and
    kept nowhere but the raw journal. A value that does not read as its type is AE at OBX-5, nothing written."""
    placer, specimen, ipp = unique("PL"), unique("S"), unique("OML")
    clinical = ("OBX|1|NM|29463-7^Poids corporel^LN||72.5|kg^kg^UCUM|||||F\rNTE|1|P|pesé ce matin\r"
                "OBX|2|CWE|82810-3^Grossesse^LN||LA15173-0^Enceinte^LN||||||F\r")
    text = oml(unique("CTRL"), ipp, [(placer, "GLY", specimen)]).replace(
        f"SPM|1|{specimen}", f"{clinical}SPM|1|{specimen}", 1)
    ack = await send(sgl_server.mllp_port, text)
    assert ack.segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    found = (await fhir.get("ServiceRequest", params={"identifier": placer})).json()
    [request] = [e["resource"] for e in found["entry"]]
    weight, pregnancy = [(await fhir.get(ref["reference"])).json() for ref in request["supportingInfo"]]
    assert weight["subject"] == request["subject"] == pregnancy["subject"]
    assert weight["status"] == "final" and weight["code"]["coding"][0]["code"] == "29463-7"
    assert weight["valueQuantity"] == {"value": 72.5, "unit": "kg", "system": "http://unitsofmeasure.org",
                                       "code": "kg"}
    assert weight["note"] == [{"text": "pesé ce matin"}] and "note" not in request
    assert pregnancy["valueCodeableConcept"]["coding"][0]["code"] == "LA15173-0"

    before = await _counts(sgl_db)
    control, specimen = unique("CTRL"), unique("S")
    bad = oml(control, ipp, [(unique("PL"), "GLY", specimen)]).replace(
        f"SPM|1|{specimen}", f"OBX|1|NM|29463-7^Poids^LN||soixante|kg|||||F\rSPM|1|{specimen}", 1)
    ack = await send(sgl_server.mllp_port, bad)
    assert ack.segment("MSA").get(1) == "AE" and ack.segment("MSA").get(2) == control  # type: ignore[union-attr]
    err = ack.segment("ERR")
    assert err is not None and (err.get("2.1"), err.get("2.2"), err.get("2.3"), err.get("3.1")) == (
        "OBX", "1", "5", "102")
    assert await _counts(sgl_db) == before


async def test_clinical_information_sent_as_preliminary_is_not_on_the_bench_s_list(
        sgl_server: SglProcess, fhir: httpx.AsyncClient, order_people: object) -> None:
    """An EHR may send the order's clinical information as P (table 0085: preliminary), stored as sent. It is
    not a laboratory result: the technician's list of results to validate (the bench, and its live count) must
    not offer it for technical validation."""
    placer, specimen = unique("PL"), unique("S")
    clinical = "OBX|1|CWE|82810-3^Grossesse^LN||LA15173-0^Enceinte^LN||||||P\r"
    text = oml(unique("CTRL"), unique("OML"), [(placer, "GLY", specimen)]).replace(
        f"SPM|1|{specimen}", f"{clinical}SPM|1|{specimen}", 1)
    ack = await send(sgl_server.mllp_port, text)
    assert ack.segment("MSA").get(1) == "AA"  # type: ignore[union-attr]
    [request] = [e["resource"] for e in (await fhir.get("ServiceRequest", params={"identifier": placer})).json()[
        "entry"]]
    [reference] = [ref["reference"] for ref in request["supportingInfo"]]
    pregnancy = (await fhir.get(reference)).json()
    assert pregnancy["status"] == "preliminary"  # stored as sent
    rtype, pairs = COUNTS["received"]
    listed = (await fhir.get(rtype, params=[*pairs, ("_id", pregnancy["id"])])).json()
    assert not listed.get("entry"), listed
