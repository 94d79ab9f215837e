"""Vendor-shaped ASTM sessions over the real ASTM listener of ``sgl serve``, one per cause of loss
found in the field: the link answer (ACK/NAK), and every stored Observation compared with what was sent.

The frames are written here byte by byte, the way instruments send them: a whole message in one
4 KB frame, UTF-8 units, damaged trailers, the test code in the fifth component of R.3.
"""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from facades.astm.framing import ACK, ENQ, EOT, NAK, build_frame, build_frames, checksum
from server.database import Database
from terminology.ucum import UCUM_SYSTEM
from tests.support.access import role_client
from tests.support.analyzer_lab import (
    HEMATO,
    Tube,
    coding,
    instrument,
    new_tube,
    search,
    seed_catalog,
    task_inputs,
    worklist,
)
from tests.support.raw_instrument import RawInstrument
from tests.support.sgl_server import start_sgl

pytestmark = pytest.mark.db
CATALOG = "https://opensgl.org/fhir/CodeSystem/catalogue"
STX, ETX = b"\x02", b"\x03"
ANSWER_WAIT = 30.0  # an upper bound for a liveness check, not a speed measurement


@pytest.fixture(scope="module", autouse=True)
async def catalogue(fhir: httpx.AsyncClient) -> None:
    await seed_catalog(fhir)


def one_frame(text: bytes, number: int = 1) -> bytes:
    """The whole message in a single ETX frame, whatever its length (as several instruments do)."""
    body = bytes([0x30 + number % 8]) + text + ETX
    return STX + body + checksum(body) + b"\r\n"


def header(sender: str = "HEM1^2.1.0") -> bytes:
    return f"H|\\^&|||{sender}|||||OpenSGL||P|LIS2-A2|20261126081500\r".encode()


async def stored(fhir: httpx.AsyncClient, tube: Tube) -> list[dict]:
    return await search(fhir, "Observation", specimen=f"Specimen/{tube.specimen_id}")


