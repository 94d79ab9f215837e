"""Vendor-shaped HL7 v2 result messages, one per cause of loss found in the field, over the real MLLP
listener of ``sgl serve``: the ACK code, and every stored Observation compared with what was sent.

The messages are written here, shaped as hematology and chemistry analyzers send them (MSH-3 naming
the instrument model, OBX-18 the instrument, OBX-19 the run time, repeated OBX-3 with OBX-4 sub-ids).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived
from terminology.loinc import LOINC_SYSTEM
from terminology.ucum import UCUM_SYSTEM
from tests.support.analyzer_lab import (
    HEMATO,
    Tube,
    coding,
    instrument,
    new_tube,
    search,
    task_inputs,
    worklist,
)

pytestmark = pytest.mark.db
CATALOG = "https://opensgl.org/fhir/CodeSystem/catalogue"
SNOMED = "http://snomed.info/sct"
AUTOMATE = "https://opensgl.org/fhir/CodeSystem/automate"
RUN = "20261126081200+0100"
RUN_FHIR = "2026-11-26T08:12:00+01:00"


@dataclass(frozen=True)
class Obx:
    """One OBX as an analyzer writes it; ``text()`` puts each part at its HL7 position."""

    kind: str
    code: str
    value: str
    units: str = ""
    sub: str = ""
    ref: str = ""
    flag: str = ""
    status: str = "F"
    analyzer: str = "BIO1"
    run: str = RUN

    def text(self, n: int) -> str:
        fields = [str(n), self.kind, self.code, self.sub, self.value, self.units, self.ref, self.flag, "", "",
                  self.status, "", "", self.run[:14], "", "", "", self.analyzer, self.run]
        return "OBX|" + "|".join(fields)


def message(*groups: str, app: str = "CHEM-800^BIOCHIMIE^L", event: str = "ORU^R01^ORU_R01",
            control: str | None = None, pid: str = "PID|1||IPP-UNKNOWN^^^HOSP^PI||MARTIN^CLAIRE") -> str:
    head = (f"MSH|^~\\&|{app}|LABO|OPENSGL|LABO|20261126081500+0100||{event}|{control or uuid.uuid4().hex[:16]}|"
            "P|2.5.1|||NE|AL||UNICODE UTF-8\r")
    return head + pid + "\r" + "".join(g if g.endswith("\r") else g + "\r" for g in groups)


def order(accession: str, universal: str, *obx: Obx) -> str:
    segs = [f"OBR|1|PL-{accession}|{accession}^LAB|{universal}|||20261126073000+0100"]
    segs += [o.text(n) for n, o in enumerate(obx, 1)]
    return "\r".join(segs) + "\r"


async def send(mllp: MllpClient, text: str) -> Hl7Message:
    """The ACK, whatever its code (AE/AR come back as NackReceived from the production client)."""
    try:
        return await mllp.send(text)
    except NackReceived as nack:
        return nack.ack


def msa(ack: Hl7Message) -> str:
    segment = ack.segment("MSA")
    assert segment is not None
    return segment.get(1)


def errs(ack: Hl7Message) -> list[tuple[str, str, str, str]]:
    """(location, table 0357 code, severity, text) of each ERR."""
    return [(str(e.field(2)), e.get("3.1"), e.get(4), e.get(8)) for e in ack.segments("ERR")]


async def stored(fhir: httpx.AsyncClient, tube: Tube) -> list[dict[str, Any]]:
    return await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}")


def by_code_and_sub(observations: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for obs in observations:
        parts = instrument(obs)
        out[(parts["testCode"], parts.get("subId", ""))] = obs
    assert len(out) == len(observations), "two Observations for one (test code, sub-id)"
    return out


def assert_as_sent(obs: dict[str, Any], sent: Obx, tube: Tube) -> None:
    """The fields every stored result must carry as the instrument sent them."""
    parts = instrument(obs)
    assert obs["status"] == "preliminary"
    assert obs["specimen"] == {"reference": f"Specimen/{tube.specimen_id}"}
    assert obs["subject"] == {"reference": f"Patient/{tube.patient_id}"}
    assert parts["analyzer"] == sent.analyzer and parts["status"] == sent.status
    assert parts["value"] == sent.value.replace("\\S\\", "^")
    assert parts["runTime"] == RUN_FHIR and parts.get("valueType") == sent.kind
    assert parts.get("flag", []) == ([sent.flag] if sent.flag else [])
    assert parts.get("referenceRange", "") == sent.ref
    if sent.sub:
        assert parts["subId"] == sent.sub




async def test_repeated_obx3_with_and_without_sub_ids_are_each_stored(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("NFS",))
    sent = [Obx("NM", "WBC^WBC^99HEM", "6.42", "10*9/L", ref="4.00-10.00", flag="N", analyzer="HEM1"),
            Obx("NM", "PLT^PLT^99HEM", "244", "10*9/L", sub="1", ref="150-400", flag="N", analyzer="HEM1"),
            Obx("NM", "PLT^PLT^99HEM", "236", "10*9/L", sub="2", analyzer="HEM1"),
            Obx("NM", "PLT^PLT^99HEM", "251", "10*9/L", sub="3", analyzer="HEM1"),
            Obx("NM", "RBC^RBC^99HEM", "4.61", "10*12/L", analyzer="HEM1"),
            Obx("NM", "RBC^RBC^99HEM", "4.60", "10*12/L", analyzer="HEM1")]  # repeated without OBX-4
    ack = await send(mllp, message(order(tube.accession, "57021-8^CBC^LN", *sent), app="XN-350^HEMATO^L"))
    assert msa(ack) == "AA" and errs(ack) == []
    found = by_code_and_sub(await stored(fhir, tube))
    expected = {("WBC", ""): ("GB", 0), ("PLT", "1"): ("PLQ", 1), ("PLT", "2"): ("PLQ", 2),
                ("PLT", "3"): ("PLQ", 3), ("RBC", ""): ("GR", 4), ("RBC", "#2"): ("GR", 5)}
    assert set(found) == set(expected)
    for key, (analysis, index) in expected.items():
        obs = found[key]
        assert_as_sent(obs, sent[index], tube)
        assert coding(obs, CATALOG) == analysis
        assert obs["valueQuantity"]["value"] == float(sent[index].value)
        assert obs["valueQuantity"]["code"] == sent[index].units and obs["valueQuantity"]["system"] == UCUM_SYSTEM
        assert obs["basedOn"] == [{"reference": f"ServiceRequest/{tube.requests['NFS']}"}]


async def test_test_code_in_obx3_4_only_and_a_loinc_coded_obx3_are_matched(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY", "URE"))
    alternate = Obx("NM", "^^^GLU^Glucose^99BIO", "0.98", "g/L", ref="0.70-1.10", flag="N")
    loinc = Obx("NM", "22664-7^Urea^LN", "5.1", "mmol/L")
    ack = await send(mllp, message(order(tube.accession, "GLY", alternate, loinc)))
    assert msa(ack) == "AA" and errs(ack) == []
    found = {coding(o, CATALOG): o for o in await stored(fhir, tube)}
    assert set(found) == {"GLU", "UREA"}
    assert_as_sent(found["GLU"], alternate, tube)
    assert instrument(found["GLU"])["testCode"] == "GLU" and found["GLU"]["valueQuantity"]["value"] == 0.98
    assert {"system": f"{AUTOMATE}/BIO1", "code": "GLU", "display": "Glucose"} in found["GLU"]["code"]["coding"]
    urea = found["UREA"]
    assert_as_sent(urea, loinc, tube)
    assert coding(urea, LOINC_SYSTEM) == "22664-7"
    assert not any(c["system"].startswith(AUTOMATE) for c in urea["code"]["coding"])  # LN is LOINC, not local
    assert urea["valueQuantity"] == {"value": 5.1, "unit": "mmol/L", "system": UCUM_SYSTEM, "code": "mmol/L"}


async def test_a_partner_configured_for_the_alternate_code_is_read_from_obx3_4(mllp, fhir) -> None:
    """CHEM-ALT is registered with ``--option test_code=alternate`` (tests/support/partners.json): its OBX-3.1
    carries the instrument's internal channel number, the lab's test code is OBX-3.4. The same message from a
    partner without the option is read by OBX-3.1 and the channel number is unknown (worklist)."""
    tube = await new_tube(fhir, ("GLY",))
    channel = Obx("NM", "1001^GLUCOSE CH1^99CHX^GLU^Glucose^99BIO", "1.02", "g/L", ref="0.70-1.10", flag="N")
    ack = await send(mllp, message(order(tube.accession, "GLY", channel), app="CHEM-ALT^BIOCHIMIE^L"))
    assert msa(ack) == "AA" and errs(ack) == []
    found = {coding(o, CATALOG): o for o in await stored(fhir, tube)}
    assert set(found) == {"GLU"}
    assert instrument(found["GLU"])["testCode"] == "GLU" and found["GLU"]["valueQuantity"]["value"] == 1.02
    other = await new_tube(fhir, ("GLY",))
    ack = await send(mllp, message(order(other.accession, "GLY", channel)))  # CHEM-800: no option
    assert [e[2] for e in errs(ack)] == ["W"]  # stored on the worklist: channel 1001 is no test code here
    assert all(instrument(o)["testCode"] == "1001" for o in await stored(fhir, other))


async def test_coded_answers_keep_their_codes_and_systems(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("HEPB", "HEPC"))
    hbs = Obx("CWE", "HBSAG^Ag HBs^99BIO", "260385009^Negative^SCT^NEG^Négatif^99BIO")
    hcv = Obx("CE", "HCV^Ac anti-VHC^99BIO", "LA6577-6^Negative^LN")
    ack = await send(mllp, message(order(tube.accession, "HEPB", hbs, hcv)))
    assert msa(ack) == "AA" and errs(ack) == []
    found = {coding(o, CATALOG): o for o in await stored(fhir, tube)}
    assert found["HBSAG"]["valueCodeableConcept"] == {
        "coding": [{"system": SNOMED, "code": "260385009", "display": "Negative"},
                   {"system": f"{AUTOMATE}/BIO1/99BIO", "code": "NEG", "display": "Négatif"}],
        "text": "Negative"}
    assert found["HCV"]["valueCodeableConcept"] == {
        "coding": [{"system": LOINC_SYSTEM, "code": "LA6577-6", "display": "Negative"}], "text": "Negative"}
    for obs in found.values():
        assert "valueString" not in obs and "valueQuantity" not in obs


async def test_string_time_date_and_composite_values_are_stored_as_their_type_says(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))
    sent = [Obx("ST", "LOTNO^Reagent lot^99BIO", "0511340140"),
            Obx("TM", "TSTART^Start time^99BIO", "0959"),
            Obx("DTM", "TCAL^Calibration^99BIO", "20261126081500+0100"),
            Obx("DT", "TEXP^Expiry^99BIO", "20270131"),
            Obx("ED", "SCATTER^Scattergram^99BIO", "^image^png^Base64^iVBORw0KGgoAAAANSUhEUg=="),
            Obx("XTN", "CALLBK^Callback^99BIO", "^WPN^PH^^33^1^45678901"),
            Obx("SN", "TITER^Titer^99BIO", "^1^:^40"),
            Obx("SN", "RANGE^Range^99BIO", "^10^-^20", "mg/L")]
    ack = await send(mllp, message(order(tube.accession, "GLY", *sent)))
    assert msa(ack) == "AA"
    warnings = errs(ack)
    assert len(warnings) == 8 and {(w[1], w[2]) for w in warnings} == {("103", "W")}  # unknown test codes
    assert [w[0] for w in warnings] == [f"OBX^{n}" for n in range(1, 9)]
    found = {instrument(o)["testCode"]: o for o in await stored(fhir, tube)}
    assert found["LOTNO"]["valueString"] == "0511340140"
    assert found["TSTART"]["valueTime"] == "09:59:00"
    assert found["TCAL"]["valueDateTime"] == "2026-11-26T08:15:00+01:00"
    assert found["TEXP"]["valueDateTime"] == "2027-01-31"
    assert found["SCATTER"]["valueString"] == "^image^png^Base64^iVBORw0KGgoAAAANSUhEUg=="
    assert found["CALLBK"]["valueString"] == "^WPN^PH^^33^1^45678901"
    assert found["TITER"]["valueRatio"] == {"numerator": {"value": 1}, "denominator": {"value": 40}}
    assert found["RANGE"]["valueRange"] == {"low": {"value": 10, "unit": "mg/L"}, "high": {"value": 20, "unit": "mg/L"}}
    for obs in found.values():
        assert "valueQuantity" not in obs
    tasks = await worklist(fhir, tube.accession)
    assert sorted(task_inputs(t)["test-code"][0] for t in tasks) == sorted(found)
    assert {t["statusReason"]["coding"][0]["code"] for t in tasks} == {"unknown-test-code"}


async def test_units_with_an_escaped_or_bare_component_separator_are_kept_whole(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("NFS",))
    bare = Obx("NM", "WBC^WBC^99HEM", "6.4", "10^3/uL", analyzer="HEM1")
    escaped = Obx("NM", "PLT^PLT^99HEM", "244", "10\\S\\3/uL", analyzer="HEM1")
    ack = await send(mllp, message(order(tube.accession, "NFS", bare, escaped)))
    assert msa(ack) == "AA" and [(e[1], e[2]) for e in errs(ack)] == [("103", "W"), ("103", "W")]  # unit-mismatch
    for obs in await stored(fhir, tube):
        assert instrument(obs)["unit"] == "10^3/uL" and obs["valueQuantity"]["unit"] == "10^3/uL"
    assert {t["statusReason"]["coding"][0]["code"] for t in await worklist(fhir, tube.accession)} == {"unit-mismatch"}


@pytest.mark.parametrize("event", ["OUL^R23^OUL_R23", "OUL^R24^OUL_R24", "ORU^R30^ORU_R30", "ORU^R32^ORU_R32"])
async def test_other_result_message_structures_are_routed_and_stored(mllp, fhir, event: str) -> None:
    tube = await new_tube(fhir, ("IONO",))
    sodium, potassium = Obx("NM", "NA^Sodium^99BIO", "140", "mmol/L"), Obx("NM", "K^Potassium^99BIO", "4.1", "mmol/L")
    results = f"{sodium.text(1)}\r{potassium.text(2)}\r"
    if event.startswith("OUL^R23"):  # specimen, container, then the order and its results
        body = f"SPM|1|{tube.accession}&LAB||SER\rSAC|||{tube.accession}\rOBR|1||F-1|IONO\r{results}"
    elif event.startswith("OUL^R24"):  # the order, its specimen, then the results
        body = f"OBR|1||F-1|IONO\rSPM|1|{tube.accession}&LAB||SER\r{results}"
    else:
        body = f"ORC|SC|PL-1|{tube.accession}\rOBR|1|PL-1|{tube.accession}|IONO\r{results}"
    ack = await send(mllp, message(body, event=event))
    assert msa(ack) == "AA" and errs(ack) == []
    found = {coding(o, CATALOG): o for o in await stored(fhir, tube)}
    assert set(found) == {"NA", "K"}
    assert_as_sent(found["NA"], sodium, tube)
    assert_as_sent(found["K"], potassium, tube)
    assert found["K"]["valueQuantity"]["value"] == 4.1


async def test_a_correction_makes_a_new_version_and_a_true_resend_writes_nothing(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))
    first = Obx("NM", "GLU^Glucose^99BIO", "1.02", "g/L", status="F")
    assert msa(await send(mllp, message(order(tube.accession, "GLY", first)))) == "AA"
    [original] = await stored(fhir, tube)
    corrected = Obx("NM", "GLU^Glucose^99BIO", "1.05", "g/L", status="C")
    text = message(order(tube.accession, "GLY", corrected))
    for _ in range(2):  # the correction, then its resend after a lost ACK
        assert msa(await send(mllp, text)) == "AA"
    [now] = await stored(fhir, tube)
    assert now["id"] == original["id"] and now["meta"]["versionId"] == "2"
    assert now["valueQuantity"]["value"] == 1.05 and instrument(now)["status"] == "C"
    assert instrument(now)["correction"] == "instrument correction (status C)"
    other = Obx("NM", "GLU^Glucose^99BIO", "1.07", "g/L", status="F")  # same run, another value, no C
    assert msa(await send(mllp, message(order(tube.accession, "GLY", other)))) == "AA"
    [latest] = await stored(fhir, tube)
    assert latest["meta"]["versionId"] == "3" and latest["valueQuantity"]["value"] == 1.07
    history = (await fhir.get(f"Observation/{original['id']}/_history")).json()
    values = sorted(e["resource"]["valueQuantity"]["value"] for e in history["entry"])
    assert values == [1.02, 1.05, 1.07]


async def test_one_bad_numeric_among_a_hundred_is_refused_alone(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("NFS",))
    good = [Obx("NM", f"{code}^{code}^99HEM", value, units, sub=str(rep), analyzer="HEM1")
            for rep in range(1, 6) for code, _, value, units in HEMATO]
    bad = Obx("NM", "WBC^WBC^99HEM", "6,42", "10*9/L", sub="9", analyzer="HEM1")
    sent = good[:56] + [bad] + good[56:]
    ack = await send(mllp, message(order(tube.accession, "NFS", *sent)))
    assert msa(ack) == "AE"
    [(where, code, severity, text)] = errs(ack)
    assert (where, code, severity) == ("OBX^57^5", "102", "E") and "'6,42' is not a number" in text
    found = by_code_and_sub(await stored(fhir, tube))
    assert len(found) == 100
    for item in good:
        obs = found[(item.code.split("^")[0], item.sub)]
        assert_as_sent(obs, item, tube)
        assert obs["valueQuantity"]["value"] == float(item.value) and obs["valueQuantity"]["code"] == item.units
    [task] = await worklist(fhir, tube.accession)
    inputs = task_inputs(task)
    assert task["statusReason"]["coding"][0]["code"] == "invalid-result" and "focus" not in task
    assert inputs["received"] == [bad.text(57)] and inputs["test-code"] == ["WBC"] and inputs["sub-id"] == ["9"]


async def test_the_same_message_on_five_connections_at_once_is_stored_once(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("IONO",))
    text = message(order(tube.accession, "IONO", Obx("NM", "NA^Sodium^99BIO", "139", "mmol/L"),
                         Obx("NM", "K^Potassium^99BIO", "3.9", "mmol/L")), control="SAME-" + tube.accession)

    async def one() -> str:
        async with MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=120) as client:
            return msa(await client.send(text))

    assert await asyncio.gather(*(one() for _ in range(5))) == ["AA"] * 5
    found = await stored(fhir, tube)
    assert sorted(coding(o, CATALOG) for o in found) == ["K", "NA"]
    assert all(o["meta"]["versionId"] == "1" for o in found)


async def test_an_unmatched_result_names_the_patient_its_pid_identifies(mllp, fhir) -> None:
    ipp = "IPP" + uuid.uuid4().hex[:8].upper()
    created = await fhir.post("Patient", json={
        "resourceType": "Patient", "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.7", "value": ipp}],
        "name": [{"family": "DURAND", "given": ["Paul"]}], "gender": "male", "birthDate": "1961-02-03"})
    assert created.status_code == 201, created.text
    ghost = "NOTUBE" + uuid.uuid4().hex[:8].upper()
    pid = f"PID|1||{ipp}^^^CHU-X&1.2.250.1.71.4.2.7&ISO^PI||DURAND^PAUL||19610203|M"
    ack = await send(mllp, message(order(ghost, "GLY", Obx("NM", "GLU^Glucose^99BIO", "1.31", "g/L")), pid=pid))
    assert msa(ack) == "AA"
    [(where, code, severity, text)] = errs(ack)
    assert (where, code, severity) == ("OBX^1", "204", "W") and "unknown-accession" in text
    [task] = await worklist(fhir, ghost)
    assert task["for"] == {"reference": f"Patient/{created.json()['id']}"}
    assert task_inputs(task)["patient-identifier"] == [ipp] and task_inputs(task)["patient-name"] == ["DURAND PAUL"]


async def test_a_correction_of_a_validated_result_is_stored_beside_it_and_put_on_the_worklist(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))
    first = Obx("NM", "GLU^Glucose^99BIO", "1.02", "g/L")
    assert msa(await send(mllp, message(order(tube.accession, "GLY", first)))) == "AA"
    [original] = await stored(fhir, tube)
    validated = await fhir.post(f"Observation/{original['id']}/$validate-technical",
                                json={"resourceType": "Parameters", "parameter": []})
    assert validated.status_code == 200, validated.text
    seen = (await fhir.get(f"Observation/{original['id']}")).json()
    corrected = Obx("NM", "GLU^Glucose^99BIO", "1.20", "g/L", status="C")
    ack = await send(mllp, message(order(tube.accession, "GLY", corrected)))
    assert msa(ack) == "AA"
    [(where, code, severity, text)] = errs(ack)
    assert (where, code, severity) == ("OBX^1", "205", "W") and "corrected-after-validation" in text
    unchanged = (await fhir.get(f"Observation/{original['id']}")).json()
    assert unchanged["meta"]["versionId"] == seen["meta"]["versionId"]
    assert unchanged["valueQuantity"]["value"] == 1.02  # what the technician validated stays as it was
    [new] = [o for o in await stored(fhir, tube) if o["id"] != original["id"]]
    assert new["valueQuantity"]["value"] == 1.2 and new["status"] == "preliminary"
    assert instrument(new)["correction"] == "instrument correction (status C)"
    [task] = await worklist(fhir, tube.accession)
    assert task["statusReason"]["coding"][0]["code"] == "corrected-after-validation"
    assert task["focus"] == {"reference": f"Observation/{new['id']}"} and original["id"] in task["statusReason"]["text"]


async def test_the_journal_names_the_partner_and_what_the_message_produced(mllp, fhir, sgl_db) -> None:
    tube = await new_tube(fhir, ("GLY",))
    control = "JRN-" + tube.accession
    ack = await send(mllp, message(order(tube.accession, "GLY", Obx("NM", "GLU^Glucose^99BIO", "0.99", "g/L")),
                                   control=control))
    assert msa(ack) == "AA"
    entry = await sgl_db.db["inbound_messages"].find_one({"control_id": control})
    [obs] = await stored(fhir, tube)
    assert entry["status"] == "processed" and entry["produced"] == [f"Observation/{obs['id']}"]
    assert entry["partner"]["application"] == "CHEM-800" and entry["partner"]["facility"] == "LABO"


async def test_a_correction_that_resolves_a_worklist_problem_closes_its_task(mllp, fhir) -> None:
    tube = await new_tube(fhir, ("NFS",))
    wrong_unit = Obx("NM", "WBC^WBC^99HEM", "6.4", "10^3/uL", analyzer="HEM1")
    ack = await send(mllp, message(order(tube.accession, "NFS", wrong_unit)))
    assert msa(ack) == "AA" and [(e[1], e[2]) for e in errs(ack)] == [("103", "W")]
    [task] = await worklist(fhir, tube.accession)
    corrected = Obx("NM", "WBC^WBC^99HEM", "6.4", "10*9/L", status="C", analyzer="HEM1")
    ack = await send(mllp, message(order(tube.accession, "NFS", corrected)))
    assert msa(ack) == "AA" and errs(ack) == []
    assert await worklist(fhir, tube.accession) == []
    closed = (await fhir.get(f"Task/{task['id']}")).json()
    assert closed["status"] == "cancelled" and "corrected" in closed["statusReason"]["text"]
    [obs] = await stored(fhir, tube)
    assert obs["meta"]["versionId"] == "2" and obs["valueQuantity"]["code"] == "10*9/L"
