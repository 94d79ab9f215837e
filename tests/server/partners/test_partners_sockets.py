"""Socket partners on a running ``sgl serve`` (issue 11 item 6, issue 10 item 10): unknown senders are
refused with the reason and audited, a registration or removal takes effect without a restart, a role
limits the message types, only the identity source feeds identities (SGL.INS.39), foreign PID-3 types
are mapped per partner, and MLLP over TLS requires a client certificate from the configured CA."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx
import pytest

from facades.astm import AstmLinkError, Header, Message, Timeouts, build_message, send_message
from facades.hl7v2 import MllpUnavailable
from resources.ins import identity_status, ins_identifier
from server.database import Database
from server.inbound.journal import COLLECTION as JOURNAL
from tests.support.partner_messages import (
    PartnerServer,
    adt_a28,
    control_id,
    err8,
    msa,
    oru,
    send,
    sgl_partners,
)
from tests.support.pki import client_context, create_ca, issue_client_certificate

pytestmark = pytest.mark.db
IPP_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2.1"
CACHE_WAIT = 1.5
"""The server re-reads the registry at most every second."""
INS = "279035121518989"


def register(server: PartnerServer, name: str, *args: str) -> None:
    done = sgl_partners(server.sgl.data_dir, "add", name, *args)
    assert done.returncode == 0, done.stderr


async def refusal_audit(db: Database, control: str) -> dict[str, Any] | None:
    found = await db.db["AuditEvent"].find_one({"r.entity.what.identifier.value": control})
    return found["r"] if found else None


async def patients(http: httpx.AsyncClient, ipp: str) -> list[dict[str, Any]]:
    bundle = (await http.get("Patient", params={"identifier": f"{IPP_SYSTEM}|{ipp}"})).json()
    return [e["resource"] for e in bundle.get("entry", [])]


async def test_unknown_sender_is_refused_with_the_reason_journaled_and_audited(
        partner_server: PartnerServer, partner_db: Database) -> None:
    control = control_id()
    ack = await send(partner_server.sgl.mllp_port, oru("INCONNU", "NULLEPART", control=control))
    assert msa(ack) == ("AR", control)
    assert "INCONNU/NULLEPART is not a registered partner" in err8(ack)
    entry = await partner_db.db[JOURNAL].find_one({"control_id": control})
    assert entry is not None and entry["status"] == "rejected" and entry["raw"].startswith(b"MSH|")
    assert entry["peer"].startswith("127.0.0.1:")
    audit = await refusal_audit(partner_db, control)
    assert audit is not None and audit["type"]["code"] == "110113" and audit["outcome"] == "8"
    assert audit["agent"][0]["who"]["identifier"]["value"] == "INCONNU|NULLEPART"
    assert audit["agent"][0]["network"] == {"address": "127.0.0.1", "type": "2"}
    assert "not a registered partner" in audit["outcomeDesc"]
    assert await partner_db.db["Observation"].count_documents({"r.extension.valueString": {"$regex": "INCONNU"}}) == 0


async def test_registration_and_removal_take_effect_without_restart(partner_server: PartnerServer) -> None:
    port = partner_server.sgl.mllp_port
    assert msa(await send(port, oru("CX-LIVE")))[0] == "AR"
    register(partner_server, "CX-LIVE", "--role", "automate", "--hl7-application", "CX-LIVE",
             "--address", "127.0.0.1")
    await asyncio.sleep(CACHE_WAIT)
    assert msa(await send(port, oru("CX-LIVE")))[0] == "AA"
    assert sgl_partners(partner_server.sgl.data_dir, "remove", "CX-LIVE").returncode == 0
    await asyncio.sleep(CACHE_WAIT)
    ack = await send(port, oru("CX-LIVE"))
    assert msa(ack)[0] == "AR" and "not a registered partner" in err8(ack)


async def test_address_and_facility_must_match(partner_server: PartnerServer) -> None:
    register(partner_server, "FAR-AWAY", "--role", "automate", "--hl7-application", "FAR", "--address", "10.9.0.0/16")
    register(partner_server, "SITE-A", "--role", "automate", "--hl7-application", "MULTI", "--hl7-facility", "SITE-A")
    await asyncio.sleep(CACHE_WAIT)
    port = partner_server.sgl.mllp_port
    far = await send(port, oru("FAR"))
    assert msa(far)[0] == "AR" and "registered as partner FAR-AWAY but not from address 127.0.0.1" in err8(far)
    assert msa(await send(port, oru("MULTI", "SITE-A")))[0] == "AA"
    other_site = await send(port, oru("MULTI", "SITE-B"))
    assert msa(other_site)[0] == "AR" and "MULTI/SITE-B is not a registered partner" in err8(other_site)


@pytest.mark.req("SGL.INS.39")
async def test_only_the_identity_source_feeds_identities_and_keeps_qual_SGL_INS_39(
        partner_server: PartnerServer, partner_http: httpx.AsyncClient, partner_db: Database) -> None:
    register(partner_server, "AUTO-ADT", "--role", "automate", "--hl7-application", "AUTO-ADT")
    register(partner_server, "EHR-ADT", "--role", "dpi", "--hl7-application", "EHR-ADT")
    register(partner_server, "GAM-T", "--role", "source-identite", "--hl7-application", "GAM-T",
             "--hl7-facility", "CHU-X", "--address", "127.0.0.0/8")
    await asyncio.sleep(CACHE_WAIT)
    port = partner_server.sgl.mllp_port
    for sender in ("AUTO-ADT", "EHR-ADT"):
        control = control_id()
        ack = await send(port, adt_a28(sender, "39001", ins=INS, control=control))
        assert msa(ack) == ("AR", control)
        assert "may not send ADT^A28" in err8(ack)
        assert await refusal_audit(partner_db, control) is not None
    assert await patients(partner_http, "39001") == []
    ack = await send(port, adt_a28("GAM-T", "39001", ins=INS))
    assert msa(ack)[0] == "AA", err8(ack)
    [patient] = await patients(partner_http, "39001")
    assert identity_status(patient) == "QUAL"
    assert ins_identifier(patient) is not None and ins_identifier(patient)["value"] == INS  # type: ignore[index]


async def test_foreign_identifier_type_is_mapped_by_partner_configuration(
        partner_server: PartnerServer, partner_http: httpx.AsyncClient) -> None:
    register(partner_server, "GAM-MR", "--role", "source-identite", "--hl7-application", "GAM-MR",
             "--hl7-facility", "CHU-Y", "--identifier-type", "MR=PI")
    register(partner_server, "GAM-RAW", "--role", "source-identite", "--hl7-application", "GAM-RAW",
             "--hl7-facility", "CHU-Y")
    await asyncio.sleep(CACHE_WAIT)
    port = partner_server.sgl.mllp_port
    ack = await send(port, adt_a28("GAM-MR", "77001", facility="CHU-Y", ipp_type="MR", pid32="PROV"))
    assert msa(ack)[0] == "AA", err8(ack)
    [patient] = await patients(partner_http, "77001")
    assert patient["name"][0]["family"] == "PAT-TROIS"
    unmapped = await send(port, adt_a28("GAM-RAW", "77002", facility="CHU-Y", ipp_type="MR", pid32="PROV"))
    assert msa(unmapped)[0] == "AE" and "no patient identifier of type PI" in err8(unmapped)
    assert await patients(partner_http, "77002") == []


async def test_astm_session_from_an_unknown_sender_is_refused_and_journaled(
        partner_server: PartnerServer, partner_db: Database) -> None:
    fast = Timeouts(reply=5.0, frame=5.0, busy_retry=0.05, instrument_contention=0.05, host_contention=0.5,
                    max_retries=1)
    message = build_message(Message(header=Header(sender=("ASTM-NEW",), message_id="ASTM-NEW-1")))
    port = partner_server.sgl.astm_port
    with pytest.raises(AstmLinkError):
        await send_message("127.0.0.1", port, message, timeouts=fast)
    entry = await partner_db.db[JOURNAL].find_one({"protocol": "astm", "detail": {"$regex": "ASTM-NEW"}})
    assert entry is not None and entry["status"] == "rejected" and entry["peer"].startswith("127.0.0.1:")
    assert "ASTM sender ASTM-NEW is not a registered partner" in entry["detail"]
    assert entry["raw"].startswith(b"H|\\^&|ASTM-NEW-1||ASTM-NEW|")
    assert await refusal_audit(partner_db, "ASTM-NEW-1") is not None
    register(partner_server, "ASTM-NEW", "--role", "automate", "--astm-sender", "ASTM-NEW")
    await asyncio.sleep(CACHE_WAIT)
    await send_message("127.0.0.1", port, message, timeouts=fast)  # ACKed now


async def test_mllp_over_tls_requires_a_client_certificate_of_the_configured_ca(
        partner_server: PartnerServer, tmp_path: Any) -> None:
    register(partner_server, "TLS-EHR", "--role", "dpi", "--hl7-application", "TLS-EHR")
    register(partner_server, "TLS-AUTO", "--role", "automate", "--hl7-application", "TLS-AUTO")
    await asyncio.sleep(CACHE_WAIT)
    pki, port = partner_server.pki, partner_server.tls_port
    ack = await send(port, oru("TLS-AUTO"), ssl_context=client_context(pki))
    assert msa(ack)[0] == "AA"
    refused = await send(port, adt_a28("TLS-EHR", "88001"), ssl_context=client_context(pki))
    assert msa(refused)[0] == "AR", "the partner check applies on the TLS listener too"
    with pytest.raises(MllpUnavailable):  # the handshake is refused: no ACK, nothing journaled
        await send(port, oru("TLS-AUTO"), ssl_context=client_context(pki, with_certificate=False))
    stranger_ca = create_ca(tmp_path / "other", common_name="AUTRE AC")
    stranger = issue_client_certificate(stranger_ca, tmp_path / "other", stem="intrus", common_name="INTRUS")
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki.ca.cert))
    context.load_cert_chain(str(stranger.cert), str(stranger.key))
    with pytest.raises(MllpUnavailable):
        await send(port, oru("TLS-AUTO"), ssl_context=context)
