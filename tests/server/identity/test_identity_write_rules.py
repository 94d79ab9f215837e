"""The Patient write rule, called directly as the interactions call it (no server needed)."""

from __future__ import annotations

import copy
from typing import Any, Literal

import pytest

from resources.errors import Forbidden, RuleViolation, Unprocessable
from resources.ins import emittable_ins, identity_status, ins_identifier
from resources.interactions import WriteIntent
from resources.patient_traits import (
    BIRTH_LIST_GIVEN_NAME_URL,
    birth_name,
    birthplace_cog,
    first_birth_given_name,
    used_given_name,
    used_name,
)
from server.access.caller import Caller
from server.identity.attestation import Attestation
from server.identity.policy import IdentityPolicy
from server.identity.vocabulary import LOCKED_TRAITS_URL, attribute_extension, extensions, history
from server.identity.write_rules import IdentityRule
from tests.support.identity_samples import MATRICULE, provisional, with_status

POLICY = IdentityPolicy(test_mode=False, referential=True, justificatifs={})
Action = Literal["create", "update", "delete"]


async def run(role: str, current: dict[str, Any] | None, proposed: dict[str, Any] | None,
              action: Action | None = None, policy: IdentityPolicy = POLICY,
              attestation: Attestation | None = None) -> dict[str, Any] | None:
    write_rule = IdentityRule(policy)
    act: Action = action or ("create" if current is None else "update")
    intent = WriteIntent("Patient", act, current, copy.deepcopy(proposed), attestation=attestation)
    return await write_rule(Caller("user-1", role), intent)


def edited(patient: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(patient), **changes}


@pytest.mark.req("SGL.INS.11")
@pytest.mark.parametrize("missing", ["family", "given", "gender", "birthDate", "extension"])
async def test_creation_without_a_minimum_trait_is_refused_SGL_INS_11(missing: str) -> None:
    """Successive creation attempts, each missing one field, each refused naming that field."""
    patient = provisional()
    if missing in ("family", "given"):
        del patient["name"][0][missing]
    else:
        del patient[missing]
    with pytest.raises(RuleViolation) as err:
        await run("secretaire", None, patient)
    assert err.value.rule == "SGL.INS.11"
    assert len(err.value.expression) == 1 and err.value.expression[0].startswith("Patient.")


@pytest.mark.req("SGL.INS.11")
@pytest.mark.req("SGL.INS.12")
@pytest.mark.req("SGL.INS.22")
async def test_minimum_with_placeholder_birthplace_is_enough_and_provisional_SGL_INS_11_12_22() -> None:
    patient = provisional()
    patient["extension"][0]["valueAddress"]["extension"][0]["valueCoding"]["code"] = "99999"
    out = await run("secretaire", None, patient)
    assert out is not None and identity_status(out) == "PROV"
    assert history(out)[0]["status"] == "PROV" and history(out)[0]["author"] == "user-1"


async def test_non_referential_site_accepts_a_bare_patient() -> None:
    policy = IdentityPolicy(test_mode=False, referential=False, justificatifs={})
    out = await run("biologiste", None, {"resourceType": "Patient", "gender": "male"}, policy=policy)
    assert out is not None and identity_status(out) == "PROV"


@pytest.mark.req("SGL.INS.08")
async def test_wrong_matricule_key_is_refused_with_its_location_SGL_INS_08() -> None:
    patient = with_status(provisional(), "QUAL")
    patient["identifier"][0]["value"] = "297022A02077879"
    with pytest.raises(RuleViolation) as err:
        await run("source-identite", None, patient)
    assert err.value.rule == "SGL.INS.08" and "expected 78" in err.value.diagnostics
    assert err.value.expression == ["Patient.identifier[0].value"]


async def test_test_oid_only_in_test_mode() -> None:
    patient = with_status(provisional(), "QUAL")
    patient["identifier"][0]["system"] = "urn:oid:1.2.250.1.213.1.4.10"
    with pytest.raises(Unprocessable) as err:
        await run("source-identite", None, patient)
    assert err.value.expression == ["Patient.identifier[0].system"]
    policy = IdentityPolicy(test_mode=True, referential=True, justificatifs={})
    out = await run("source-identite", None, patient, policy=policy)
    assert out is not None and ins_identifier(out) is not None


@pytest.mark.req("SGL.INS.05")
@pytest.mark.parametrize("action", ["create", "update", "delete"])
async def test_profile_without_habilitation_cannot_write_identities_SGL_INS_05(action: Action) -> None:
    current = None if action == "create" else provisional()
    proposed = None if action == "delete" else provisional()
    for role in ("technicien", "unknown-role"):
        with pytest.raises(Forbidden) as err:
            await run(role, current, proposed, action)
        assert role in err.value.diagnostics


