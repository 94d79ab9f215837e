"""The identity feed end to end: ANS PAM-FR templates over a real MLLP socket, checked over FHIR.

CI-SIS test cases (Gazelle) mirrored: Cons_identite_INS (PID-32 VALI + INS -> INS stored, QUAL),
Cons_identite (PID-32 not VALI -> traits only), Cons_del_INS (INS removed, downgraded).
"""

from __future__ import annotations

import pytest

from facades.hl7v2 import AssigningAuthority, build_pid
from resources.ins import identity_status
from server.inbound.journal import COLLECTION
from tests.support.adt_feed import IPP_SYSTEM, errs, exchange, msa, new_ipp, patients
from tests.support.pam_samples import ADMISSION, DISCHARGE, INS, INS_OID, adt, pid, template

pytestmark = pytest.mark.db

INS_SYSTEM = f"urn:oid:{INS_OID}"
STATUS_HISTORY_URL = "https://opensgl.org/fhir/StructureDefinition/identity-status-history"
CHU_X = AssigningAuthority("CHU-X", "000897406", "N")


def _identifiers(patient: dict) -> list[tuple[str | None, str, str]]:
    return sorted((i.get("use"), i["system"], i["value"]) for i in patient["identifier"])


@pytest.mark.req("SGL.INS.54", "SGL.INS.55")
async def test_cons_identite_ins_stores_the_ins_and_qualifies_SGL_INS_54_SGL_INS_55(feed_server, feed_http,
                                                                                      feed_db) -> None:
    ipp = new_ipp()
    [ack] = await exchange(feed_server.mllp_port, template(ADMISSION, "INS-1", ipp=ipp))
    assert msa(ack) == ("AA", "INS-1") and errs(ack) == []
    [patient] = await patients(feed_http, ipp)
    assert _identifiers(patient) == [("official", INS_SYSTEM, INS), ("usual", IPP_SYSTEM, ipp)]
    assert identity_status(patient) == "QUAL"
    official = next(n for n in patient["name"] if n["use"] == "official")
    assert (official["family"], official["given"]) == ("PAT-TROIS", ["DOMINIQUE"])
    assert (patient["gender"], patient["birthDate"]) == ("female", "1979-03-28")
    # written through the identity write rule, as the hospital identity repository (MSH-3)
    [history] = [e for e in patient["extension"] if e["url"] == STATUS_HISTORY_URL]
    entry_of = {sub["url"]: next(v for k, v in sub.items() if k.startswith("value")) for sub in history["extension"]}
    assert (entry_of["status"], entry_of["author"], entry_of["role"]) == ("QUAL", "partner:GAM", "source-identite")
    entry = await feed_db.db[COLLECTION].find_one({"control_id": "INS-1"})
    assert entry is not None and entry["status"] == "processed" and entry["message_type"] == "ADT^A01"


@pytest.mark.req("SGL.INS.54")
async def test_cons_identite_stores_traits_but_not_the_ins_SGL_INS_54(feed_server, feed_http) -> None:
    ipp = new_ipp()
    [ack] = await exchange(feed_server.mllp_port, adt("A28", "TRT-1", pid(ipp, pid32="PROV")))
    assert msa(ack) == ("AA", "TRT-1")
    assert [(e[0], e[2]) for e in errs(ack)] == [("PID^1^3^2^1", "W")]
    [patient] = await patients(feed_http, ipp)
    assert _identifiers(patient) == [("usual", IPP_SYSTEM, ipp)]
    assert identity_status(patient) == "PROV"
    assert next(n for n in patient["name"] if n["use"] == "official")["family"] == "PAT-TROIS"
    assert patient["birthDate"] == "1979-03-28"


@pytest.mark.req("SGL.INS.54")
async def test_cons_del_ins_removes_the_ins_and_downgrades_SGL_INS_54(feed_server, feed_http) -> None:
    ipp = new_ipp()
    deleted = f'""^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS'
    acks = await exchange(feed_server.mllp_port, template(ADMISSION, "DEL-1", ipp=ipp),
                          adt("A31", "DEL-2", pid(ipp, ins=deleted)))
    assert [msa(a) for a in acks] == [("AA", "DEL-1"), ("AA", "DEL-2")]
    [patient] = await patients(feed_http, ipp)
    assert _identifiers(patient) == [("usual", IPP_SYSTEM, ipp)]
    assert identity_status(patient) == "VALI"
    history = await feed_http.get(f"Patient/{patient['id']}/_history")
    versions = [e["resource"] for e in history.json()["entry"]]
    assert [identity_status(v) for v in versions] == ["VALI", "QUAL"]


@pytest.mark.req("SGL.INS.54")
async def test_a_later_message_without_vali_downgrades_a_qualified_identity_SGL_INS_54(feed_server,
                                                                                         feed_http) -> None:
    ipp = new_ipp()
    acks = await exchange(feed_server.mllp_port, template(ADMISSION, "DWN-1", ipp=ipp),
                          adt("A08", "DWN-2", pid(ipp, pid32="PROV~DOUT")))
    assert [msa(a)[0] for a in acks] == ["AA", "AA"]
    [patient] = await patients(feed_http, ipp)
    assert _identifiers(patient) == [("usual", IPP_SYSTEM, ipp)] and identity_status(patient) == "PROV"


