"""The outbox's pieces without a server: backoff, leases vs timeouts, keys and control ids, the contract's
registry, and the ORU^R01 of a withdrawal (no workflow withdraws a validated report end to end yet)."""

from __future__ import annotations

import base64

import pytest

from facades.hl7v2.crbio_oru import META_FLAGS, build_crbio_oru
from facades.hl7v2.outbound import OruParties
from facades.hl7v2.parser import parse
from facades.hl7v2.pid import AssigningAuthority
from server.delivery.backoff import backoff
from server.delivery.channel import Action, DeliverySettings, register_channel, registered_channels
from server.delivery.hl7v2_channel import control_id
from server.delivery.outbox import idempotency_key, settings_for
from server.delivery.service import lease_seconds
from server.settings import Settings
from tests.support import crbio_samples as samples


def test_backoff_doubles_within_jitter_and_is_capped() -> None:
    for attempt, base in ((1, 30.0), (2, 60.0), (3, 120.0)):
        assert 0.5 * base <= backoff(attempt, 30.0, 3600.0) < 1.5 * base
    assert backoff(30, 30.0, 100.0) < 150.0


def test_a_lease_shorter_than_a_send_is_lengthened() -> None:
    assert lease_seconds(Settings(delivery_lease=120, delivery_timeout=60)) == 120
    assert lease_seconds(Settings(delivery_lease=10, delivery_timeout=60)) == 120


def test_keys_are_stable_and_control_ids_fit_msh10() -> None:
    key = idempotency_key("hl7v2", "DPI", "r1", 2, Action.REPLACE)
    assert key == "hl7v2:DPI:r1:v2:replace"
    assert control_id(key) == control_id(key) and len(control_id(key)) == 20
    assert control_id(key) != control_id(idempotency_key("hl7v2", "DPI", "r1", 3, Action.REPLACE))


def test_settings_snapshot_round_trips_and_reads_confidentiality() -> None:
    report = {"meta": {"security": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                                      "code": "R"}]}}
    settings = settings_for(report)
    assert settings.confidentiality == "R" and not settings.blocked
    assert DeliverySettings.from_dict({**settings.as_dict(), "unknown": 1}) == settings


def test_a_channel_name_is_registered_once() -> None:
    assert "hl7v2" in registered_channels()
    with pytest.raises(ValueError, match="registered twice"):
        register_channel("hl7v2", lambda context: None)


def test_withdrawal_oru_says_ca_and_d_and_carries_no_results() -> None:
    patient = samples.patient(True)
    parties = OruParties("OPENSGL", "750000000", "DXCARE", "CHU-X", AssigningAuthority("CHU-X", "1.2.3", "ISO"))
    message = build_crbio_oru(parties=parties, control_id="SGL1", event="delete", patient=patient,
                              report={"id": "r1", "identifier": [{"value": "D-1"}]}, document=b"<ClinicalDocument/>",
                              flags={"MASQUE_PS": True}, results=[{"valueQuantity": {"value": 1}}])
    parsed = parse(message.to_er7())
    assert parsed.segment("ORC").get("1") == "CA" and parsed.segment("ORC").get("2") == "D-1"  # type: ignore[union-attr]
    [document, *flags] = parsed.segments("OBX")
    assert document.get("11") == "D" and base64.b64decode(document.get("5.5")) == b"<ClinicalDocument/>"
    assert [f.get("3.1") for f in flags] == list(META_FLAGS)
    assert [f.get("5") for f in flags][:2] == ["Y", "N"] and len(parsed.segments("ORC")) == 1


def test_dmp_labels_and_block_are_in_the_snapshot() -> None:
    from server.delivery.dmp_settings import BLOCK_SYSTEM, BLOCKED, VISIBILITY_SYSTEM
    from server.delivery.outbox import BLOCKABLE
    report = {"meta": {"security": [{"system": VISIBILITY_SYSTEM, "code": "MASQUE_PS"}],
                       "tag": [{"system": BLOCK_SYSTEM, "code": BLOCKED, "display": "expertise assurance"}]}}
    settings = settings_for(report)
    assert settings.masked_to_professionals and not settings.invisible_to_patient
    assert settings.blocked and settings.blocked_reason == "expertise assurance"
    assert {"dmp"} == BLOCKABLE  # the block stops DMP feeding only: the DPI and MSSanté still receive
