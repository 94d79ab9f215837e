"""Property: for generated ORU^R01 and ASTM messages sent to a real ``sgl serve``, every valid result
is stored exactly once with its value as sent, and nothing invalid is stored as a result.

Each example is a fresh tube with a generated set of OBX / R records: known and unknown test codes,
repeated codes with and without sub-ids, numbers, strings with delimiters (escaped), coded answers,
comparators, and invalid records (an NM that is not a number, an unreadable time). For every message
answered AA/AE (HL7) or ACKed (ASTM), the Observations of the tube are exactly the valid records.
The example counts are small so the test runs in about a minute in CI.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from facades.astm import send_message
from facades.hl7v2 import MllpClient, NackReceived, escape
from tests.support.access import auth_for
from tests.support.analyzer_lab import TUBE_SYSTEM, instrument, seed_catalog
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
BIO1_CODES = ["GLU", "GLUM", "NA", "K", "CL", "CO2", "XX1", "LOT"]  # the last two are not in the catalogue
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

numbers = st.builds(lambda i, d, neg: f"{'-' if neg else ''}{i}{'.' + d if d else ''}",
                    st.integers(0, 9999), st.sampled_from(["", "0", "5", "25", "125"]), st.booleans())
texts = st.text(st.sampled_from("ABCxyz019 +-/.|^&~\\éµ"), min_size=1, max_size=12).filter(
    lambda t: t == t.strip() and not t[0].isdigit())


@dataclass(frozen=True)
class Record:
    code: str
    kind: str  # NM, ST, CWE, SN, BAD (an NM that is not a number)
    value: str
    sub: str = ""

    @property
    def valid(self) -> bool:
        return self.kind != "BAD"


records = st.one_of(
    st.builds(Record, st.sampled_from(BIO1_CODES), st.just("NM"), numbers),
    st.builds(Record, st.sampled_from(BIO1_CODES), st.just("ST"), texts),
    st.builds(Record, st.sampled_from(BIO1_CODES), st.just("CWE"), st.sampled_from(["260385009", "LA6577-6", "POS"])),
    st.builds(Record, st.sampled_from(BIO1_CODES), st.just("SN"), numbers.map(lambda n: "<" + n.lstrip("-"))),
    st.builds(Record, st.sampled_from(BIO1_CODES), st.just("BAD"), st.sampled_from(["1,5", "n/a", "12..3"])),
)


def with_sub_ids(draw: list[tuple[Record, bool]]) -> list[Record]:
    """Give OBX-4 to some (unique, so that no two records share a key by construction)."""
    return [Record(r.code, r.kind, r.value, str(n) if sub else "") for n, (r, sub) in enumerate(draw, 1)]


message_records = st.lists(st.tuples(records, st.booleans()), min_size=1, max_size=10).map(with_sub_ids)


def new_tube(http: httpx.Client) -> tuple[str, str]:
    accession = "P" + uuid.uuid4().hex[:11].upper()
    specimen = http.post("Specimen", json={"resourceType": "Specimen", "status": "available",
                                           "accessionIdentifier": {"system": TUBE_SYSTEM, "value": accession}})
    assert specimen.status_code == 201, specimen.text
    return accession, specimen.json()["id"]


def stored(http: httpx.Client, specimen_id: str) -> list[dict[str, Any]]:
    answer = http.get("Observation", params={"specimen": f"Specimen/{specimen_id}", "_count": "200"})
    assert answer.status_code == 200
    return [e["resource"] for e in answer.json().get("entry", ()) if e["search"]["mode"] == "match"]


def obx(n: int, r: Record) -> str:
    value = {"NM": r.value, "BAD": r.value, "ST": escape(r.value), "CWE": f"{r.value}^Answer^SCT",
             "SN": f"<^{r.value[1:]}"}[r.kind]
    kind = "NM" if r.kind == "BAD" else r.kind
    return f"OBX|{n}|{kind}|{r.code}^{r.code}^99BIO|{r.sub}|{value}|||||F|||||||BIO1|20261126081200+0100"


def assert_round_trip(observation: dict[str, Any], record: Record) -> None:
    if record.kind == "NM":
        assert observation["valueQuantity"]["value"] == float(record.value)
    elif record.kind == "ST":
        assert observation["valueString"] == record.value
    elif record.kind == "CWE":
        assert [c["code"] for c in observation["valueCodeableConcept"]["coding"]] == [record.value]
    else:
        quantity = observation["valueQuantity"]
        assert (quantity["comparator"], quantity["value"]) == ("<", float(record.value[1:]))


@pytest.fixture(scope="module")
def http(sgl_server: SglProcess) -> httpx.Client:
    auth = auth_for(sgl_server.base, sgl_server.data_dir, "biologiste-responsable")

    async def seed() -> None:
        async with httpx.AsyncClient(base_url=sgl_server.base + "/", timeout=60, auth=auth) as client:
            await seed_catalog(client)
    asyncio.run(seed())
    with httpx.Client(base_url=sgl_server.base + "/", timeout=60, auth=auth,
                      headers={"Accept": "application/fhir+json"}) as client:
        yield client


@SETTINGS
@given(sent=message_records)
def test_every_valid_obx_is_stored_once_with_its_value(sgl_server: SglProcess, http: httpx.Client,
                                                       sent: list[Record]) -> None:
    accession, specimen_id = new_tube(http)
    text = ("MSH|^~\\&|CHEM-800|LABO|OPENSGL|LABO|20261126081500+0100||ORU^R01^ORU_R01|" + uuid.uuid4().hex[:12]
            + "|P|2.5.1|||||FRA|UNICODE UTF-8\r" + f"OBR|1||{accession}|GLY\r"
            + "".join(obx(n, r) + "\r" for n, r in enumerate(sent, 1)))

    async def send() -> str:
        async with MllpClient("127.0.0.1", sgl_server.mllp_port, read_timeout=120) as client:
            try:
                return (await client.send(text)).segment("MSA").get(1)  # type: ignore[union-attr]
            except NackReceived as nack:
                return nack.acknowledgment_code

    code = asyncio.run(send())
    event(f"answered {code}")
    valid = [(n, r) for n, r in enumerate(sent, 1) if r.valid]
    assert code == ("AA" if len(valid) == len(sent) else "AE")
    found = {instrument(o)["source"].rsplit(" ", 1)[1]: o for o in stored(http, specimen_id)}
    assert sorted(found) == sorted(f"OBX[{n}]" for n, _ in valid)
    for n, record in valid:
        assert_round_trip(found[f"OBX[{n}]"], record)


astm_values = st.one_of(numbers, numbers.map(lambda n: "<" + n.lstrip("-")),
                        st.text(st.sampled_from("ABCxyz +-*/."), min_size=1, max_size=10).filter(
                            lambda t: t == t.strip() and t[0].isalpha()))
astm_records = st.lists(st.tuples(st.sampled_from(BIO1_CODES), astm_values, st.booleans(), st.booleans()),
                        min_size=1, max_size=10)


@SETTINGS
@given(sent=astm_records)
def test_every_valid_r_record_is_stored_once_with_its_value(sgl_server: SglProcess, http: httpx.Client,
                                                            sent: list[tuple[str, str, bool, bool]]) -> None:
    accession, specimen_id = new_tube(http)
    lines = []
    for n, (code, value, replicate, broken) in enumerate(sent, 1):
        test = f"^^^{code}" + (f"^{n}" if replicate else "")
        when = "2026-11-26" if broken else "20261126081200"
        lines.append(f"R|{n}|{test}|{value}|||N||F||||{when}|BIO1")
    text = "H|\\^&|||BIO1^1.0\rP|1\r" + f"O|1|{accession}||^^^GLY\r" + "\r".join(lines) + "\rL|1|N\r"
    asyncio.run(send_message("127.0.0.1", sgl_server.astm_port, text))  # raises unless the message is ACKed
    found = stored(http, specimen_id)
    event("some R records unreadable" if any(b for *_, b in sent) else "every R record readable")
    valid = [(n, value) for n, (_, value, _, broken) in enumerate(sent, 1) if not broken]
    by_record = {instrument(o)["source"].split(" ")[3]: o for o in found}
    assert sorted(by_record) == sorted(f"R{n}" for n in range(1, len(valid) + 1))
    for position, (_, value) in enumerate(valid, 1):
        observation = by_record[f"R{position}"]
        comparator, number = (value[0], value[1:]) if value.startswith("<") else ("", value)
        if "valueQuantity" in observation:
            assert observation["valueQuantity"]["value"] == float(number)
            assert observation["valueQuantity"].get("comparator", "") == comparator
        else:
            assert observation["valueString"] == value
