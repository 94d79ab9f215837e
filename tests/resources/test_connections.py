"""The connection gate shared by the MLLP and ASTM listeners."""

from __future__ import annotations

import logging

import pytest

from resources.connections import ConnectionGate


def test_caps_per_address_and_in_total_and_release_frees_a_slot() -> None:
    gate = ConnectionGate("test", max_total=3, max_per_address=2)
    assert gate.admit("10.0.0.1") and gate.admit("10.0.0.1")
    assert not gate.admit("10.0.0.1")  # per address
    assert gate.admit("10.0.0.2")
    assert not gate.admit("10.0.0.3")  # in total
    gate.release("10.0.0.1")
    assert gate.open == 2 and gate.admit("10.0.0.3")
    assert gate.refused_total == 2


def test_a_flood_of_refusals_is_logged_once_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    gate = ConnectionGate("MLLP", max_total=10, max_per_address=1)
    assert gate.admit("a")
    with caplog.at_level(logging.WARNING, logger="resources.connections"):
        for _ in range(20_000):
            assert not gate.admit("a")
        gate.release("a")
        assert gate.admit("a")
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "at the cap of 1 connections from a" in messages[0]
    assert "20000 connection(s) were refused" in messages[1]


def test_caps_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ConnectionGate("x", max_total=0, max_per_address=1)
