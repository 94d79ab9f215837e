"""INSi identity -> FR Core Patient traits (SGL.INS.13) and back, for verification."""

from __future__ import annotations

import pytest

from facades.insi import Identity, Ins, Traits, patient_traits, stored_identity
from facades.insi.answer import read_answer
from facades.insi.patient_mapping import BIRTH_LIST_GIVEN_NAME_URL, COUNTRY_SYSTEM, verification_query
from resources.errors import InvalidInput
from resources.ins import OID_INS_NIR, ins_identifier
from tests.support.insi_kit import KIT


def _kit(name: str) -> Identity:
    result = read_answer((KIT / "test-identities" / name).read_bytes())
    assert result.identity is not None
    return result.identity


@pytest.mark.req("SGL.INS.13")
def test_insi_identity_fills_every_strict_trait_of_the_patient_SGL_INS_13() -> None:
    fields = patient_traits(_kit("REP_CR00_ECETINSI_PIERRE-ALAIN.xml"))
    active, *old = fields["identifier"]
    assert active == {
        "use": "official",
        "type": {
            "coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "INS-NIR"}]
        },
        "system": f"urn:oid:{OID_INS_NIR}",
        "value": "109076322083489",
    }
    assert [(o["use"], o["value"]) for o in old] == [("old", "209076322083439"), ("old", "209066322012355")]
    assert fields["name"] == [
        {
            "use": "official",
            "family": "ECETINSI",
            "given": ["PIERRE-ALAIN"],
            "extension": [{"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": "PIERRE-ALAIN MURIEL FLORIANT"}],
        }
    ]
    assert (fields["gender"], fields["birthDate"]) == ("male", "2009-07-14")
    coding = fields["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]
    assert coding["code"] == "63220"
    current = ins_identifier({"identifier": fields["identifier"]})
    assert current is not None and current["value"] == "109076322083489"


@pytest.mark.req("SGL.INS.13")
def test_nia_and_corsica_identifiers_are_typed_by_their_oid_SGL_INS_13() -> None:
    nia = patient_traits(_kit("TEST_2.05.xml"))["identifier"][0]
    assert nia["type"]["coding"][0]["code"] == "INS-NIA"
    assert nia["system"] == "urn:oid:1.2.250.1.213.1.4.9"
    corsica = patient_traits(_kit("TEST_2.08_cas1.xml"))
    assert [i["value"] for i in corsica["identifier"]] == ["180032B02040123"]  # history equal to active is dropped


def test_birth_abroad_uses_the_country_code_system() -> None:
    identity = Identity(Ins("2751263220749", "74", OID_INS_NIR), Traits("ADRUN", "", "ZOE", "F", "1975-12-31", "99134"))
    coding = patient_traits(identity)["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]
    assert coding == {"system": COUNTRY_SYSTEM, "code": "99134"}


def test_stored_patient_reads_back_as_the_identity_it_came_from() -> None:
    identity = _kit("REP_CR00_ADRTROIS_DOMINIQUE.xml")
    patient = {"resourceType": "Patient", **patient_traits(identity)}
    stored = stored_identity(patient)
    assert stored.active == identity.active
    assert stored.traits.first_names == identity.traits.first_names
    assert (stored.traits.birth_name, stored.traits.sex, stored.traits.birth_date, stored.traits.birthplace) == (
        "ADRTROIS",
        "F",
        "1997-02-26",
        "2A020",
    )
    query = verification_query(stored)
    assert (query.birth_name, query.first_names, query.birthplace) == ("ADRTROIS", ("DOMINIQUE",), "2A020")


@pytest.mark.parametrize(
    ("patient", "where"),
    [
        ({"resourceType": "Patient", "name": [{"use": "official", "family": "X"}]}, "Patient.identifier"),
        (
            {
                "resourceType": "Patient",
                "identifier": [{"system": f"urn:oid:{OID_INS_NIR}", "value": "275126322074974"}],
            },
            "Patient.name.where(use='official')",
        ),
    ],
)
def test_patient_without_ins_or_birth_name_cannot_be_verified(patient: dict[str, object], where: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        stored_identity(patient)
    assert caught.value.expression == [where]
