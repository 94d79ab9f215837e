"""A47 over MLLP: the patient of MRG-1 is known by the IPP of PID-3, the old IPP kept as ``old``."""

from __future__ import annotations

import pytest

from tests.support.adt_feed import IPP_SYSTEM, errs, exchange, msa, new_ipp, patients
from tests.support.pam_samples import adt, pid

pytestmark = pytest.mark.db


def _mrg(ipp: str) -> str:
    return f"MRG|{ipp}^^^CHU-X&000897406&N^PI"


async def test_a47_moves_the_patient_to_the_new_ipp(feed_server, feed_http) -> None:
    old, new = new_ipp(), new_ipp()
    acks = await exchange(feed_server.mllp_port, adt("A28", "I-1", pid(old)),
                          adt("A47", "I-2", pid(new), _mrg(old)))
    assert [msa(a) for a in acks] == [("AA", "I-1"), ("AA", "I-2")]
    [patient] = await patients(feed_http, new)
    ipps = [(i.get("use"), i["value"]) for i in patient["identifier"] if i["system"] == IPP_SYSTEM]
    assert ipps == [("usual", new), ("old", old)]
    assert [p["id"] for p in await patients(feed_http, old)] == [patient["id"]]


async def test_a47_for_an_unknown_ipp_or_a_taken_one_is_answered_ae(feed_server, feed_http) -> None:
    first, second, unknown = new_ipp(), new_ipp(), new_ipp()
    acks = await exchange(feed_server.mllp_port, adt("A28", "I-3", pid(first, pid32="PROV")),
                          adt("A28", "I-4", pid(second, pid32="PROV")),
                          adt("A47", "I-5", pid(second), _mrg(unknown)),
                          adt("A47", "I-6", pid(second), _mrg(first)))
    assert [msa(a)[0] for a in acks] == ["AA", "AA", "AE", "AE"]
    assert [e[:2] for e in errs(acks[2])] == [("MRG^1^1^1^1", "204")]
    assert [e[:2] for e in errs(acks[3])] == [("PID^1^3^1^1", "205")]
    [kept] = await patients(feed_http, first)
    assert [i["value"] for i in kept["identifier"]] == [first] and kept["meta"]["versionId"] == "1"