async def session(port: int, *frames: bytes) -> list[bytes]:
    """ENQ, each frame with the host's answer to it, EOT: the answers (ACK or NAK)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    analyzer = RawInstrument(reader, writer)
    replies = []
    try:
        await analyzer.send(ENQ)
        assert await analyzer.answer(ANSWER_WAIT) == ACK
        for frame in frames:
            await analyzer.send(frame)
            replies.append(await analyzer.answer(ANSWER_WAIT))
        await analyzer.send(EOT)
    finally:
        writer.close()
        await writer.wait_closed()
    return replies


async def test_a_whole_run_in_one_4_kb_frame_stores_all_84_results(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("NFS",))
    records = []
    for replicate in range(1, 5):
        for code, _, value, units in HEMATO:
            records.append((f"^^^{code}^{replicate}", code, str(replicate), value, units))
    for code, _, value, units in HEMATO[:4]:  # four tests sent once more, with no extra component
        records.append((f"^^^{code}", code, "#5", value, units))
    lines = [f"R|{n}|{test}|{value}|{units}||N||F||LABTECH||20261126081200|HEM1"
             for n, (test, _, _, value, units) in enumerate(records, 1)]
    text = header() + f"P|1||PAT-{tube.accession}\rO|1|{tube.accession}||^^^NFS|R\r".encode()
    text += "\r".join(lines).encode() + b"\rL|1|N\r"
    assert len(text) > 4096 and len(records) == 84
    assert await session(sgl_server.astm_port, one_frame(text)) == [ACK]
    found = {(instrument(o)["testCode"], instrument(o).get("subId", "")): o for o in await stored(fhir, tube)}
    assert len(found) == 84
    analyses = {code: analysis for code, analysis, _, _ in HEMATO}
    for _, code, sub, value, units in records:
        obs = found[(code, sub)]
        assert coding(obs, CATALOG) == analyses[code]
        assert obs["valueQuantity"] == {"value": float(value), "unit": obs["valueQuantity"]["unit"],
                                        "system": UCUM_SYSTEM, "code": units}
        parts = instrument(obs)
        assert (parts["value"], parts["unit"], parts["status"], parts["flag"]) == (value, units, "F", ["N"])
        assert parts["runTime"] == "2026-11-26T08:12:00+01:00" and obs["status"] == "preliminary"


async def test_utf8_units_with_escaped_and_bare_caret_are_read_whole(sgl_server, fhir, sgl_db: Database) -> None:
    tube = await new_tube(fhir, ("NFS",))
    text = (header() + f"P|1||PAT-1||HÉLÈNE^Zoé\rO|1|{tube.accession}||^^^NFS|R\r".encode()
            + "R|1|^^^WBC|6.4|10^3/µL||N||F||||20261126081200|HEM1\r".encode()
            + "R|2|^^^PLT|244|10&S&3/µL||N||F||||20261126081200|HEM1\rL|1|N\r".encode())
    assert await session(sgl_server.astm_port, one_frame(text)) == [ACK]
    found = {instrument(o)["testCode"]: o for o in await stored(fhir, tube)}
    assert set(found) == {"WBC", "PLT"}
    for obs in found.values():
        assert instrument(obs)["unit"] == "10^3/µL" and obs["valueQuantity"]["unit"] == "10^3/µL"
    assert {t["statusReason"]["coding"][0]["code"] for t in await worklist(fhir, tube.accession)} == {"unit-mismatch"}
    recent = await sgl_db.db["inbound_messages"].find({"protocol": "astm"}).sort("received_at", -1).to_list(50)
    entry = next((e for e in recent if tube.accession.encode() in e["raw"]), None)
    assert entry is not None and entry["charset"] == "utf-8" and "µL".encode() in entry["raw"]
    assert entry["partner"]["application"] == "HEM1" and len(entry["produced"]) == 4  # 2 Observations, 2 Tasks


@pytest.mark.parametrize("damage", [b"\n", b"\r"], ids=["lf-without-cr", "cr-without-lf"])
async def test_a_damaged_trailer_is_nakked_and_the_resent_frame_stored(sgl_server, fhir, damage: bytes) -> None:
    tube = await new_tube(fhir, ("GLY",))
    text = header("BIO1") + f"P|1\rO|1|{tube.accession}||^^^GLY\rR|1|^^^GLU|1.12|g/L||H||F||||20261126081200\r" \
        f"L|1|N\r".encode()
    good = build_frame(1, text, final=True)
    damaged = good[:-2] + damage
    assert await session(sgl_server.astm_port, damaged, good) == [NAK, ACK]
    [obs] = await stored(fhir, tube)
    assert obs["valueQuantity"]["value"] == 1.12 and instrument(obs)["flag"] == ["H"]


async def test_test_code_in_the_fifth_component_and_a_bad_record_among_good_ones(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("HBGLY", "GLY"))
    bad = "R|2|^^^GLU|1.02|g/L||N||F||||2026-11-26 08:12|BIO1"
    text = header("BIO1^3.0") + (f"P|1|IPP-{tube.accession}\rO|1|{tube.accession}||^^^HBGLY\r"
                                 "R|1|^^^^HBA1C|6.1|%||N||F||||20261126081200|BIO1\r" + bad + "\r"
                                 "R|3|^^^GLUM|5.6|mmol/L||N||F||||20261126081200|BIO1\rL|1|N\r").encode()
    frames = build_frames(text)  # cut at 240 characters, as E1381 says
    assert await session(sgl_server.astm_port, *frames) == [ACK] * len(frames)
    found = {coding(o, CATALOG): o for o in await stored(fhir, tube)}
    assert set(found) == {"HBA1C", "GLUM"}
    assert found["HBA1C"]["valueQuantity"]["value"] == 6.1 and instrument(found["HBA1C"])["testCode"] == "HBA1C"
    assert found["GLUM"]["valueQuantity"] == {"value": 5.6, "unit": "mmol/L", "system": UCUM_SYSTEM,
                                              "code": "mmol/L"}
    [task] = await worklist(fhir, tube.accession)
    assert task["statusReason"]["coding"][0]["code"] == "invalid-result"
    assert "R.13" in task["statusReason"]["text"] and task_inputs(task)["received"] == [bad]
    assert task["for"] == {"reference": f"Patient/{tube.patient_id}"}  # the tube's patient


async def test_an_astm_correction_replaces_the_value_in_a_new_version(sgl_server, fhir) -> None:
    tube = await new_tube(fhir, ("GLY",))

    def run(value: str, status: str) -> bytes:
        return one_frame(header("BIO1") + f"P|1\rO|1|{tube.accession}||^^^GLY\r"
                         f"R|1|^^^GLU|{value}|g/L||N||{status}||||20261126081200\rL|1|N\r".encode())

    assert await session(sgl_server.astm_port, run("0.91", "F")) == [ACK]
    assert await session(sgl_server.astm_port, run("0.91", "F")) == [ACK]  # a resend: nothing new
    [first] = await stored(fhir, tube)
    assert first["meta"]["versionId"] == "1"
    assert await session(sgl_server.astm_port, run("0.95", "C")) == [ACK]
    [now] = await stored(fhir, tube)
    assert now["id"] == first["id"] and now["meta"]["versionId"] == "2" and now["valueQuantity"]["value"] == 0.95
    assert instrument(now)["status"] == "C" and uuid.UUID(now["id"])


async def test_the_frame_limit_and_character_set_are_configurable(tmp_path) -> None:
    """``SGL_ASTM_MAX_FRAME`` bounds a frame (refused beyond it) and ``SGL_ASTM_CHARSET`` pins Latin-1."""
    server = start_sgl(tmp_path / "var", env={"SGL_ASTM_MAX_FRAME": "1000", "SGL_ASTM_CHARSET": "latin-1"})
    try:
        async with role_client(server.base, server.data_dir, "biologiste-responsable", timeout=60) as http:
            tube = await new_tube(http, ())  # no catalogue: the result is kept on the worklist, unit and all
            long_text = header() + f"P|1\rO|1|{tube.accession}||^^^NFS\r".encode() + b"".join(
                b"R|%d|^^^WBC^%d|6.4|10*9/L||N||F||||20261126081200|HEM1\r" % (n, n) for n in range(1, 40)) \
                + b"L|1|N\r"
            assert len(long_text) > 1000
            assert await session(server.astm_port, one_frame(long_text)) == [NAK]
            latin = header() + f"P|1\rO|1|{tube.accession}||^^^NFS\r".encode() \
                + "R|1|^^^PLT|244|10^3/µL||N||F||||20261126081200|HEM1\rL|1|N\r".encode("latin-1")
            assert await session(server.astm_port, one_frame(latin)) == [ACK]
            [obs] = await search(http, "Observation", specimen=f"Specimen/{tube.specimen_id}")
            assert instrument(obs)["unit"] == "10^3/µL"
    finally:
        server.stop()
