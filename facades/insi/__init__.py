"""INSi teleservice: SOAP client, identitovigilance import rules, FR Core mapping and a simulator.

The server builds one :class:`InsiClient` from ``SGL_INSI_URL`` and the lab's organisation
certificate (:func:`client_ssl_context`), calls it per user, stores each traced
:class:`Exchange` as an AuditEvent, and applies :func:`check_importable`,
:func:`first_names_alerts` and :func:`patient_traits` before writing a Patient.
"""

from facades.insi.client import Exchange, InsiClient, TraceCallback, client_ssl_context
from facades.insi.errors import InsiAnswerUnreadable, InsiFault, InsiRequestInvalid, InsiUnreachable
from facades.insi.import_rules import check_importable, first_names_alerts
from facades.insi.model import (
    Caller,
    CarteVitaleQuery,
    CodeCR,
    Identity,
    Ins,
    Matricule,
    Operation,
    Professional,
    Result,
    Software,
    Traits,
    TraitsQuery,
    Verification,
)
from facades.insi.patient_mapping import patient_traits, stored_identity
from facades.insi.simulator import SimulatorHandle, run_simulator, start_insi_simulator
from facades.insi.vihf import VihfSummary, build_vihf, read_vihf

__all__ = [
    "Caller",
    "CarteVitaleQuery",
    "CodeCR",
    "Exchange",
    "Identity",
    "Ins",
    "InsiAnswerUnreadable",
    "InsiClient",
    "InsiFault",
    "InsiRequestInvalid",
    "InsiUnreachable",
    "Matricule",
    "Operation",
    "Professional",
    "Result",
    "SimulatorHandle",
    "Software",
    "TraceCallback",
    "Traits",
    "TraitsQuery",
    "Verification",
    "VihfSummary",
    "build_vihf",
    "check_importable",
    "client_ssl_context",
    "first_names_alerts",
    "patient_traits",
    "read_vihf",
    "run_simulator",
    "start_insi_simulator",
    "stored_identity",
]
