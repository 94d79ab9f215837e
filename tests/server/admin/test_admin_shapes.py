"""Accounts and partners as FHIR resources, and the Parameters of the administration operations, without a server:
the shapes an integrator reads, and each malformed input refused with the parameter it names."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from resources.errors import InvalidInput
from server.access.accounts import User
from server.admin import shapes
from server.partners.administration import from_fields
from server.partners.model import Partner


def test_an_account_as_a_person_never_carries_a_secret() -> None:
    user = User("c.valideur", "biologiste", "disabled", "Dr Claire VALIDEUR", "10009876543", "Practitioner/bio-1")
    person = shapes.person(user, datetime(2026, 12, 5, 4, 0, tzinfo=UTC))
    assert person["active"] is False and person["link"] == [{"target": {"reference": "Practitioner/bio-1"}}]
    locked = next(e["valueInstant"] for e in person["extension"] if e["url"] == shapes.LOCKED_URL)
    assert locked.startswith("2026-12-05T04:00:00")
    assert set(person) == {"resourceType", "id", "extension", "identifier", "active", "name", "link"}


def test_an_astm_analyzer_as_an_endpoint() -> None:
    partner = Partner("ARCHITECT", "automate", astm_sender="ARCHITECT", addresses=("10.0.5.0/24",))
    endpoint = shapes.endpoint(partner)
    assert endpoint["connectionType"]["code"] == "astm" and endpoint["address"] == "urn:opensgl:inbound-only"
    assert {"url": shapes.PARTNER_URL + "astm_sender", "valueString": "ARCHITECT"} in endpoint["extension"]


def test_parameters_of_a_partner_as_the_import_fields() -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "name", "valueString": "GAM"}, {"name": "role", "valueCode": "source-identite"},
        {"name": "hl7_application", "valueString": "GAM"}, {"name": "identifier_types", "valueString": "MR=PI"},
        {"name": "identity_updates", "valueBoolean": False}]}
    partner = from_fields(shapes.partner_fields(shapes.parameters(body, "add-partner")))
    assert (partner.name, partner.role, partner.identifier_types) == ("GAM", "source-identite", {"MR": "PI"})
    reference = shapes.parameters({"resourceType": "Parameters", "parameter": [
        {"name": "practitioner", "valueReference": {"reference": "Practitioner/p1"}}]}, "create-account")
    assert shapes.one_text(reference, "practitioner") == "Practitioner/p1"


@pytest.mark.parametrize(("body", "where"), [
    ({"resourceType": "Parameters", "parameter": ["name"]}, "Parameters.parameter"),
    ({"resourceType": "Parameters", "parameter": [{"name": "role", "valueString": "a"},
                                                  {"name": "role", "valueString": "b"}]}, "Parameters.role"),
    ({"resourceType": "Parameters", "parameter": [{"name": "role", "valueInteger": 3}]}, "Parameters.role"),
    ({"resourceType": "Parameters", "parameter": [{"name": "addresses", "valueInteger": 3}]}, "Parameters.addresses"),
])
def test_malformed_parameters_name_their_place(body: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        shapes.partner_fields(shapes.parameters(body, "add-partner"))
    assert refused.value.expression == [where]


@pytest.mark.parametrize(("fields", "where"), [
    ({"name": "A", "role": "automate", "hl7_application": "A", "addresses": "10.0.0.1"}, "addresses"),
    ({"name": "A", "role": "dpi", "hl7_application": "A", "identity_updates": "oui"}, "identity_updates"),
    ({"name": "A", "role": "dpi", "hl7_application": "A", "options": ["x"]}, "options"),
    ({"name": "A" * 201, "role": "dpi", "hl7_application": "A"}, "name"),
])
def test_malformed_partner_fields_are_refused_before_anything_is_written(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        from_fields(fields)
    assert refused.value.expression == [where]
