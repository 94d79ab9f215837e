"""MSSanté: the CR-Bio mailed from the lab's applicative BAL (SGL.MSS.01–26), and a local operator."""

from facades.mssante.client import Fetched, MssClient, OperatorConfig, Sent
from facades.mssante.errors import MssMessageInvalid, MssRejected, MssTlsRefused, MssUnreachable
from facades.mssante.message import ReportMail, Sender, build_message, patient_address
from facades.mssante.receipts import Receipt, read_receipt, strongest
from facades.mssante.tls import CIPHER_SUITES, client_context, server_context
from facades.mssante.xdm import XDM_NAME, XdmSource, build_xdm

__all__ = [
    "CIPHER_SUITES", "XDM_NAME", "Fetched", "MssClient", "MssMessageInvalid", "MssRejected", "MssTlsRefused",
    "MssUnreachable", "OperatorConfig", "Receipt", "ReportMail", "Sender", "Sent", "XdmSource", "build_message",
    "build_xdm", "client_context", "patient_address", "read_receipt", "server_context", "strongest",
]
