"""A40 over MLLP: the merged patient is deactivated and linked to the survivor, in one transaction."""

from __future__ import annotations

import pytest

from tests.support.adt_feed import errs, exchange, msa, new_ipp, patients
from tests.support.pam_samples import adt, pid

pytestmark = pytest.mark.db


def _mrg(ipp: str) -> str:
    return f"MRG|{ipp}^^^CHU-X&000897406&N^PI"


async def test_a40_links_the_merged_patient_to_the_survivor(feed_server, feed_http) -> None:
    survivor_ipp, merged_ipp = new_ipp(), new_ipp()
    acks = await exchange(feed_server.mllp_port, adt("A28", "M-1", pid(survivor_ipp, pid32="PROV")),
                          adt("A28", "M-2", pid(merged_ipp, pid32="PROV")),
                          adt("A40", "M-3", pid(survivor_ipp), _mrg(merged_ipp)))
    assert [msa(a) for a in acks] == [("AA", "M-1"), ("AA", "M-2"), ("AA", "M-3")]
    [survivor] = await patients(feed_http, survivor_ipp)
    [merged] = await patients(feed_http, merged_ipp)
    assert merged["active"] is False
    assert merged["link"] == [{"other": {"reference": f"Patient/{survivor['id']}"}, "type": "replaced-by"}]
    assert survivor["active"] is True
    assert survivor["link"] == [{"other": {"reference": f"Patient/{merged['id']}"}, "type": "replaces"}]
    assert any(i["value"] == "279035121518989" for i in survivor["identifier"])  # the A40 PID applied too


async def test_a40_with_an_unknown_merged_patient_writes_the_survivor_and_warns(feed_server, feed_http) -> None:
    survivor_ipp, unknown = new_ipp(), new_ipp()
    [ack] = await exchange(feed_server.mllp_port, adt("A40", "M-4", pid(survivor_ipp), _mrg(unknown)))
    assert msa(ack) == ("AA", "M-4")
    assert [e[:3] for e in errs(ack)] == [("MRG^1^1^1^1", "204", "W")]
    [survivor] = await patients(feed_http, survivor_ipp)
    assert "link" not in survivor and await patients(feed_http, unknown) == []


async def test_a40_without_mrg_is_answered_ae_and_writes_nothing(feed_server, feed_http) -> None:
    ipp = new_ipp()
    [ack] = await exchange(feed_server.mllp_port, adt("A40", "M-5", pid(ipp)))
    assert msa(ack) == ("AE", "M-5") and [e[:2] for e in errs(ack)] == [("MRG^1", "101")]
    assert await patients(feed_http, ipp) == []
