"""The public surface of facades.insi is pinned: the server imports only these names."""

from __future__ import annotations

import facades.insi
import tests.support.pki

EXPECTED = {
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
    "Result",
    "SimulatorHandle",
    "Software",
    "TraceCallback",
    "Traits",
    "TraitsQuery",
    "Verification",
    "check_importable",
    "client_ssl_context",
    "first_names_alerts",
    "patient_traits",
    "run_simulator",
    "start_insi_simulator",
    "stored_identity",
}


def test_insi_exports_exactly_its_public_surface() -> None:
    assert set(facades.insi.__all__) == EXPECTED
    assert all(hasattr(facades.insi, name) for name in EXPECTED)


def test_support_pki_exports_resolve() -> None:
    assert all(hasattr(tests.support.pki, name) for name in tests.support.pki.__all__)
    assert "create_test_pki" in tests.support.pki.__all__