async def test_every_movement_event_updates_the_same_patient(feed_server, feed_http) -> None:
    ipp = new_ipp()
    names = "PAT-TROIS^DOMINIQUE^DOMINIQUE^^^^L~MARTIN^DOMI^^^^^D"
    acks = await exchange(feed_server.mllp_port, template(ADMISSION, "MV-1", ipp=ipp),
                          adt("A08", "MV-2", pid(ipp, names=names)), template(DISCHARGE, "MV-3", ipp=ipp),
                          *(adt(event, f"MV-{event}", pid(ipp, names=names)) for event in ("A04", "A05", "A31")))
    assert [msa(a)[0] for a in acks] == ["AA"] * 6
    [patient] = await patients(feed_http, ipp)
    # A01, A08 (used name added), A03 (template without it), A04 (added again); A05 and A31 change nothing
    assert patient["meta"]["versionId"] == "4"
    assert {"use": "usual", "family": "MARTIN", "given": ["DOMI"]} in patient["name"]


@pytest.mark.req("SGL.INS.55")
async def test_a_wrong_ins_key_is_answered_ae_at_pid_3_and_nothing_is_written_SGL_INS_55(feed_server, feed_http,
                                                                                         feed_db) -> None:
    ipp = new_ipp()
    wrong = f"279035121518988^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS^^20101207"
    [ack] = await exchange(feed_server.mllp_port, adt("A28", "KEY-1", pid(ipp, ins=wrong)))
    assert msa(ack) == ("AE", "KEY-1")
    [(where, code, severity, text)] = errs(ack)
    assert (where, code, severity) == ("PID^1^3^2^1", "207", "E") and "[SGL.INS.08]" in text
    assert await patients(feed_http, ipp) == []
    entry = await feed_db.db[COLLECTION].find_one({"control_id": "KEY-1"})
    assert entry is not None and entry["status"] == "error" and "SGL.INS.08" in entry["detail"]


async def test_unreadable_fields_are_answered_ae_naming_them(feed_server, feed_http) -> None:
    ipp = new_ipp()
    acks = await exchange(feed_server.mllp_port, adt("A28", "BAD-1", pid(ipp, birth_date="19790231")),
                          adt("A28", "BAD-2", pid(ipp, names="^^^^^^D")), adt("A28", "BAD-3", pid(ipp)))
    assert [msa(a) for a in acks] == [("AE", "BAD-1"), ("AE", "BAD-2"), ("AA", "BAD-3")]
    assert [e[:2] for e in errs(acks[0])] == [("PID^1^7", "102")]
    assert [e[:2] for e in errs(acks[1])] == [("PID^1^5", "101")]
    assert len(await patients(feed_http, ipp)) == 1


async def test_an_event_outside_the_feed_is_rejected_by_the_dispatcher(feed_server) -> None:
    [ack] = await exchange(feed_server.mllp_port, adt("A02", "AR-1", pid(new_ipp())))
    assert msa(ack) == ("AR", "AR-1") and errs(ack)[0][1] == "201"


@pytest.mark.req("SGL.INS.56")
async def test_the_outbound_pid_of_a_fed_patient_carries_the_ins_only_when_qualified_SGL_INS_56(
        feed_server, feed_http) -> None:
    qualified, traits_only = new_ipp(), new_ipp()
    await exchange(feed_server.mllp_port, template(ADMISSION, "OUT-1", ipp=qualified),
                   adt("A28", "OUT-2", pid(traits_only, pid32="PROV")))
    [patient] = await patients(feed_http, qualified)
    out = build_pid(patient, ipp_authority=CHU_X)
    assert str(out.field(3)) == (f"{qualified}^^^CHU-X&000897406&N^PI~"
                                 f"{INS}^^^ASIP-SANTE-INS-NIR&{INS_OID}&ISO^INS^^20101207")
    assert (out.get(7), out.get(8), out.get(32), out.get("11.9", repetition=2)) == ("19790328", "F", "VALI", "63220")
    [other] = await patients(feed_http, traits_only)
    plain = build_pid(other, ipp_authority=CHU_X)
    assert str(plain.field(3)) == f"{traits_only}^^^CHU-X&000897406&N^PI" and plain.get(32) == "PROV"


@pytest.mark.req("SGL.INS.55")
async def test_outside_test_mode_the_test_oid_is_refused_at_pid_3_SGL_INS_55(sgl_server, fhir) -> None:
    ipp = new_ipp()
    production = template(ADMISSION, "OID-1", ipp=ipp).replace("|OID-1|D|", "|OID-1|P|")  # the kit says D(ebugging)
    [ack] = await exchange(sgl_server.mllp_port, production)
    assert msa(ack) == ("AE", "OID-1")
    [(where, _, _, text)] = errs(ack)
    assert where == "PID^1^3" and "test" in text
    response = await fhir.get("Patient", params={"identifier": f"{IPP_SYSTEM}|{ipp}"})
    assert "entry" not in response.json()
