"""Helpers of the partner-registry tests: the server they share, ``sgl partners`` as an operator types it,
and HL7 messages shaped like a hospital's and an analyzer's (written here, never copied)."""

from __future__ import annotations

import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from facades.hl7v2 import Hl7Message, MllpClient, NackReceived
from tests.support.pki import TestPki
from tests.support.sgl_cli import run_sgl
from tests.support.sgl_server import SglProcess


@dataclass
class PartnerServer:
    sgl: SglProcess
    pki: TestPki
    tls_port: int


def sgl_partners(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``sgl partners ARGS --data-dir D`` as an operator would type it."""
    return run_sgl("partners", *args, "--data-dir", str(data_dir), timeout=120)


async def send(port: int, message: str, **client: object) -> Hl7Message:
    """One message on its own connection; the ACK whatever its code."""
    async with MllpClient("127.0.0.1", port, read_timeout=30, **client) as mllp:  # type: ignore[arg-type]
        try:
            return await mllp.send(message)
        except NackReceived as nack:
            return nack.ack


def control_id() -> str:
    return uuid.uuid4().hex[:16]


def oru(application: str, facility: str = "LABO", *, control: str | None = None) -> str:
    return (f"MSH|^~\\&|{application}|{facility}|SGL|LABO|20261126101500+0100||ORU^R01^ORU_R01|"
            f"{control or control_id()}|P|2.5.1|||||FRA|UNICODE UTF-8\r"
            f"OBR|1||T{uuid.uuid4().hex[:8]}|GLY^Glycémie\r"
            f"OBX|1|NM|GLU^Glucose||1.02|g/L|0.70-1.10|H|||F|||||||{application}|20261126101200+0100\r")


def adt_a28(application: str, ipp: str, *, facility: str = "CHU-X", ipp_type: str = "PI", pid32: str = "VALI",
            control: str | None = None, ins: str = "") -> str:
    """A PAM-FR ADT^A28 (identity creation) as a hospital identity repository sends it."""
    ins_cx = f"~{ins}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS" if ins else ""
    return (f"MSH|^~\\&|{application}|{facility}|SGL|LABO|20261126080000||ADT^A28^ADT_A05|{control or control_id()}"
            "|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8|FR||2.11^IHE_FRANCE-2.11-PAM\r"
            "EVN||20261126080000\r"
            f"PID|1||{ipp}^^^{facility}&1.2.250.1.71.4.2.2.1&ISO^{ipp_type}{ins_cx}||PAT-TROIS^DOMINIQUE^DOMINIQUE^^^^L"
            "||19790328|F|||^^^^^^BDL^^63220" + "|" * 19 + f"N||{pid32}\r")


def msa(ack: Hl7Message) -> tuple[str, str]:
    segment = ack.segment("MSA")
    assert segment is not None
    return segment.get(1), segment.get(2)


def err8(ack: Hl7Message) -> str:
    segment = ack.segment("ERR")
    return segment.get(8) if segment is not None else ""
