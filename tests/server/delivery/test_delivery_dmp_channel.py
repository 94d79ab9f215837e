"""The ``dmp`` delivery channel as the outbox's worker drives it, against ``sgl dmp-simulator`` over mutual TLS:
recipients only for a qualified INS, publish / replace / delete / settings mapped to ITI-41 and ITI-57, the
dossier's masking in the confidentialityCodes, and every DMP answer mapped to delivered / retry / failed."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest

from server.delivery.channel import (
    Action,
    DeliveryItem,
    DeliverySettings,
    DocumentEvent,
    DocumentSet,
    Outcome,
    StoredDocument,
    build_channels,
)
from server.delivery.dmp_channel import DmpChannel, build
from server.delivery.dmp_settings import BLOCK_SYSTEM
from server.settings import Settings
from tests.support import crbio_samples as s
from tests.support.access import biologist_practitioner
from tests.support.dmp import DmpSimulator, crbio_submission, running_dmp_simulator

REPORT = {"resourceType": "DiagnosticReport", "id": "rep1", "status": "final", "issued": "2026-11-20T09:00:00+01:00",
          "resultsInterpreter": [{"reference": "Practitioner/bio1"}]}


@dataclass
class Context:
    settings: Settings


@pytest.fixture(scope="module")
def dmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DmpSimulator]:
    with running_dmp_simulator(tmp_path_factory.mktemp("dmp-channel") / "pki") as sim:
        yield sim


@pytest.fixture
async def channel(dmp: DmpSimulator) -> AsyncIterator[DmpChannel]:
    dmp.reset()
    built = build(Context(Settings(dmp_url=dmp.base_url, dmp_cert=dmp.client_cert, dmp_key=dmp.client_key,
                                   dmp_ca=dmp.ca, dmp_timeout=5.0)))
    assert built is not None
    try:
        yield built
    finally:
        await built.client.aclose()


async def _read(kind: str, rid: str) -> dict[str, Any] | None:
    return {**biologist_practitioner(), "id": rid} if kind == "Practitioner" else None


@functools.cache
def _documents(version: int, set_id: str = "rep1") -> dict[str, StoredDocument]:
    """The stored N3 and N1 of a version: made once, as the store keeps them."""
    submission = crbio_submission(version, set_id=set_id)
    return {fmt: StoredDocument(fmt, doc.content, doc.kind.mime_type, f"{set_id}-{fmt}-v{version}",
                                f"{set_id}-{fmt}-v{version}", doc.unique_id, set_id, version)
            for fmt, doc in zip(("n3", "n1"), submission.documents, strict=True)}


async def _item(channel: DmpChannel, action: Action, version: int, settings: DeliverySettings | None = None,
                *, author: str | None = "Practitioner/bio1", patient: dict[str, Any] | None = None) -> DeliveryItem:
    settings = settings or DeliverySettings()
    [recipient] = await channel.recipients(DocumentEvent(action, REPORT, patient or s.patient(), settings, _read))
    return DeliveryItem("d1", f"dmp:dmp:rep1:v{version}:{action.value}", "dmp", recipient.name, action, "rep1",
                        version, "Patient/pat1", settings, author=author, extra=recipient.extra)


def _set(version: int, previous: int | None = None, set_id: str = "rep1") -> DocumentSet:
    return DocumentSet(REPORT, s.patient(), [], _documents(version, set_id) if version else {},
                       _documents(previous, set_id) if previous else {})


def test_no_dmp_url_means_no_dmp_channel() -> None:
    assert build(Context(Settings())) is None
    assert all(c.name != "dmp" for c in build_channels(Context(Settings())))


@pytest.mark.req("SGL.DMP.01")
async def test_a_published_version_is_in_the_dmp_once_named_by_the_validating_biologist_SGL_DMP_01(
        channel: DmpChannel, dmp: DmpSimulator) -> None:
    item = await _item(channel, Action.PUBLISH, 1)
    assert item.extra["biologist"]["id"] == "810009876543"
    answer = await channel.send(item, _set(1))
    assert answer.outcome == Outcome.DELIVERED and answer.text == "Success" and answer.remote_id
    again = await channel.send(item, _set(1))  # the same item sent twice (first try): the DMP sees a duplicate
    assert again.outcome == Outcome.DELIVERED and "already registered" in again.text
    retried = await channel.send(replace(item, attempt=2), _set(1))  # a later try asks the DMP first (ITI-18)
    assert retried.outcome == Outcome.DELIVERED and retried.text.startswith("already in the DMP")
    held = dmp.documents()
    assert sorted(d["uniqueId"] for d in held) == sorted(d.unique_id for d in _set(1).documents.values() if d.unique_id)
    assert {d["vihfSubject"] for d in held} == {"810009876543"} and {d["authorRpps"] for d in held} == {"10009876543"}
    assert {d["patientId"] for d in held} == {"279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"}
    assert {d["typeCode"] for d in held} == {"11502-2"} and {d["vihfStructure"] for d in held} == {"3920000001"}


async def test_automatic_sending_without_a_named_biologist_uses_the_automate_vihf(
        channel: DmpChannel, dmp: DmpSimulator) -> None:
    item = await _item(channel, Action.PUBLISH, 1, author=None)
    assert (await channel.send(item, _set(1))).outcome == Outcome.DELIVERED
    assert {tuple(d["vihfRoles"]) for d in dmp.documents()} == {("AUTOMATE",)}


@pytest.mark.req("SGL.DMP.03", "SGL.DMP.04")
async def test_replace_then_delete_SGL_DMP_03_SGL_DMP_04(channel: DmpChannel, dmp: DmpSimulator) -> None:
    assert (await channel.send(await _item(channel, Action.PUBLISH, 1), _set(1))).outcome == Outcome.DELIVERED
    assert (await channel.send(await _item(channel, Action.REPLACE, 2), _set(2, 1))).outcome == Outcome.DELIVERED
    held = {d["uniqueId"]: d for d in dmp.documents()}
    for fmt in ("n3", "n1"):
        old, new = _documents(1)[fmt].unique_id, _documents(2)[fmt].unique_id
        assert held[new]["replaces"] == old and held[old]["availabilityStatus"].endswith("Deprecated")
    delete = await _item(channel, Action.DELETE, 2)
    assert (await channel.send(delete, _set(0, 2))).outcome == Outcome.DELIVERED
    requests = dmp.stats()["requests"]
    again = await channel.send(replace(delete, attempt=2), _set(0, 2))  # the answer was lost: asked, not resent
    assert again.outcome == Outcome.DELIVERED and "ITI-18" in again.text and dmp.stats()["requests"] == requests + 1
    statuses = {d["uniqueId"]: d["availabilityStatus"] for d in dmp.documents()}
    assert {statuses[d.unique_id] for d in _documents(2).values()} == {"urn:asip:ci-sis:2010:StatusType:Deleted"}


def _counted(dmp: DmpSimulator, before: dict[str, int]) -> dict[str, int]:
    """The DMP transactions read and answered since ``before`` (a ``stats()``)."""
    now = dmp.stats()
    return {t: now.get(t, 0) - before.get(t, 0) for t in ("ITI-18", "ITI-41", "ITI-57")}


@pytest.mark.req("SGL.DMP.03")
async def test_a_retried_correction_asks_the_registry_once_per_attempt_SGL_DMP_03(
        channel: DmpChannel, dmp: DmpSimulator) -> None:
    """A correction's later try needs two facts from the registry: did an earlier try get through, and does the
    DMP hold the version it replaces. Both come from one ITI-18 GetDocuments, not one query each."""
    assert (await channel.send(await _item(channel, Action.PUBLISH, 1), _set(1))).outcome == Outcome.DELIVERED
    correction = await _item(channel, Action.REPLACE, 2)
    dmp.queue_faults("http500")  # the first try's query fails: nothing reached the DMP
    assert (await channel.send(correction, _set(2, 1))).outcome == Outcome.RETRY
    before = dmp.stats()
    second = await channel.send(replace(correction, attempt=2), _set(2, 1))
    assert second.outcome == Outcome.DELIVERED and second.text == "Success"
    assert _counted(dmp, before) == {"ITI-18": 1, "ITI-41": 1, "ITI-57": 0}
    held = {d["uniqueId"]: d for d in dmp.documents()}
    assert {held[d.unique_id]["replaces"] for d in _documents(2).values()} == {
        d.unique_id for d in _documents(1).values()}
    before = dmp.stats()  # the second try's answer was lost: a third try asks once and sends nothing
    third = await channel.send(replace(correction, attempt=3), _set(2, 1))
    assert third.outcome == Outcome.DELIVERED and third.text.startswith("already in the DMP")
    assert set(third.detail["found"]) == {d.unique_id for d in _documents(2).values()}
    assert _counted(dmp, before) == {"ITI-18": 1, "ITI-41": 0, "ITI-57": 0}
    assert len(dmp.documents()) == 4


@pytest.mark.req("SGL.DOC.15", "SGL.DOC.16")
async def test_the_dossier_settings_become_confidentiality_codes_and_a_change_an_iti57_SGL_DOC_15_SGL_DOC_16(
        channel: DmpChannel, dmp: DmpSimulator) -> None:
    masked = DeliverySettings(masked_to_professionals=True, invisible_to_patient=True,
                              invisible_to_legal_representatives=True)
    assert (await channel.send(await _item(channel, Action.PUBLISH, 1, masked), _set(1))).outcome == Outcome.DELIVERED
    assert {tuple(d["confidentialityCode"]) for d in dmp.documents()} == {
        ("N", "MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX")}
    unmasked = await channel.send(await _item(channel, Action.SETTINGS, 1), _set(1))
    assert unmasked.outcome == Outcome.DELIVERED
    assert {tuple(d["confidentialityCode"]) for d in dmp.documents()} == {("N",)}


async def test_registry_answers_map_to_failed_or_retry(channel: DmpChannel, dmp: DmpSimulator) -> None:
    item = await _item(channel, Action.PUBLISH, 1)
    dmp.queue_faults("registry_error", code="XDSUnknownPatientId")
    refused = await channel.send(item, _set(1))
    assert refused.outcome == Outcome.FAILED and "XDSUnknownPatientId" in refused.text
    assert refused.detail["registryErrors"] == ["XDSUnknownPatientId: erreur simulée"]
    dmp.queue_faults("registry_error", code="XDSRegistryBusy")
    assert (await channel.send(item, _set(1))).outcome == Outcome.RETRY
    dmp.queue_faults("http500")
    assert (await channel.send(item, _set(1))).outcome == Outcome.RETRY
    assert dmp.documents() == []


@pytest.mark.req("SGL.DMP.03")
async def test_a_replacement_of_a_version_the_dmp_never_held_goes_as_a_new_document_SGL_DMP_03(
        channel: DmpChannel, dmp: DmpSimulator) -> None:
    """Version 4 never reached the DMP (blocked, cancelled): version 5 cannot RPLC it, the registry would refuse it
    (UnresolvedReferenceException); it is asked for first (ITI-18) and version 5 goes as a new document."""
    orphan = await channel.send(await _item(channel, Action.REPLACE, 5), _set(5, 4, set_id="orphan"))
    assert orphan.outcome == Outcome.DELIVERED and "new document" in orphan.text
    held = {d["uniqueId"]: d for d in dmp.documents()}
    assert sorted(held) == sorted(d.unique_id for d in _documents(5, "orphan").values())
    assert {d["replaces"] for d in held.values()} == {None}
    assert (await channel.send(await _item(channel, Action.REPLACE, 6), _set(6, 5, set_id="orphan"))).text == "Success"
    replaced = {d["uniqueId"]: d for d in dmp.documents()}
    assert {replaced[d.unique_id]["replaces"] for d in _documents(6, "orphan").values()} == {
        d.unique_id for d in _documents(5, "orphan").values()}


@pytest.mark.req("SGL.INS.37")
async def test_no_qualified_ins_no_dmp_SGL_INS_37(channel: DmpChannel, dmp: DmpSimulator) -> None:
    event = DocumentEvent(Action.PUBLISH, REPORT, s.patient(qualified=False), DeliverySettings(), _read)
    assert await channel.recipients(event) == []
    identity = DocumentEvent(Action.IDENTITY, REPORT, s.patient(), DeliverySettings(), _read)
    assert await channel.recipients(identity) == []  # identity updates go to EHR partners, not to the DMP
    item = await _item(channel, Action.PUBLISH, 1)
    unqualified = DocumentSet(REPORT, s.patient(qualified=False), [], _documents(1))
    answer = await channel.send(item, unqualified)
    assert answer.outcome == Outcome.FAILED and "qualified INS" in answer.text
    missing = await channel.send(item, DocumentSet(REPORT, s.patient(), [], {}))
    assert missing.outcome == Outcome.FAILED and "no stored N3" in missing.text
    assert dmp.stats()["requests"] == 0


@pytest.mark.req("SGL.DMP.02")
async def test_a_blocked_dossier_still_names_the_dmp_the_outbox_holds_it_blocked_SGL_DMP_02(
        channel: DmpChannel) -> None:
    blocked = {**REPORT, "meta": {"tag": [{"system": BLOCK_SYSTEM, "code": "DMP_BLOQUE",
                                           "display": "expertise assurance"}]}}
    event = DocumentEvent(Action.PUBLISH, blocked, s.patient(), DeliverySettings(), _read)
    assert [r.name for r in await channel.recipients(event)] == ["dmp"]  # written blocked, released later
