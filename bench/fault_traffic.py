"""The traffic of the fault-injection run: three senders that behave like the lab's real partners.

* an hematology analyzer sending ORU^R01 over MLLP (Sysmex-like: MSH-3/MSH-4 naming the station and
  the instrument, OBR-3 the tube, OBX with sub-id, range, flag, status, OBX-18 equipment, OBX-19 run time);
* a biochemistry analyzer sending ASTM E1394 over E1381 framing (cobas-like H, P, O, R and C records);
* a FHIR client creating Observations with ``If-None-Exist`` on their identifier.

Each resends the same message until it is acknowledged (AA / final-frame ACK / 201 or 200), as
instruments do after an AE, a NAK, a reset connection or a missing answer. Messages are written
here as text, not with the project's writers, so the server reads what an analyzer sends.
Every sender keeps a ``Ledger``: what it sent, what was acknowledged, how often it had to resend.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from facades.astm import AstmClient, AstmLinkError
from facades.astm.link import Timeouts
from facades.hl7v2 import MllpClient
from facades.hl7v2.errors import MllpUnavailable, NackReceived

log = logging.getLogger(__name__)
LAB_ZONE = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 26, 7, 0, 0, tzinfo=LAB_ZONE)
FHIR_ID_SYSTEM = "https://opensgl.org/fhir/sid/fault-injection"
RETRY_PAUSE_S = 0.5
HEMATOLOGY = (("WBC", "Leucocytes", "6.42", "10*9/L", "4.00-10.00"),
              ("RBC", "Hematies", "4.61", "10*12/L", "3.80-5.20"),
              ("HGB", "Hemoglobine", "13.9", "g/dL", "12.0-16.0"), ("PLT", "Plaquettes", "245", "10*9/L", "150-400"))
BIOCHEMISTRY = (("GLU", "1.02", "g/L", "0.70 to 1.10"), ("UREA", "5.1", "mmol/L", "2.8 to 7.2"),
                ("CREA", "72", "umol/L", "45 to 84"), ("NA", "140", "mmol/L", "136 to 145"))


ResultKey = tuple[str, str, str, datetime]
"""(analyzer, tube accession, instrument test code, run time): one run of one test."""


@dataclass
class Ledger:
    """What one sender sent and what the server confirmed; items are result keys or FHIR identifiers."""

    protocol: str
    messages: int = 0
    attempts: int = 0
    resent: int = 0
    """Messages sent more than once (no answer, AE, NAK, 503): the resend path was exercised."""
    sent: set[object] = field(default_factory=set)
    acknowledged: set[object] = field(default_factory=set)
    refusals: Counter[str] = field(default_factory=Counter)
    """Why an attempt was not acknowledged: AE, AR, NAK, 503, no answer..."""


def _hl7_time(moment: datetime) -> str:
    return moment.strftime("%Y%m%d%H%M%S")


def oru_r01(n: int, accession: str) -> tuple[str, list[ResultKey]]:
    """A hematology analyzer's ORU^R01 for run ``n`` of tube ``accession`` (local times, no offset)."""
    run = START + timedelta(seconds=n)
    t = _hl7_time(run)
    segments = [f"MSH|^~\\&|HEM1|XN-1000^SYSMEX|SGL|LABO|{t}||ORU^R01^ORU_R01|XN{n:07d}|P|2.5.1|||NE|AL||UNICODE UTF-8",
                "PID|1||||MARTIN^CLAIRE||19800517|F",
                f"OBR|1||{accession}^HEM1|NFS^Numeration formule sanguine^L|||{t}|||||||{t}||||||||||F"]
    for i, (code, name, value, unit, low_high) in enumerate(HEMATOLOGY, 1):
        segments.append(f"OBX|{i}|NM|{code}^{name}^L|1|{value}|{unit}|{low_high}|N|||F|||{t}||||"
                        f"HEM1^XN-1000^11001|{t}")
    return "\r".join(segments) + "\r", [("HEM1", accession, code, run) for code, *_ in HEMATOLOGY]


def astm_results(n: int, accession: str) -> tuple[str, list[ResultKey]]:
    """A biochemistry analyzer's ASTM result message for run ``n`` of tube ``accession``."""
    run = START + timedelta(seconds=n)
    t = _hl7_time(run)
    tests = "\\".join(f"^^^{code}" for code, *_ in BIOCHEMISTRY)
    records = [f"H|\\^&|||BIO1^cobas c 311^1.04^12345|||||LIS||P|1|{t}",
               f"P|1||PAT{n}",
               f"O|1|{accession}|{n % 500}^5001^{n % 5 + 1}^^S1^SC|{tests}|R||||||N||||1||||||||||F"]
    for i, (code, value, unit, ranges) in enumerate(BIOCHEMISTRY, 1):
        records.append(f"R|{i}|^^^{code}^0|{value}|{unit}|{ranges}|N||F||BIO-OP1|{t}|{t}|BIO1")
        if i == 1:
            records.append("C|1|I|0|I")
    records.append("L|1|N")
    return "\r".join(records) + "\r", [("BIO1", accession, code, run) for code, *_ in BIOCHEMISTRY]


