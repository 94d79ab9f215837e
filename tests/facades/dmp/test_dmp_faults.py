"""What the DMP answers besides Success, and how each ends: transient (retry) or permanent (a failure Task)."""

from __future__ import annotations

import ssl

import pytest

from facades.dmp import (
    DmpAnswerUnreadable,
    DmpBusy,
    DmpClient,
    DmpRejected,
    DmpUnreachable,
    Seal,
    VihfSubject,
    client_ssl_context,
)
from tests.support.dmp import BIOLOGIST, SOFTWARE, DmpSimulator, crbio_submission, held
from tests.support.pki import create_test_pki

SENDER = VihfSubject.professional(BIOLOGIST)


async def test_registry_busy_three_times_then_one_document_set(client: DmpClient, sim: DmpSimulator) -> None:
    sim.queue_faults("registry_error", 3, code="XDSRegistryBusy")
    submission = crbio_submission(set_id="busy")
    for _ in range(3):
        with pytest.raises(DmpBusy) as caught:
            await client.provide(submission, SENDER)
        assert not caught.value.permanent and caught.value.errors[0].code == "XDSRegistryBusy"
    receipt = await client.provide(submission, SENDER)
    assert not receipt.already_registered
    assert sorted(d["uniqueId"] for d in sim.documents()) == sorted(d.unique_id for d in submission.documents)


@pytest.mark.parametrize(("mode", "error", "permanent"), [
    ("http500", DmpUnreachable, False),
    ("soap_fault", DmpBusy, False),
    ("garbage", DmpAnswerUnreadable, False),
    ("truncated", DmpAnswerUnreadable, False),
])
async def test_bad_answers_end_in_a_clear_transient_error(client: DmpClient, sim: DmpSimulator, mode: str,
                                                          error: type[Exception], permanent: bool) -> None:
    sim.queue_faults(mode)
    with pytest.raises(error) as caught:
        await client.provide(crbio_submission(set_id=mode), SENDER)
    assert caught.value.permanent is permanent
    assert sim.documents() == []


async def test_a_permanent_registry_error_is_not_retried(client: DmpClient, sim: DmpSimulator) -> None:
    sim.queue_faults("registry_error", code="XDSUnknownPatientId")
    with pytest.raises(DmpRejected) as caught:
        await client.provide(crbio_submission(set_id="unknown"), SENDER)
    assert caught.value.permanent and "XDSUnknownPatientId" in caught.value.diagnostics


async def test_a_slow_dmp_times_out_as_unreachable(sim: DmpSimulator, seal: Seal) -> None:
    sim.queue_faults("slow", delay=3.0)
    context = client_ssl_context(sim.client_cert, sim.client_key, sim.ca)
    async with DmpClient(sim.base_url, context, SOFTWARE, seal, timeout=0.5) as impatient:
        with pytest.raises(DmpUnreachable) as caught:
            await impatient.provide(crbio_submission(set_id="slow"), SENDER)
    assert not caught.value.permanent


async def test_a_client_without_the_lab_certificate_is_refused_by_tls(sim: DmpSimulator, seal: Seal) -> None:
    bare = ssl.create_default_context(cafile=str(sim.ca))
    async with DmpClient(sim.base_url, bare, SOFTWARE, seal, timeout=5.0) as anonymous:
        with pytest.raises(DmpUnreachable):
            await anonymous.provide(crbio_submission(set_id="anon"), SENDER)
    assert sim.documents() == []


async def test_a_certificate_from_another_ca_is_refused(sim: DmpSimulator, seal: Seal,
                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    other = create_test_pki(tmp_path_factory.mktemp("other-ca"))
    context = client_ssl_context(other.client.cert, other.client.key, sim.ca)
    async with DmpClient(sim.base_url, context, SOFTWARE, seal, timeout=5.0) as stranger:
        with pytest.raises(DmpUnreachable):
            await stranger.provide(crbio_submission(set_id="stranger"), SENDER)
    assert sim.documents() == []


async def test_an_answer_lost_with_the_connection_is_retried_and_the_dmp_holds_the_documents_once(
        client: DmpClient, sim: DmpSimulator) -> None:
    """The DMP stored the documents but the connection dropped while it answered: the client sees a transient
    failure; asking (ITI-18) shows the documents are there, and a resend is recognised, not stored twice."""
    sim.queue_faults("drop", 1)
    submission = crbio_submission(set_id="dropped")
    with pytest.raises((DmpUnreachable, DmpAnswerUnreadable)) as caught:
        await client.provide(submission, SENDER)
    assert not caught.value.permanent
    found = await held(client, submission, SENDER)
    assert set(found) == {d.unique_id for d in submission.documents}
    again = await client.provide(submission, SENDER)
    assert again.already_registered and len([d for d in sim.documents() if "dropped" in d["uniqueId"]]) == 2