@pytest.mark.req("SGL.INS.20")
@pytest.mark.req("SGL.INS.21")
@pytest.mark.req("SGL.INS.23")
@pytest.mark.parametrize("wanted,rule", [("RECUP", "SGL.INS.23"), ("VALI", "SGL.INS.20"), ("QUAL", "SGL.INS.25")])
async def test_status_cannot_rise_by_an_edit_SGL_INS_20_21_23(wanted: str, rule: str) -> None:
    """No automatic validation exists: no write but the attested operations raises a status."""
    current = await run("secretaire", None, provisional())
    assert current is not None
    with pytest.raises(RuleViolation) as err:
        await run("biologiste-responsable", current, with_status(current, wanted, ins=wanted != "VALI"))
    assert err.value.rule == rule and "identityStatus" in err.value.expression[0]


@pytest.mark.req("SGL.INS.38")
async def test_qualified_identity_received_from_another_domain_is_requalified_SGL_INS_38() -> None:
    received = with_status(provisional(), "QUAL")
    received["meta"] = {"source": "urn:oid:9.9.9"}
    out = await run("secretaire", None, received)
    assert out is not None and identity_status(out) == "PROV"
    assert ins_identifier(out) is None and out["identifier"][0]["use"] == "old"
    assert "SGL.INS.38" in history(out)[0]["reason"]


@pytest.mark.req("SGL.INS.39")
async def test_meta_source_qualifies_nothing_only_the_identity_source_keeps_qual_SGL_INS_39() -> None:
    received = with_status(provisional(), "QUAL")
    received["meta"] = {"source": "urn:oid:1.2.250.1.213.1.4.10"}  # names a trusted emitter, proves nothing
    out = await run("secretaire", None, received)
    assert out is not None and identity_status(out) == "PROV" and emittable_ins(out) is None
    kept = await run("source-identite", None, with_status(provisional(), "QUAL"))
    assert kept is not None and identity_status(kept) == "QUAL" and emittable_ins(kept) is not None
    ehr = await run("dpi", None, with_status(provisional(), "QUAL"))  # a DPI may create, not qualify
    assert ehr is not None and identity_status(ehr) == "PROV" and emittable_ins(ehr) is None
    for partner_role in ("automate", "sous-traitant"):
        with pytest.raises(Forbidden):
            await run(partner_role, None, with_status(provisional(), "QUAL"))


async def qualified(status: str = "QUAL") -> dict[str, Any]:
    out = await run("source-identite", None, with_status(provisional(), status))
    assert out is not None and identity_status(out) == status
    return out


@pytest.mark.req("SGL.INS.29")
@pytest.mark.req("SGL.INS.30")
@pytest.mark.parametrize("status", ["RECUP", "QUAL"])
@pytest.mark.parametrize("change", [{"birthDate": "1997-02-27"}, {"gender": "male"},
                                    {"name": [{"use": "official", "family": "ADRDEUX", "given": ["DOMINIQUE"]}]},
                                    {"identifier": []}])
async def test_strict_traits_are_locked_for_an_ordinary_profile_SGL_INS_29_30(status: str,
                                                                            change: dict[str, Any]) -> None:
    current = await qualified(status)
    assert extensions(current, LOCKED_TRAITS_URL), "locked traits are flagged on the resource"
    with pytest.raises(RuleViolation) as err:
        await run("secretaire", current, edited(current, **change))
    assert err.value.rule == "SGL.INS.29" and "locked" in err.value.diagnostics
    assert len(err.value.expression) == 1 and err.value.expression[0].startswith("Patient.")


@pytest.mark.req("SGL.INS.31")
@pytest.mark.req("SGL.INS.36")
@pytest.mark.parametrize("status", ["RECUP", "QUAL"])
async def test_complementary_traits_stay_editable_and_keep_the_ins_SGL_INS_31_36(status: str) -> None:
    current = await qualified(status)
    names = current["name"] + [{"use": "usual", "family": "MARTIN", "given": ["DOMI"]}]
    out = await run("secretaire", current, edited(current, name=names, telecom=[{"system": "phone", "value": "0102"}]))
    assert out is not None and identity_status(out) == status
    assert ins_identifier(out) is not None and out["name"][-1]["family"] == "MARTIN"
    assert len(history(out)) == 1


@pytest.mark.req("SGL.INS.32")
@pytest.mark.req("SGL.INS.33")
@pytest.mark.req("SGL.INS.34")
@pytest.mark.parametrize("status,after", [("RECUP", "PROV"), ("QUAL", "VALI")])
async def test_super_user_edit_of_a_strict_trait_retires_the_ins_and_downgrades_SGL_INS_32_33_34(
        status: str, after: str) -> None:
    current = await qualified(status)
    out = await run("biologiste-responsable", current, edited(current, birthDate="1997-02-27"))
    assert out is not None and identity_status(out) == after and out["birthDate"] == "1997-02-27"
    assert ins_identifier(out) is None and out["identifier"][0] == {**current["identifier"][0], "use": "old"}
    assert emittable_ins(out) is None, "no output carries the retired INS any more"
    assert not extensions(out, LOCKED_TRAITS_URL)
    last = history(out)[-1]
    assert (last["previous"], last["status"], last["role"]) == (status, after, "biologiste-responsable")


