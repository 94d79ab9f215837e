"""The CR-Bio mail as the operator receives it: headers, body, footer, XDM layout (SGL.MSS.08–14, 26)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from email import message_from_bytes
from email.message import Message
from email.policy import default

import pytest
from lxml import etree

from facades.mssante import MssMessageInvalid, build_message, patient_address
from facades.mssante.simulator import OperatorHandle
from facades.mssante.xdm import RIM
from tests.support.mssante import CONTACT, KIT_N3, SENDER, OperatorPki, client_for, report_mail

PRO = "dr.martin@medecin.mssante.fr"
INS = "279035121518989"


async def _received(ops: OperatorPki, operator: OperatorHandle, mail: object) -> Message:
    """Send through the production client and read the mail back from the operator as raw bytes."""
    sent = await client_for(ops, operator.smtp_port, operator.imap_port).send(build_message(mail, SENDER))  # type: ignore[arg-type]
    raw = next(d.raw for d in operator.boxes.delivered if sent.message_id in d.raw.decode("utf-8", "replace"))
    return message_from_bytes(raw, policy=default)


def _attachment(message: Message, name: str) -> bytes:
    part = next(p for p in message.walk() if p.get_filename() == name)
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


@pytest.mark.req("SGL.MSS.08")
async def test_every_mail_has_a_unique_message_id_SGL_MSS_08(ops: OperatorPki, operator: OperatorHandle) -> None:
    first = await _received(ops, operator, report_mail(PRO))
    second = await _received(ops, operator, report_mail(PRO))
    for message in (first, second):
        assert str(message["Message-ID"]).startswith("<") and "@labo-opensgl.mssante.fr>" in message["Message-ID"]
    assert first["Message-ID"] != second["Message-ID"]


@pytest.mark.req("SGL.MSS.09")
async def test_reply_carries_in_reply_to_and_references_SGL_MSS_09(ops: OperatorPki, operator: OperatorHandle) -> None:
    original = "<question-123@medecin.mssante.fr>"
    reply = await _received(ops, operator, report_mail(PRO, in_reply_to=original, references=("<first@x.fr>",)))
    assert reply["In-Reply-To"] == original
    assert reply["References"].split() == ["<first@x.fr>", original]
    assert reply["Message-ID"] and reply["Message-ID"] != original


@pytest.mark.req("SGL.MSS.10")
@pytest.mark.req("SGL.MSS.11")
async def test_plain_text_body_with_the_automatic_sending_footer_SGL_MSS_10_SGL_MSS_11(
        ops: OperatorPki, operator: OperatorHandle) -> None:
    message = await _received(ops, operator, report_mail(PRO))
    bodies = [p for p in message.walk() if p.get_content_maintype() == "text" and not p.get_filename()]
    assert [p.get_content_type() for p in bodies] == ["text/plain"]
    text = bodies[0].get_content()
    assert "généré automatiquement" in text and CONTACT in text.split("--")[-1]
    assert message["Reply-To"] == CONTACT


@pytest.mark.req("SGL.MSS.26")
async def test_reply_address_chosen_per_audience_SGL_MSS_26(ops: OperatorPki, operator: OperatorHandle) -> None:
    patients_desk = "accueil-patients@labo-opensgl.mssante.fr"
    message = await _received(ops, operator, report_mail(f"{INS}@patient.mssante.fr", to_patient=True,
                                                         reply_to=patients_desk))
    assert message["Reply-To"] == patients_desk
    assert patients_desk in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert message["From"].addresses[0].addr_spec == SENDER.address != patients_desk


@pytest.mark.req("SGL.MSS.13")
async def test_sender_label_is_the_bal_title_SGL_MSS_13(ops: OperatorPki, operator: OperatorHandle) -> None:
    message = await _received(ops, operator, report_mail(PRO))
    sender = message["From"].addresses[0]
    assert sender.display_name == "Laboratoire OpenSGL - Résultats" and sender.addr_spec == SENDER.address


@pytest.mark.req("SGL.MSS.14")
async def test_receipts_requested_only_when_wanted_SGL_MSS_14(ops: OperatorPki, operator: OperatorHandle) -> None:
    wanted = await _received(ops, operator, report_mail(PRO))
    assert wanted["Disposition-Notification-To"] == SENDER.address == wanted["Return-Receipt-To"]
    unwanted = await _received(ops, operator, report_mail(PRO, receipts=False))
    assert unwanted["Disposition-Notification-To"] is None and unwanted["Return-Receipt-To"] is None


@pytest.mark.req("SGL.MSS.17")
async def test_xdm_zip_layout_and_mss_headers_SGL_MSS_17(ops: OperatorPki, operator: OperatorHandle) -> None:
    message = await _received(ops, operator, report_mail(PRO))
    assert message["X-MSS-CODECDA"] == "11502-2"
    assert message["X-MSS-INS"] == "O"  # the kit document carries an INS (1.2.250.1.213.1.4.10)
    assert message["X-MSS-NIL"] == SENDER.nil
    assert message["X-MSS-MES"] is None
    names = [p.get_filename() for p in message.walk() if p.get_filename()]
    assert names == ["IHE_XDM.ZIP", "CR-BIO_PAT-TROIS_20210401_V1.pdf"]
    assert _attachment(message, "CR-BIO_PAT-TROIS_20210401_V1.pdf").startswith(b"%PDF")
    archive = zipfile.ZipFile(io.BytesIO(_attachment(message, "IHE_XDM.ZIP")))
    assert sorted(archive.namelist()) == ["IHE_XDM/SUBSET01/DOC0001.XML", "IHE_XDM/SUBSET01/METADATA.XML",
                                          "INDEX.HTM", "README.TXT"]
    n3 = archive.read("IHE_XDM/SUBSET01/DOC0001.XML")
    assert n3 == KIT_N3.read_bytes()
    metadata = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    ns = {"rim": RIM}

    def slot(name: str) -> list[str]:
        return [str(v) for v in metadata.xpath(f"//rim:ExtrinsicObject/rim:Slot[@name='{name}']//rim:Value/text()",
                                               namespaces=ns)]

    assert slot("URI") == ["DOC0001.XML"]
    assert slot("hash") == [hashlib.sha1(n3).hexdigest()] and slot("size") == [str(len(n3))]
    assert slot("sourcePatientId") == [f"{INS}^^^&1.2.250.1.213.1.4.10&ISO"]
    assert slot("creationTime") == ["20210401161000"]  # 17:10 +0100 in UTC
    unique = metadata.xpath("//rim:ExtrinsicObject/rim:ExternalIdentifier[rim:Name/rim:LocalizedString/"
                            "@value='XDSDocumentEntry.uniqueId']/@value", namespaces=ns)
    assert unique == ["1.2.250.1.213.1.1.1.55.2024.9.1"]
    assert metadata.xpath("count(//rim:Association[@sourceObject='SubmissionSet01'][@targetObject='Document01'])",
                          namespaces=ns) == 1
    assert b"DOC0001.XML" in archive.read("INDEX.HTM") and b"OpenSGL" in archive.read("README.TXT")


@pytest.mark.req("SGL.MSS.12")
def test_patient_address_only_for_a_qualified_ins_SGL_MSS_12() -> None:
    assert patient_address(INS, qualified=True) == f"{INS}@patient.mssante.fr"
    with pytest.raises(MssMessageInvalid, match="not qualified"):
        patient_address(INS, qualified=False)
    with pytest.raises(MssMessageInvalid, match="not qualified"):
        patient_address(None, qualified=True)
    with pytest.raises(MssMessageInvalid, match="malformed"):
        patient_address("12345", qualified=True)


@pytest.mark.req("SGL.MSS.20")
async def test_patient_mail_blocks_replies_when_asked_SGL_MSS_20(ops: OperatorPki, operator: OperatorHandle) -> None:
    message = await _received(ops, operator, report_mail(f"{INS}@patient.mssante.fr", to_patient=True,
                                                         replies_blocked=True))
    assert message["X-MSS-MES"] == "FIN" and message["To"] == f"{INS}@patient.mssante.fr"


def test_bad_requests_are_refused_before_any_connection() -> None:
    with pytest.raises(MssMessageInvalid, match="no recipient"):
        build_message(report_mail(), SENDER)
    with pytest.raises(MssMessageInvalid, match="not a mail address"):
        build_message(report_mail("pas une adresse"), SENDER)
    with pytest.raises(MssMessageInvalid, match="patient.mssante.fr"):
        build_message(report_mail(PRO, to_patient=True), SENDER)
    with pytest.raises(MssMessageInvalid, match="file name"):
        build_message(report_mail(PRO, pdf_name=""), SENDER)
    with pytest.raises(MssMessageInvalid, match="not a CDA"):
        build_message(report_mail(PRO, n3=b"<html/>"), SENDER)
    with pytest.raises(MssMessageInvalid, match="well-formed"):
        build_message(report_mail(PRO, n3=b"<ClinicalDocument"), SENDER)


def test_notice_without_documents_has_no_mss_cda_headers() -> None:
    notice = build_message(report_mail(PRO, n3=None, pdf=None, subject="Suppression d'un compte rendu"), SENDER)
    assert notice["X-MSS-CODECDA"] is None and notice["X-MSS-INS"] is None and notice["X-MSS-NIL"] == SENDER.nil
    assert notice.get_content_type() == "text/plain"


def test_self_presenting_n3_is_packaged_with_its_embedded_header() -> None:
    from facades.cda.stylesheet import self_presenting
    from facades.mssante import build_xdm
    from facades.mssante.xdm import XdmSource

    wrapped = self_presenting(KIT_N3.read_bytes())
    archive, head = build_xdm(wrapped, XdmSource("1.2.250.1.999.1", "Laboratoire OpenSGL", CONTACT))
    assert head.code.code == "11502-2" and head.ins == ("1.2.250.1.213.1.4.10", INS)
    assert zipfile.ZipFile(io.BytesIO(archive)).read("IHE_XDM/SUBSET01/DOC0001.XML") == wrapped
