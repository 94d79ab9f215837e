"""The AuditEvents written for a caller share one agent and one source shape, whatever their type:
an administration change names its author as completely as a patient data access does (SGL.INS.17)."""

from __future__ import annotations

from server.access.admin_audit import ACCOUNT_SYSTEM, admin_event
from server.access.caller import Caller
from server.audit import audit_event

ADMIN = Caller("user:admin1", "admin", "user", practitioner="Practitioner/p1", address="10.1.2.3",
               name="Alice Admin")


def test_an_administration_change_names_the_callers_network_address() -> None:
    event = admin_event(ADMIN, "account-create", target_system=ACCOUNT_SYSTEM, target="bob", detail="created")
    agent = event["agent"][0]
    assert agent["network"] == {"address": "10.1.2.3", "type": "2"}
    assert agent["who"]["reference"] == "Practitioner/p1"
    assert agent["who"]["identifier"]["value"] == "user:admin1"
    assert agent["role"][0]["coding"][0]["code"] == "admin"


def test_administration_and_patient_access_events_share_agent_and_source_but_not_type() -> None:
    admin = admin_event(ADMIN, "account-disable", target_system=ACCOUNT_SYSTEM, target="bob", detail="off")
    access = audit_event(["pat1"], who=ADMIN, interaction="read", query=None)
    assert admin["agent"] == access["agent"]
    assert admin["source"] == access["source"]
    assert admin["source"]["type"][0]["code"] == "4"
    assert admin["type"]["code"] == "110137" and access["type"]["code"] == "rest"
    assert admin["entity"][0]["what"]["identifier"] == {"system": ACCOUNT_SYSTEM, "value": "bob"}
    assert access["entity"][0]["what"] == {"reference": "Patient/pat1"}


def test_a_caller_without_address_gets_no_network_block() -> None:
    local = Caller("operator:root", "admin", "operator")
    event = admin_event(local, "partner-remove", target_system="urn:opensgl:partner", target="dpi", detail="x")
    assert "network" not in event["agent"][0] and event["action"] == "D"
    event["source"]["type"].clear()
    assert admin_event(local, "x", target_system="s", target="t", detail="d")["source"]["type"], "source is shared"
