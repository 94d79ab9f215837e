"""What an outside probe of ``sgl serve`` found acknowledged and not stored, end to end over the real MLLP and
ASTM listeners: the instrument's comments (HL7 NTE after an OBX, ASTM C after an R), an ASTM value with
components (``Negative^0.52``: the index), a repeated OBX-5 of a coded type (two organisms).

The messages are written here in the shapes instruments send: an OBX followed by NTE remarks, a serology
R record with interpretation^index, a hematology R record followed by C comment records.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from facades.astm import send_message
from facades.hl7v2 import MllpClient, NackReceived
from tests.support.analyzer_lab import instrument, new_tube, search, task_inputs, worklist
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db


async def stored(fhir: httpx.AsyncClient, specimen_id: str) -> dict[str, dict]:
    """The tube's Observations by the analyzer's test code."""
    found = await search(fhir, "Observation", specimen=f"Specimen/{specimen_id}")
    return {instrument(o)["testCode"]: o for o in found}


async def test_nte_remarks_are_stored_and_a_repeated_coded_value_is_refused_with_its_place(
        mllp: MllpClient, fhir: httpx.AsyncClient) -> None:
    tube = await new_tube(fhir)
    message = (f"MSH|^~\\&|BIO1|LABO|OPENSGL|LABO|20261126081500+0100||ORU^R01^ORU_R01|{uuid.uuid4().hex[:12]}|"
               "P|2.5|||NE|AL||UNICODE UTF-8\r"
               f"PID|1||IPP-P1^^^HOSP^PI||MARTIN^CLAIRE\rOBR|1|PL-1|{tube.accession}^LAB|GLY^Glycémie\r"
               "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F|||||||BIO1|20261126081200+0100\r"
               "NTE|1|I|Hémolyse modérée \\T\\ lipémie\rNTE|2|I|Résultat après dilution 1/2\r"
               "OBX|2|CE|GERME^Germe||ECOLI^Escherichia coli^L~KLEPNE^Klebsiella pneumoniae^L||||||F|||||||BIO1|"
               "20261126081200+0100\r")
    with pytest.raises(NackReceived) as nack:
        await mllp.send(message)
    ack = nack.value.ack
    assert nack.value.acknowledgment_code == "AE" and ack.segment("MSA").get(2) == message.split("|")[9]
    [err] = ack.segments("ERR")
    assert (err.get("2.1"), err.get("2.2"), err.get("2.3"), err.get("3.1")) == ("OBX", "2", "5", "102")
    assert "2 repetitions" in err.get(8)
    [glucose] = (await stored(fhir, tube.specimen_id)).values()
    assert glucose["valueQuantity"]["value"] == 1.02
    assert glucose["note"] == [{"authorString": "BIO1", "text": "Hémolyse modérée & lipémie"},
                               {"authorString": "BIO1", "text": "Résultat après dilution 1/2"}]
    [task] = await worklist(fhir, tube.accession)
    assert any("KLEPNE^Klebsiella pneumoniae" in r for r in task_inputs(task)["received"])

    # the analyzer then posts the glucose as wrong (OBX-11 W, same value): refused with its reason, not a resend
    wrong = message.replace("|N|||F|||||||BIO1|", "|N|||W|||||||BIO1|")
    wrong = wrong.replace(message.split("|")[9], "W" + uuid.uuid4().hex[:8])
    with pytest.raises(NackReceived) as refused:
        await mllp.send(wrong.split("\rOBX|2")[0] + "\r")
    [err] = refused.value.ack.segments("ERR")
    assert (err.get("2.1"), err.get("2.3"), err.get("3.1")) == ("OBX", "11", "103") and "OBX-11 W" in err.get(8)
    assert len(await worklist(fhir, tube.accession)) == 2
    assert [o["valueQuantity"]["value"] for o in (await stored(fhir, tube.specimen_id)).values()] == [1.02]


async def test_astm_comments_and_a_value_with_components_are_stored_whole(sgl_server: SglProcess,
                                                                          fhir: httpx.AsyncClient) -> None:
    tube = await new_tube(fhir, ("NFS",))
    text = ("H|\\^&|||HEM1^2.1.0|||||OpenSGL||P|LIS2-A2|20261126081500\r"
            f"P|1||PAT-P2||MARTIN^CLAIRE\rO|1|{tube.accession}||^^^WBC\\^^^HBS|R\r"
            "R|1|^^^WBC|6.42|10*9/L|4-10|N||F||||20261126081200\r"
            "C|1|I|Sample slightly hemolysed|G\rC|2|I|Platelet clumps suspected|I\r"
            "R|2|^^^HBS|Negative^0.52|S/CO||N||F||||20261126081200\rL|1|N\r")
    await send_message("127.0.0.1", sgl_server.astm_port, text)  # raises unless ACKed
    by_code = await stored(fhir, tube.specimen_id)
    assert by_code["WBC"]["note"] == [{"authorString": "HEM1", "text": "Sample slightly hemolysed"},
                                      {"authorString": "HEM1", "text": "Platelet clumps suspected"}]
    assert by_code["HBS"]["valueString"] == "Negative^0.52" and instrument(by_code["HBS"])["value"] == "Negative^0.52"
    assert "note" not in by_code["HBS"]


async def test_a_final_result_without_a_value_is_refused_at_its_value(mllp: MllpClient,
                                                                     fhir: httpx.AsyncClient) -> None:
    """Session 7's probe: an OBX with OBX-5 empty and OBX-11 F (an ASTM R with R.4 empty and R.9 F) was stored
    as a result without a value and acknowledged, as if the value were still to come. A final result without
    a value is refused like the other unreadable results (AE, ERR at OBX-5, worklist), even with a flag or an
    NTE remark (neither is a value); status X (no result can be obtained) is still stored with its reason."""
    tube = await new_tube(fhir)
    message = (f"MSH|^~\\&|BIO1|LABO|OPENSGL|LABO|20261126081500+0100||ORU^R01^ORU_R01|{uuid.uuid4().hex[:12]}|"
               "P|2.5|||NE|AL||UNICODE UTF-8\r"
               f"PID|1||IPP-P3^^^HOSP^PI||MARTIN^CLAIRE\rOBR|1|PL-3|{tube.accession}^LAB|GLY^Glycémie\r"
               "OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|N|||F|||||||BIO1|20261126081200+0100\r"
               "OBX|2|NM|GLUM^Glucose mmol||||3.9-6.1|A|||F|||||||BIO1|20261126081200+0100\r"
               "NTE|1|I|Volume insuffisant\r"
               "OBX|3|NM|UREA^Urée||||||||X|||||||BIO1|20261126081200+0100\r")
    with pytest.raises(NackReceived) as nack:
        await mllp.send(message)
    [err, not_ordered, absent] = nack.value.ack.segments("ERR")  # UREA not ordered: stored, worklist, W; no value: I
    assert nack.value.acknowledgment_code == "AE" and not_ordered.get("2.1") == "OBX" and not_ordered.get("2.2") == "3"
    assert (absent.get("2.2"), absent.get("2.3"), absent.get(4)) == ("3", "5", "I") and "error" in absent.get(8)
    assert (err.get("2.1"), err.get("2.2"), err.get("2.3"), err.get("3.1")) == ("OBX", "2", "5", "101")
    assert "OBX-11 F" in err.get(8)
    by_code = await stored(fhir, tube.specimen_id)
    assert set(by_code) == {"GLU", "UREA"} and by_code["UREA"]["dataAbsentReason"]["coding"][0]["code"] == "error"
    received = [r for task in await worklist(fhir, tube.accession) for r in task_inputs(task).get("received", ())]
    assert any(r.startswith("OBX|2|NM|GLUM") for r in received)


async def test_an_astm_final_result_without_a_value_is_refused(sgl_server: SglProcess,
                                                               fhir: httpx.AsyncClient) -> None:
    """The ASTM twin of the above: R.4 empty with R.9 F was stored valueless; now the R record is refused (the
    others stored, the message ACKed: ASTM has no AE) and put on the worklist with its text."""
    astm_tube = await new_tube(fhir, ("NFS",))
    text = ("H|\\^&|||HEM1^2.1.0|||||OpenSGL||P|LIS2-A2|20261126081500\r"
            f"P|1||PAT-P3||MARTIN^CLAIRE\rO|1|{astm_tube.accession}||^^^WBC\\^^^RBC|R\r"
            "R|1|^^^WBC|6.42|10*9/L|4-10|N||F||||20261126081200\r"
            "R|2|^^^RBC||10*12/L|4.2-5.4|||F||||20261126081200\rL|1|N\r")
    await send_message("127.0.0.1", sgl_server.astm_port, text)  # the others stored, ACK
    assert set(await stored(fhir, astm_tube.specimen_id)) == {"WBC"}
    [task] = await worklist(fhir, astm_tube.accession)
    assert any(r.startswith("R|2|^^^RBC") for r in task_inputs(task)["received"])


async def test_a_result_not_asked_or_still_pending_is_stored_with_the_reason_it_has_no_value(
        mllp: MllpClient, fhir: httpx.AsyncClient) -> None:
    """Session 7's and 8's probes: OBX-11 N (not asked), I (specimen in lab, result pending) or R with an empty
    OBX-5 was stored as a preliminary Observation with no value and no reason, AA without a word. Now each
    is stored with its dataAbsentReason (N: not-asked; I, R: temp-unknown, the value may come later) and the AA
    carries one I ERR at its OBX-5 naming that reason. A later message with the value gives it a new version."""
    tube = await new_tube(fhir)
    head = (f"MSH|^~\\&|BIO1|LABO|OPENSGL|LABO|20261126081500+0100||ORU^R01^ORU_R01|{{}}|P|2.5|||NE|AL||UNICODE UTF-8\r"
            f"PID|1||IPP-P4^^^HOSP^PI||MARTIN^CLAIRE\rOBR|1|PL-4|{tube.accession}^LAB|GLY^Glycémie\r")
    message = (head.format(uuid.uuid4().hex[:12]) +
               "OBX|1|NM|GLU^Glucose||||0.70-1.10||||N|||||||BIO1|20261126081200+0100\r"
               "OBX|2|NM|GLUM^Glucose mmol||||3.9-6.1||||I|||||||BIO1|20261126081200+0100\r"
               "OBX|3|ST|ASPECT^Aspect du sérum||||||||R|||||||BIO1|20261126081200+0100\r")
    ack = await mllp.send(message)
    errs = ack.segments("ERR")
    assert ack.segment("MSA").get(1) == "AA"
    assert [(e.get("2.1"), e.get("2.2"), e.get("2.3"), e.get(4)) for e in errs][-3:] == [
        ("OBX", "1", "5", "I"), ("OBX", "2", "5", "I"), ("OBX", "3", "5", "I")]
    assert [e.get(8).split("dataAbsentReason ")[1].split(" ")[0] for e in errs[-3:]] == [
        "not-asked", "temp-unknown", "temp-unknown"]
    by_code = await stored(fhir, tube.specimen_id)
    assert {code: o["dataAbsentReason"]["coding"][0]["code"] for code, o in by_code.items()} == {
        "GLU": "not-asked", "GLUM": "temp-unknown", "ASPECT": "temp-unknown"}
    assert all("value" not in "".join(o) for o in by_code.values())

    # the pending one's value arrives: same Observation, a new version with the value and no absent reason
    await mllp.send(head.format(uuid.uuid4().hex[:12]) +
                    "OBX|1|NM|GLUM^Glucose mmol||5.6|mmol/L|3.9-6.1|N|||F|||||||BIO1|20261126081200+0100\r")
    glucose = (await stored(fhir, tube.specimen_id))["GLUM"]
    assert glucose["id"] == by_code["GLUM"]["id"] and glucose["valueQuantity"]["value"] == 5.6
    assert "dataAbsentReason" not in glucose


async def test_an_astm_result_not_asked_or_pending_is_stored_with_its_reason(sgl_server: SglProcess,
                                                                            fhir: httpx.AsyncClient) -> None:
    """The ASTM twin: R.9 N with R.4 empty is stored with dataAbsentReason not-asked, R.9 I with temp-unknown
    (ASTM's ACK is one byte: it says the records were stored, the journal keeps the message)."""
    tube = await new_tube(fhir, ("NFS",))
    text = ("H|\\^&|||HEM1^2.1.0|||||OpenSGL||P|LIS2-A2|20261126081500\r"
            f"P|1||PAT-P4||MARTIN^CLAIRE\rO|1|{tube.accession}||^^^WBC\\^^^RBC|R\r"
            "R|1|^^^WBC||10*9/L|4-10|||N||||20261126081200\r"
            "R|2|^^^RBC||10*12/L|4.2-5.4|||I||||20261126081200\rL|1|N\r")
    await send_message("127.0.0.1", sgl_server.astm_port, text)  # raises unless ACKed
    by_code = await stored(fhir, tube.specimen_id)
    assert {code: o["dataAbsentReason"]["coding"][0]["code"] for code, o in by_code.items()} == {
        "WBC": "not-asked", "RBC": "temp-unknown"}
    assert "status N" in by_code["WBC"]["dataAbsentReason"]["text"]
