"""DMP feeding over IHE XDS.b: ITI-41 with MTOM, signed VIHF, XAdES-signed submission set, ITI-57."""

from facades.dmp.client import DmpClient, client_ssl_context
from facades.dmp.errors import (
    DmpAnswerUnreadable,
    DmpBusy,
    DmpError,
    DmpRejected,
    DmpRequestInvalid,
    DmpUnreachable,
    RegistryError,
)
from facades.dmp.model import (
    Document,
    Kind,
    Person,
    Receipt,
    Software,
    Structure,
    Submission,
    VihfSubject,
    Visibility,
    entry_uuid,
)
from facades.xmlsig import Seal

__all__ = [
    "DmpAnswerUnreadable",
    "DmpBusy",
    "DmpClient",
    "DmpError",
    "DmpRejected",
    "DmpRequestInvalid",
    "DmpUnreachable",
    "Document",
    "Kind",
    "Person",
    "Receipt",
    "RegistryError",
    "Seal",
    "Software",
    "Structure",
    "Submission",
    "VihfSubject",
    "Visibility",
    "client_ssl_context",
    "entry_uuid",
]
