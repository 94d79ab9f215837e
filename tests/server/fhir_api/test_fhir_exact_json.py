"""Exact JSON over real HTTP: a lab result's decimals come back with the digits sent through create, read,
vread, history, ``_elements``, search and transactions; a body with a key twice is refused with a 400 naming
it and nothing is written. Bodies are sent as raw bytes, the way another system's JSON writer prints them
(an FR Core lab Observation; a LIMS that prints ``1.0E-3`` and 25-digit values)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.access import auth_for
from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}
JSON_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,27})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
EXACT = ["1.50", "0.0", "1.0E-3", "123456789012345678901234.5", "-0", "6.0221408E23"]


def lab_observation(key: str, value: str = "1.50", *, extra: str = "") -> str:
    """A lab Observation (FR Core shape) with ``value`` as its result and the other ``EXACT`` texts in
    components; ``extra`` is pasted in as is (a repeated key)."""
    components = ",".join(
        '{"code":{"coding":[{"system":"http://loinc.org","code":"2345-7"}]},"valueQuantity":{"value":' + v
        + ',"unit":"g/L","system":"http://unitsofmeasure.org","code":"g/L"}}' for v in EXACT[1:])
    return ('{"resourceType":"Observation","identifier":[{"system":"urn:oid:1.2.250.1.999.7.1","value":"' + key
            + '"}],"status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/'
            'observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org",'
            '"code":"2345-7","display":"Glucose [Mass/volume] in Serum or Plasma"}]},'
            '"effectiveDateTime":"2026-12-05T08:15:00+01:00","valueQuantity":{"value":' + value
            + ',"unit":"g/L","system":"http://unitsofmeasure.org","code":"g/L"}' + extra
            + ',"component":[' + components + ']}')


def assert_exact(content: bytes) -> None:
    for text in EXACT:
        assert f'"value":{text},'.encode() in content, (text, content[:2000])


async def _by_key(fhir: httpx.AsyncClient, key: str, **params: str) -> httpx.Response:
    return await fhir.get("Observation", params={"identifier": f"urn:oid:1.2.250.1.999.7.1|{key}", **params})


async def test_decimals_come_back_as_sent_through_create_read_vread_history_elements_search(
        fhir: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    created = await fhir.post("Observation", content=lab_observation(key), headers=FHIR)
    assert created.status_code == 201, created.text
    assert_exact(created.content)
    oid = created.json()["id"]
    assert_exact((await fhir.get(f"Observation/{oid}")).content)
    assert_exact((await fhir.get(f"Observation/{oid}/_history/1")).content)
    assert_exact((await fhir.get(f"Observation/{oid}/_history")).content)
    elements = await fhir.get(f"Observation/{oid}", params={"_elements": "valueQuantity,component"})
    assert b'"valueQuantity":{"value":1.50,' in elements.content and b'effectiveDateTime' not in elements.content
    assert_exact((await _by_key(fhir, key)).content)
    for found, criterion in ((1, "ge1.5"), (1, "1.50"), (1, "1.5"), (0, "lt1.5"), (0, "gt1.50")):
        answer = await _by_key(fhir, key, **{"value-quantity": criterion})
        assert answer.status_code == 200 and answer.json()["total"] == found, criterion
        if found:
            assert_exact(answer.content)


async def test_a_change_of_precision_is_a_new_version_and_the_same_digits_are_not(fhir: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    body = lab_observation(key).replace('"final"', '"preliminary"')  # a final result changes only by $correct
    oid = (await fhir.post("Observation", content=body, headers=FHIR)).json()["id"]
    same = body.replace("{", '{"id":"' + oid + '",', 1)
    again = await fhir.put(f"Observation/{oid}", content=same, headers=FHIR)
    assert again.status_code == 200, again.text
    assert again.json()["meta"]["versionId"] == "1"  # the content hash is stable
    shorter = same.replace('"value":1.50,', '"value":1.5,')
    changed = await fhir.put(f"Observation/{oid}", content=shorter, headers=FHIR)
    assert changed.json()["meta"]["versionId"] == "2" and b'"valueQuantity":{"value":1.5,' in changed.content
    assert b'"valueQuantity":{"value":1.50,' in (await fhir.get(f"Observation/{oid}/_history/1")).content


async def test_a_transaction_keeps_the_digits_of_its_entries(fhir: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    bundle = ('{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:' + str(uuid.uuid4())
              + '","resource":' + lab_observation(key) + ',"request":{"method":"POST","url":"Observation"}}]}')
    answer = await fhir.post("", content=bundle, headers=FHIR)
    assert answer.status_code == 200, answer.text
    location = answer.json()["entry"][0]["response"]["location"]
    assert_exact((await fhir.get(location.split("/_history")[0])).content)


async def test_a_key_twice_is_refused_with_its_path_and_nothing_is_written(fhir: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    twice = lab_observation(key, extra=',"status":"preliminary"')
    answer = await fhir.post("Observation", content=twice, headers=FHIR)
    assert answer.status_code == 400, answer.text
    issue = answer.json()["issue"][0]
    assert issue["code"] == "structure" and issue["expression"] == ["Observation.status"]
    assert "'status' twice" in issue["diagnostics"]
    assert (await _by_key(fhir, key)).json()["total"] == 0


async def test_a_key_twice_inside_a_bundle_entry_refuses_the_whole_transaction(fhir: httpx.AsyncClient) -> None:
    key = uuid.uuid4().hex
    patient = uuid.uuid4().hex
    inner = lab_observation(key).replace('"unit":"g/L",', '"unit":"g/L","unit":"mmol/L",', 1)
    bundle = ('{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient",'
              '"identifier":[{"system":"urn:oid:1.2.250.1.999.7.2","value":"' + patient + '"}]},"request":'
              '{"method":"POST","url":"Patient"}},{"resource":' + inner
              + ',"request":{"method":"POST","url":"Observation"}}]}')
    answer = await fhir.post("", content=bundle, headers=FHIR)
    assert answer.status_code == 400, answer.text
    assert answer.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.valueQuantity.unit"]
    assert (await _by_key(fhir, key)).json()["total"] == 0
    found = await fhir.get("Patient", params={"identifier": f"urn:oid:1.2.250.1.999.7.2|{patient}"})
    assert found.json()["total"] == 0


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(JSON_NUMBER, min_size=1, max_size=4))
def test_any_json_number_is_read_back_with_the_same_text_or_refused(sgl_server: SglProcess,
                                                                     numbers: list[str]) -> None:
    """Through the real server and database: whatever JSON number a client sends comes back with the same
    text from a read, or the create is refused (400) when the number is past what is read (1E400, 2**64)."""
    components = ",".join('{"code":{"text":"c' + str(n) + '"},"valueQuantity":{"value":' + text + '}}'
                          for n, text in enumerate(numbers))
    body = ('{"resourceType":"Observation","status":"preliminary","code":{"text":"property"},"component":['
            + components + ']}')
    auth = auth_for(sgl_server.base, sgl_server.data_dir, "biologiste-responsable")
    with httpx.Client(base_url=sgl_server.base + "/", auth=auth, timeout=60) as http:
        created = http.post("Observation", content=body, headers=FHIR)
        if created.status_code == 400:
            assert "malformed JSON" in created.text
            return
        assert created.status_code == 201, created.text
        read = http.get(f"Observation/{created.json()['id']}").content
    for n, text in enumerate(numbers):
        assert f'"c{n}"}},"valueQuantity":{{"value":{text}}}'.encode() in read, (text, read)
