"""``POST /fhir/Patient/$insi-search``: search the INS by traits or carte Vitale (SGL.INS.49).

Parameters in: ``mode`` (``traits``, default, or ``carte-vitale``); for traits ``birthName``,
``given`` (repeatable: the birth first names typed; the first one is sent, the list is
checked against the answer), ``sex`` (M/F), ``birthDate`` (YYYY-MM-DD),
``birthPlace`` (INSEE COG), each defaulting to the strict traits of ``patient`` when it is given;
for a carte Vitale ``birthName``, ``birthDate``, ``birthRank`` and ``nir`` (the card's
15-character individual number); ``patient`` (reference) and ``apply`` (boolean).

Out: ``code`` and ``label`` (00/01/02), for a 00 ``identity`` (the INSi identity as a Patient)
and ``outcome`` (SGL.INS.14 warnings), and with ``apply`` the updated ``patient``: the INSi
traits and INS written (SGL.INS.13), status RECUP, or QUAL on an identity already validated
(SGL.INS.23, .25). A 00 that breaks an import rule (SGL.INS.15, .16, key) is refused, nothing
written. The call and its answer are traced (SGL.INS.40-41); a douteuse/fictive identity is not
sent (SGL.INS.28); the profile needs the INSi habilitation (SGL.INS.06).
"""

from __future__ import annotations

from typing import Any

from facades.insi import (
    CarteVitaleQuery,
    Identity,
    Matricule,
    Result,
    TraitsQuery,
    check_importable,
    first_names_alerts,
    patient_traits,
)
from resources.errors import InvalidInput, operation_outcome
from resources.ins import check_matricule, identity_status
from resources.patient_traits import (
    BIRTH_LIST_GIVEN_NAME_URL,
    BIRTHPLACE_URL,
    birth_date,
    birth_given_names,
    birth_name,
    birthplace_cog,
    first_birth_given_name,
    sex_code,
)
from server.identity.attestation import Attestation
from server.identity.insi_service import Subject, caller_for_insi, open_insi
from server.identity.parameters import Params, parameters, where
from server.identity.roles import Right
from server.identity.scope import Scope, refuse_if_doubtful
from server.identity.status import retire_ins
from server.identity.vocabulary import reliability, with_reliability, without


def _traits_query(params: Params, patient: dict[str, Any] | None) -> TraitsQuery:
    p = patient or {}
    given = params.texts("given")[:1] or [n for n in [first_birth_given_name(p)] if n]
    fields = {
        "birthName": params.text("birthName") or birth_name(p),
        "sex": params.text("sex") or sex_code(p),
        "birthDate": params.text("birthDate") or birth_date(p),
    }
    for name, value in [*fields.items(), ("given", given[0] if given else None)]:
        if not value:
            raise InvalidInput(f"an INSi search by traits needs {name} (or a patient that has it)",
                               expression=where(name))
    place = params.text("birthPlace") or birthplace_cog(p)
    return TraitsQuery(str(fields["birthName"]), (given[0],), str(fields["sex"]), str(fields["birthDate"]),
                       None if place in (None, "99999") else place)


def _vitale_query(params: Params) -> CarteVitaleQuery:
    nir = params.text("nir", required=True) or ""
    try:
        nir = check_matricule(nir, expression=where("nir"))
    except InvalidInput as exc:
        raise InvalidInput(exc.diagnostics, expression=where("nir")) from exc
    name = params.text("birthName", required=True) or ""
    born = params.text("birthDate", required=True) or ""
    return CarteVitaleQuery(name, born, params.text("birthRank") or "1", individual=Matricule(nir[:13], nir[13:]))


def merged(patient: dict[str, Any], identity: Identity, status: str) -> dict[str, Any]:
    """The Patient with the INSi strict traits and INS (older INS kept as ``old``), complementary traits kept."""
    fields = patient_traits(identity)
    fresh = {(i["system"], i["value"]) for i in fields["identifier"]}
    kept = [i for i in retire_ins(patient).get("identifier", []) if (i.get("system"), i.get("value")) not in fresh]
    others = [n for n in patient.get("name", []) if n.get("use") != "official"]
    extension = without(patient, BIRTHPLACE_URL, BIRTH_LIST_GIVEN_NAME_URL) + fields.get("extension", [])
    out = {**patient, "identifier": fields["identifier"] + kept, "name": fields["name"] + others,
           "gender": fields["gender"], "birthDate": fields["birthDate"], "extension": extension}
    return with_reliability(out, status, reliability(patient))


def _alerts(result: Result, params: Params, patient: dict[str, Any] | None) -> dict[str, Any] | None:
    """SGL.INS.14: the first names typed (or stored) against the INSi list."""
    typed = tuple(params.texts("given") or birth_given_names(patient or {}))
    if not typed:
        return None
    issues = first_names_alerts(result, typed[0], typed if len(typed) > 1 else ())
    return operation_outcome(issues) if issues else None


async def insi_search(scope: Scope, params: Params) -> dict[str, Any]:
    scope.profile.require(Right.SEE)
    scope.profile.require(Right.INSI, expression="Patient/$insi-search")
    pid = params.reference("patient", "Patient")
    apply = params.flag("apply")
    if apply and pid is None:
        raise InvalidInput("apply needs the patient to update", expression=where("patient"))
    patient, vid = await scope.patient(pid) if pid else (None, 0)
    if patient is not None:
        refuse_if_doubtful(patient)
    mode = params.text("mode") or "traits"
    if mode not in ("traits", "carte-vitale"):
        raise InvalidInput(f"mode must be traits or carte-vitale, not {mode!r}", expression=where("mode"))
    query = _traits_query(params, patient) if mode == "traits" else None
    who = await caller_for_insi(scope.settings, scope.store, scope.caller)
    async with open_insi(scope.settings, scope.store, Subject(pid)) as insi:
        if query is not None:
            result = await insi.search_by_traits(query, who)
        else:
            result = await insi.search_by_carte_vitale(_vitale_query(params), who)
    out: list[tuple[str, Any]] = [("code", result.code), ("label", result.label)]
    if not result.found:
        return parameters(*out)
    identity = check_importable(result)
    preview = with_reliability({"resourceType": "Patient", **patient_traits(identity)}, "RECUP", {})
    out += [("identity", preview), ("outcome", _alerts(result, params, patient))]
    if apply and patient is not None:
        status = "QUAL" if identity_status(patient) in ("VALI", "QUAL") else "RECUP"
        ins = identity.active
        reason = f"SGL.INS.13 INSi {mode} search answered 00 (INS {ins.matricule}, OID {ins.oid})"
        attestation = Attestation(patient["id"], status, reason, ins=f"urn:oid:{ins.oid}|{ins.matricule}")
        written = await scope.write(merged(patient, identity, status), vid, attestation)
        out.append(("patient", written))
    return parameters(*out)
