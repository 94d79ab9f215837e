"""What a hostile or broken HTTP client sends, over real sockets to a real ``sgl serve`` (issue 9 items 3
and "what held"): oversized bodies are refused before they are read, and the rest of the API keeps
answering; XML bombs, deep JSON, injection-shaped search values and absurd ``_count`` get 4xx."""

from __future__ import annotations

import asyncio
import gzip
import json
import select
import socket
import uuid

import httpx
import pytest

from tests.support.sgl_server import SglProcess

pytestmark = pytest.mark.db
FHIR = {"Content-Type": "application/fhir+json"}
FIFTY_MB = 50 * 1024 * 1024


async def _bearer(fhir: httpx.AsyncClient) -> str:
    """The session client's bearer token as a header line, for requests written by hand on a socket
    (authenticated, so that the body limit, not the missing credentials, is what refuses them)."""
    assert (await fhir.get("Patient", params={"_count": "1"})).status_code == 200
    return f"Authorization: Bearer {fhir.auth.token}\r\n"  # type: ignore[attr-defined]


def _response(sock: socket.socket) -> str:
    """Everything the server wrote until it closed (it closes after refusing a body it did not read)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data.decode("latin-1")


def _send_until_refused(port: int, head: bytes, body_chunks: int, chunk: bytes) -> tuple[str, int]:
    """Send ``head`` then body chunks until the server answers; return its status line and the bytes sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        sent = 0
        for _ in range(body_chunks):
            readable, writable, _ = select.select([sock], [sock], [], 10)
            if readable or not writable:
                break  # the server answered (or went silent: the status read below says which)
            try:
                sent += sock.send(chunk)
            except OSError:
                break  # the server closed its side after answering
        return _response(sock), sent