@pytest.mark.req("SGL.INS.35")
@pytest.mark.req("SGL.INS.26")
@pytest.mark.parametrize("status,after", [("RECUP", "PROV"), ("QUAL", "VALI"), ("QUAL", "PROV")])
async def test_downgrade_clears_the_ins_and_is_kept_in_the_history_SGL_INS_35_26(status: str, after: str) -> None:
    current = await qualified(status)
    out = await run("secretaire", current, with_status(current, after))
    assert out is not None and identity_status(out) == after and ins_identifier(out) is None
    rows = history(out)
    assert [r["status"] for r in rows] == [status, after]
    assert rows[1]["previous"] == status and rows[1]["author"] == "user-1" and rows[1]["date"].endswith("Z")
    assert "SGL.INS.35" in rows[1]["reason"]


async def test_client_cannot_rewrite_the_status_history_SGL_INS_26() -> None:
    current = await qualified()
    forged = edited(current, extension=[e for e in current["extension"] if "history" not in e["url"]])
    out = await run("secretaire", current, forged)
    assert out is not None and history(out) == history(current)


@pytest.mark.req("SGL.INS.27")
@pytest.mark.parametrize("status", ["QUAL", "RECUP", "VALI"])
@pytest.mark.parametrize("attribute", ["DOUTE", "FICTI"])
async def test_doubtful_or_fictitious_identity_becomes_provisional_SGL_INS_27(status: str, attribute: str) -> None:
    current = await qualified(status)
    marked = edited(current, extension=current["extension"] + [attribute_extension(attribute)])
    out = await run("secretaire", current, marked)
    assert out is not None and identity_status(out) == "PROV" and ins_identifier(out) is None
    assert "SGL.INS.27" in history(out)[-1]["reason"]


async def test_identity_feed_sets_status_and_ins_and_may_delete_the_ins() -> None:
    current = await qualified("VALI")
    assert ins_identifier(current) is not None, "the feed's own domain keeps the INS it sends"
    out = await run("source-identite", current, edited(current, identifier=[]))
    assert out is not None and ins_identifier(out) is None


async def test_attested_insi_answer_raises_to_recup() -> None:
    current = await run("secretaire", None, provisional())
    assert current is not None
    ins = f"urn:oid:1.2.250.1.213.1.4.8|{MATRICULE}"
    out = await run("secretaire", current, with_status(current, "RECUP"),
                    attestation=Attestation("p1", "RECUP", "INSi 00", ins=ins))
    assert out is not None and identity_status(out) == "RECUP"
    other = Attestation("p1", "RECUP", "INSi 00", ins="urn:oid:1.2.250.1.213.1.4.8|other")
    with pytest.raises(RuleViolation):
        await run("secretaire", current, with_status(current, "RECUP"), attestation=other)
    with pytest.raises(RuleViolation):  # an attestation for another patient vouches for nothing here
        await run("secretaire", current, with_status(current, "RECUP"),
                  attestation=Attestation("p2", "RECUP", "INSi 00", ins=ins))


@pytest.mark.req("SGL.INS.01")
async def test_every_ins_field_is_kept_and_birth_names_are_upper_case_without_accents_SGL_INS_01() -> None:
    long_name = "D'ARTAGNAN-" + "É" * 60 + " DE LA TOUR"
    patient = with_status(provisional(), "QUAL")
    patient["name"] = [{"use": "official", "family": long_name, "given": ["Éloïse"],
                        "extension": [{"url": BIRTH_LIST_GIVEN_NAME_URL, "valueString": "Éloïse Françoise"}]},
                       {"use": "usual", "family": "Martin", "given": ["Lou"]}]
    ins = patient["identifier"][0]
    out = await run("secretaire", None, patient,
                    attestation=Attestation("p1", "QUAL", "INSi 00 and a high-trust justificatif",
                                            ins=f"{ins['system']}|{ins['value']}"))
    assert out is not None and identity_status(out) == "QUAL"
    assert ins_identifier(out) == patient["identifier"][0] and patient["identifier"][0]["value"] == MATRICULE
    assert birth_name(out) == "D'ARTAGNAN-" + "E" * 60 + " DE LA TOUR"
    assert first_birth_given_name(out) == "ELOISE"
    assert out["name"][0]["extension"][0]["valueString"] == "ELOISE FRANCOISE"
    assert (out["birthDate"], out["gender"], birthplace_cog(out)) == ("1997-02-26", "female", "2A020")
    assert (used_name(out), used_given_name(out)) == ("Martin", "Lou"), "used names are kept as typed"