def fhir_observation(n: int, patient: str) -> tuple[dict[str, object], str]:
    identifier = f"FI-{n:07d}"
    return ({"resourceType": "Observation", "status": "final",
             "identifier": [{"system": FHIR_ID_SYSTEM, "value": identifier}],
             "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
             "subject": {"reference": f"Patient/{patient}"},
             "effectiveDateTime": (START + timedelta(seconds=n)).isoformat(),
             "valueQuantity": {"value": 5.5, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                               "code": "mmol/L"}}, identifier)


Attempt = Callable[[], Awaitable[str | None]]
"""One try at delivering a message: None once acknowledged, else why not (AE, NAK, 503, no answer...)."""


async def _until_acknowledged(ledger: Ledger, attempt: Attempt, give_up: asyncio.Event) -> bool:
    """Call ``attempt`` until it returns None (acknowledged) or a refusal that must not be resent."""
    first = True
    while True:
        ledger.attempts += 1
        if not first:
            ledger.resent += 1
        first = False
        refusal = await attempt()
        if refusal is None:
            return True
        ledger.refusals[refusal] += 1
        if refusal == "AR" or give_up.is_set():
            return False
        await asyncio.sleep(RETRY_PAUSE_S)


async def _stream(ledger: Ledger, stop: asyncio.Event, give_up: asyncio.Event,
                  build: Callable[[int], tuple[Any, list[Any]]],
                  deliver: Callable[[Any], Awaitable[str | None]]) -> None:
    """Build message n, deliver it until acknowledged, then the next one, until ``stop``."""
    n = 0
    while not stop.is_set():
        payload, items = build(n)
        n += 1
        ledger.messages += 1
        ledger.sent.update(items)
        if await _until_acknowledged(ledger, functools.partial(deliver, payload), give_up):
            ledger.acknowledged.update(items)


async def hl7_sender(port: int, tubes: list[str], ledger: Ledger, stop: asyncio.Event, give_up: asyncio.Event) -> None:
    client = MllpClient("127.0.0.1", port, connect_timeout=5, read_timeout=30)

    async def deliver(text: str) -> str | None:
        try:
            await client.send(text)
        except NackReceived as exc:
            msa = exc.ack.segment("MSA")
            return msa.get("1") if msa is not None else "no MSA"
        except MllpUnavailable:
            return "no answer"
        return None

    try:
        await _stream(ledger, stop, give_up, lambda n: oru_r01(n, tubes[n % len(tubes)]), deliver)
    finally:
        await client.close()


ASTM_TIMEOUTS = Timeouts(reply=20.0, frame=20.0, busy_retry=1.0, max_retries=3)


async def astm_sender(port: int, tubes: list[str], ledger: Ledger, stop: asyncio.Event,
                      give_up: asyncio.Event) -> None:
    """One connection kept open, as an instrument does; opened again after a failure."""
    client: AstmClient | None = None

    async def close() -> None:
        nonlocal client
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
            client = None

    async def deliver(text: str) -> str | None:
        nonlocal client
        try:
            if client is None:
                client = await AstmClient.connect("127.0.0.1", port, timeouts=ASTM_TIMEOUTS)
            await client.send(text)
        except (AstmLinkError, ConnectionError, OSError) as exc:
            await close()
            return "NAK" if "NAK" in str(exc) else "no answer"
        return None

    try:
        await _stream(ledger, stop, give_up, lambda n: astm_results(n, tubes[n % len(tubes)]), deliver)
    finally:
        await close()


async def fhir_sender(base: str, patient: str, ledger: Ledger, stop: asyncio.Event, give_up: asyncio.Event,
                      auth: httpx.Auth | None = None) -> None:
    async with httpx.AsyncClient(base_url=base + "/", timeout=30.0, auth=auth) as http:

        async def deliver(item: tuple[dict[str, object], str]) -> str | None:
            body, identifier = item
            try:
                answer = await http.post("Observation", json=body, headers={
                    "If-None-Exist": f"identifier={FHIR_ID_SYSTEM}|{identifier}"})
            except httpx.HTTPError:
                return "no answer"
            if answer.status_code in (200, 201):
                return None
            return "AR" if answer.status_code in (400, 404, 422) else str(answer.status_code)

        def build(n: int) -> tuple[tuple[dict[str, object], str], list[str]]:
            body, identifier = fhir_observation(n, patient)
            return (body, identifier), [identifier]

        await _stream(ledger, stop, give_up, build, deliver)