async def test_fifty_megabyte_body_is_413_before_it_is_read_and_others_are_answered(
        sgl_server: SglProcess, fhir: httpx.AsyncClient) -> None:
    assert (await fhir.get("metadata")).status_code == 200
    token = await _bearer(fhir)
    chunk = b" " * 65536
    head = (f"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n{token}"
            f"Content-Length: {FIFTY_MB}\r\n\r\n").encode()
    declared = asyncio.to_thread(_send_until_refused, sgl_server.port, head, FIFTY_MB // len(chunk), chunk)
    chunked_head = (f"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Type: application/fhir+json\r\n{token}"
                    "Transfer-Encoding: chunked\r\n\r\n").encode()
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    streamed = asyncio.to_thread(_send_until_refused, sgl_server.port, chunked_head, FIFTY_MB // len(chunk), framed)
    during = [fhir.get("metadata") for _ in range(5)]
    results = await asyncio.gather(declared, streamed, *during)
    for answer, sent in results[:2]:
        assert answer.startswith("HTTP/1.1 413")
        assert '"resourceType":"OperationOutcome"' in answer and '"code":"too-long"' in answer
        assert sent < 20 * 1024 * 1024  # refused after the limit plus the socket buffers, long before 50 MB
    assert all(r.status_code == 200 for r in results[2:])
    assert (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).status_code == 201


async def test_document_imports_have_their_own_larger_limit(fhir: httpx.AsyncClient) -> None:
    five_mb = b"<x>" + b" " * (5 * 1024 * 1024) + b"</x>"
    pid = (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).json()["id"]
    document = await fhir.post(f"Patient/{pid}/$import-crbio", content=five_mb,
                               headers={"Content-Type": "application/xml"})
    assert document.status_code not in (413, 415) and document.status_code < 500  # read, then refused as not a CR-Bio


XML_BOMBS = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&e;</title></ClinicalDocument>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "lollollollollollollollollollol">'
                      + b"".join(b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((n,) + (n - 1,) * 10)
                                 for n in range(ord("b"), ord("k")))
                      + b']><ClinicalDocument xmlns="urn:hl7-org:v3"><title>&j;</title></ClinicalDocument>',
    "deep": b'<ClinicalDocument xmlns="urn:hl7-org:v3">' + b"<a>" * 100_000 + b"</a>" * 100_000
            + b"</ClinicalDocument>",
}


@pytest.mark.parametrize("kind", sorted(XML_BOMBS))
async def test_xml_bombs_sent_as_a_crbio_are_refused_and_store_nothing(fhir: httpx.AsyncClient, kind: str) -> None:
    pid = (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).json()["id"]
    r = await fhir.post(f"Patient/{pid}/$import-crbio", content=XML_BOMBS[kind],
                        headers={"Content-Type": "application/xml"})
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["resourceType"] == "OperationOutcome"
    assert "root:" not in r.text
    refs = (await fhir.get("DocumentReference", params={"patient": f"Patient/{pid}"})).json()
    assert refs["total"] == 0


async def test_deep_and_malformed_json_are_400(fhir: httpx.AsyncClient) -> None:
    deep = b'{"resourceType": "Patient", "extension": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    for body in (deep, b'{"resourceType": "Patient", "name": [', b"\xff\xfe", b"[]", b"null"):
        r = await fhir.post("Patient", content=body, headers=FHIR)
        assert 400 <= r.status_code < 500, body[:40]
        assert r.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("params", [
    {"name": '{"$ne": null}'}, {"name[$ne]": "x"}, {"family": "'; db.dropDatabase(); '"},
    {"identifier": "$where|sleep(1000)"}, {"name": ".*"}, {"name": "(a+)+$"}, {"_id": '{"$gt": ""}'},
    {"birthdate": "ge$gt"}, {"_sort": "$natural"}, {"name:regex": "^a"}, {"subject:Patient.name": "$x"},
])
async def test_injection_shaped_search_values_are_values(fhir: httpx.AsyncClient, params: dict[str, str]) -> None:
    r = await fhir.get("Patient", params=params, headers={"Prefer": "handling=strict"})
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        assert r.json()["total"] == 0


@pytest.mark.parametrize("count", ["99999999999999999999999", "-1", "1e9", "0x10", "1000000"])
async def test_absurd_count_is_400_or_capped(fhir: httpx.AsyncClient, count: str) -> None:
    r = await fhir.get("Patient", params={"_count": count})
    assert r.status_code in (200, 400)
    if r.status_code == 200:
        assert len(r.json().get("entry", [])) <= 1000


def _nested(depth: int) -> bytes:
    """``depth`` levels of extensions in extensions (object, array, object...): about 2 x ``depth`` JSON levels."""
    return b'[{"url": "urn:x"' + b', "extension": [{"url": "urn:x"' * depth + b"}]" * depth + b"}]"


@pytest.mark.parametrize("depth", [128, 256, 480])
async def test_deep_json_between_the_code_s_and_the_parser_s_limits_is_400_and_writes_nothing(
        fhir: httpx.AsyncClient, depth: int) -> None:
    """From ~200 JSON levels (100 nested extensions) the old server answered 500 RecursionError or dropped the
    connection, up to orjson's own limit (1024): every door that reads JSON now says 400, names the depth,
    writes nothing, and the server keeps answering."""
    marker = f"hostile-deep-{depth}"
    identifier = b'"identifier": [{"system": "urn:hostile", "value": "%s"}]' % marker.encode()
    patient = b'{"resourceType": "Patient", ' + identifier + b', "extension": ' + _nested(depth) + b"}"
    existing = (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).json()["id"]
    updated = b'{"resourceType": "Patient", "id": "%s", ' % existing.encode() + identifier + b', "extension": ' \
        + _nested(depth) + b"}"
    bundle = (b'{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": ' + patient
              + b', "request": {"method": "POST", "url": "Patient"}}]}')
    params = (b'{"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "x", "part": '
              + _nested(depth) + b"}]}")
    answers = [await fhir.post("Patient", content=patient, headers=FHIR),
               await fhir.put(f"Patient/{existing}", content=updated, headers=FHIR),
               await fhir.post("", content=bundle, headers=FHIR),
               await fhir.post("DiagnosticReport/no-such-report/$withdraw", content=params, headers=FHIR)]
    for r in answers:
        assert r.status_code == 400, (r.request.url, r.text[:300])
        assert r.json()["resourceType"] == "OperationOutcome"
        assert "nested deeper than the 100 levels" in r.text
    assert (await fhir.get("Patient", params={"identifier": f"urn:hostile|{marker}"})).json()["total"] == 0
    assert (await fhir.get(f"Patient/{existing}")).json()["meta"]["versionId"] == "1"
    assert (await fhir.get("metadata")).status_code == 200


async def test_json_just_under_the_depth_limit_is_still_read(fhir: httpx.AsyncClient) -> None:
    """The limit (100 levels) leaves room for real FHIR: 45 nested extensions (~92 levels) inside a transaction
    are read and judged on their content (stored, or refused by validation with a 4xx), never a depth 400."""
    patient = b'{"resourceType": "Patient", "extension": ' + _nested(45) + b"}"
    bundle = (b'{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": ' + patient
              + b', "request": {"method": "POST", "url": "Patient"}}]}')
    for r in (await fhir.post("Patient", content=patient, headers=FHIR),
              await fhir.post("", content=bundle, headers=FHIR)):
        assert r.status_code < 500 and "nested deeper" not in r.text, r.text[:300]


async def test_huge_array_under_the_size_limit_is_refused_and_others_are_answered(fhir: httpx.AsyncClient) -> None:
    """100,000 identifiers (1.9 MB, under the 4 MB limit): the old server indexed them for minutes and answered
    nobody else meanwhile. Now a 400 ``too-long`` naming the limit, nothing stored, the others answered."""
    marker = b'{"system": "urn:hostile", "value": "huge-array"}'
    body = (b'{"resourceType": "Patient", "identifier": [' + marker + b","
            + b",".join(b'{"value": "x%d"}' % i for i in range(100_000)) + b"]}")
    others = [fhir.get("Patient", params={"_count": "1"}) for _ in range(3)]
    refused, *answered = await asyncio.gather(fhir.post("Patient", content=body, headers=FHIR), *others)
    assert refused.status_code == 400, refused.text[:300]
    assert refused.json()["issue"][0]["code"] == "too-long"
    assert "more than the 10000" in refused.text
    assert all(r.status_code == 200 for r in answered)
    assert (await fhir.get("Patient", params={"identifier": "urn:hostile|huge-array"})).json()["total"] == 0
    several = b",".join(b'{"value": "y%d"}' % i for i in range(200))  # a real many-identifier Patient is read
    assert (await fhir.post("Patient", content=b'{"resourceType": "Patient", "identifier": [' + several + b"]}",
                            headers=FHIR)).status_code == 201


async def test_two_hundred_kilobyte_header_is_431_with_an_operation_outcome_and_others_are_answered(
        fhir: httpx.AsyncClient) -> None:
    """The production client (httpx) sending a runaway header gets a FHIR answer, not a dropped connection."""
    padding = {"X-Padding": "a" * 200_000}
    refused = await asyncio.gather(*(fhir.get("metadata", headers=padding) for _ in range(3)),
                                   *(fhir.get("metadata") for _ in range(3)))
    for r in refused[:3]:
        assert r.status_code == 431
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "too-long"
    assert all(r.status_code == 200 for r in refused[3:])
    assert (await fhir.post("Patient", json={"resourceType": "Patient"}, headers=FHIR)).status_code == 201


async def test_a_body_in_a_coding_the_server_does_not_read_is_refused_and_not_stored(fhir: httpx.AsyncClient) -> None:
    """Found by probing: a gzip body was refused as "not valid UTF-8 at line 1 column 1", a body declared ``br``
    that held plain JSON was stored, and Latin-1 JSON declared ISO-8859-1 was refused with a wrong position."""
    family = "Codage" + uuid.uuid4().hex[:8]
    doc = json.dumps({"resourceType": "Patient", "name": [{"family": family, "given": ["\u00c9lo\u00efse"]}],
                      "gender": "female", "birthDate": "1971-01-01"}, ensure_ascii=False)
    refused = {
        "gzip": (gzip.compress(doc.encode()), {**FHIR, "Content-Encoding": "gzip"}),
        "br": (doc.encode(), {**FHIR, "Content-Encoding": "br"}),
        "charset=iso-8859-1": (doc.encode("latin-1"), {"Content-Type": "application/fhir+json; charset=ISO-8859-1"}),
        "charset=utf-16": (doc.encode("utf-16"), {"Content-Type": "application/json;charset=utf-16"}),
    }
    for named, (body, headers) in refused.items():
        answer = await fhir.post("Patient", content=body, headers=headers)
        assert answer.status_code == 415, (named, answer.text)
        assert named in answer.text.lower() and answer.json()["resourceType"] == "OperationOutcome", answer.text
    assert (await fhir.get("Patient", params={"family": family})).json()["total"] == 0
    for headers in ({"Content-Type": 'application/fhir+json; charset="UTF-8"'},
                    {**FHIR, "Content-Encoding": "identity"}):
        taken = await fhir.post("Patient", content=doc.encode(), headers=headers)
        assert taken.status_code == 201, (headers, taken.text)
