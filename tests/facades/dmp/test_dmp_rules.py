"""The simulated DMP's metadata rules on a real ITI-41 request read back, one broken field at a time."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from lxml import etree

from facades.dmp import Seal, VihfSubject, mtom
from facades.dmp.client import provide_request
from facades.dmp.codes import APPROVED, DE_CONFIDENTIALITY, DE_FORMAT, DE_PATIENT_ID, DE_TYPE, RPLC, SS_SOURCE_ID
from facades.dmp.simulator.parsed import NS, ParsedSubmission, registry_objects
from facades.dmp.simulator.rules import check_submission
from tests.support.dmp import BIOLOGIST, SOFTWARE, crbio_submission
from tests.support.pki import TestPki, create_test_pki

PATIENT = "279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH"


@dataclass
class Held:
    entry_uuid: str
    sha1: str
    status: str
    structure: str


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return create_test_pki(tmp_path_factory.mktemp("rules-pki"))


def _read(pki: TestPki, version: int = 1) -> tuple[ParsedSubmission, dict[str, bytes]]:
    seal = Seal.from_files(pki.client.cert, pki.client.key)
    _, outgoing = provide_request(crbio_submission(version), VihfSubject.professional(BIOLOGIST), SOFTWARE, seal,
                                  "https://dmp/repository")
    message = mtom.split(outgoing.content_type, outgoing.body)
    request = etree.fromstring(message.envelope).find("s:Body/x:ProvideAndRegisterDocumentSetRequest", NS)
    assert request is not None
    documents = {d.get("id", ""): mtom.resolve(d, message.parts) for d in request.iterfind("x:Document", NS)}
    return registry_objects(request.find("l:SubmitObjectsRequest", NS)), documents


def _codes(parsed: ParsedSubmission, documents: dict[str, bytes], **kwargs: object) -> list[str]:
    errors = check_submission(parsed, documents, str(kwargs.get("vihf_patient", PATIENT)),
                              kwargs.get("stored", {}), kwargs.get("by_entry", {}),  # type: ignore[arg-type]
                              str(kwargs.get("structure", "3920000001")))
    return [f"{e.code}: {e.context}" for e in errors]


def test_a_well_formed_submission_passes(pki: TestPki) -> None:
    assert _codes(*_read(pki)) == []


def test_each_broken_field_is_named(pki: TestPki) -> None:
    parsed, documents = _read(pki)
    n3 = parsed.entries[0]
    del n3.slots["creationTime"], n3.slots["serviceStartTime"]
    n3.coded[DE_TYPE] = [("34133-9", "2.16.840.1.113883.6.1")]
    n3.coded[DE_FORMAT] = [("urn:other", "x")]
    n3.coded[DE_CONFIDENTIALITY].append(("SECRET", "x"))
    n3.author = {}
    n3.title = ""
    n3.identifiers[DE_PATIENT_ID] = "other"
    n3.slots["size"] = ["1"]
    del parsed.set_identifiers[SS_SOURCE_ID]
    found = "\n".join(_codes(parsed, documents, vihf_patient="someone else"))
    for expected in ("slot creationTime missing", "slot serviceStartTime missing", "not 11502-2",
                     "formatCode 'urn:other' unknown", "outside JDV_J58", "author missing", "title missing",
                     "XDSPatientIdDoesNotMatch: entry patientId", "size does not match", "sourceId missing",
                     "XDSPatientIdDoesNotMatch: the VIHF resource-id"):
        assert expected in found


def test_documents_and_entries_must_pair_and_patients_must_be_ins(pki: TestPki) -> None:
    parsed, documents = _read(pki)
    orphan = {**documents, "urn:uuid:extra": b"x"}
    del orphan[parsed.entries[1].entry_id]
    found = "\n".join(_codes(parsed, orphan))
    assert "XDSMissingDocumentMetadata" in found and "XDSMissingDocument:" in found
    parsed, documents = _read(pki)
    parsed.set_identifiers = {k: v.replace("1.2.250.1.213.1.4.10", "1.2.3") for k, v in parsed.set_identifiers.items()}
    assert any(c.startswith("XDSUnknownPatientId") for c in _codes(parsed, documents))


def test_replacement_rules(pki: TestPki) -> None:
    parsed, documents = _read(pki, version=2)
    targets = {t for kind, _, t, _ in parsed.associations if kind == RPLC}
    assert len(targets) == 2
    assert all(c.startswith("UnresolvedReferenceException") for c in _codes(parsed, documents))
    approved = {t: Held(t, "", APPROVED, "3920000001") for t in targets}
    assert _codes(parsed, documents, by_entry=approved) == []
    foreign = {t: Held(t, "", APPROVED, "3999999999") for t in targets}
    assert all("only the author's structure" in c for c in _codes(parsed, documents, by_entry=foreign))
