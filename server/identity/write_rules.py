"""The Patient write rule: RNIV identitovigilance rules on every create, update and delete,
whatever the entry point (REST, bundles, HL7 PAM-FR feed, CLI).

In order, for a caller whose profile may edit identities (SGL.INS.05, else 403):

1. every current INS identifier has a valid matricule key (2A/2B read as 19/18) and an INS OID;
   the test OIDs ``.4.10``/``.4.11`` only in test mode;
2. when the lab is the identity referential: birth names upper case without diacritics
   (SGL.INS.01) and the creation minimum (SGL.INS.11-12);
3. the status: it rises only on an attested INSi answer (RECUP) or justificatif (VALI), both for
   QUAL (SGL.INS.20-25); an identity *received* as RECUP/QUAL from another domain becomes PROV to be
   re-qualified (SGL.INS.38): ``meta.source`` qualifies nothing by itself, only the authenticated
   identity source (role ``source-identite``, the FEED right) keeps what it sends (SGL.INS.39); a user may
   downgrade it; strict traits of RECUP/QUAL are locked (SGL.INS.29) except for the
   biologiste-responsable (the identitovigilance referent), whose edit retires the INS and downgrades
   one level (SGL.INS.32-33);
   "douteuse"/"fictive" force PROV (SGL.INS.27); PROV/VALI never keep a current INS (SGL.INS.35);
4. the status history and the locked-traits flag are written by the server (SGL.INS.26, .30).

The ``source-identite`` role (hospital identity repository, "esclave de l'identité") is the lab's
own identity domain: it sets the status and INS it receives and may remove an INS (SGL.INS.54-55,
Cons_del_INS); rules 1, 4 and the douteuse/fictive rule still apply to it, and INS.37 on output.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from resources.errors import InvalidInput, RuleViolation, Unprocessable
from resources.ins import IDENTITY_RELIABILITY_URL, INS_TYPE_BY_OID, TEST_OIDS, check_matricule, identity_status
from resources.interactions import WriteIntent
from server.identity.attestation import Attestation, attestation_for
from server.identity.policy import IdentityPolicy
from server.identity.roles import Profile, Right, profile
from server.identity.status import CARRIES_INS, DOWNGRADES, ONE_LEVEL_DOWN, retire_ins, stamp
from server.identity.traits import (
    STRICT_TRAITS,
    changed_traits,
    check_minimum,
    normalised_birth_names,
    strict_traits,
)
from server.identity.vocabulary import BLOCKING_ATTRIBUTES, attributes, extensions
from server.settings import Settings

if TYPE_CHECKING:
    from server.access.caller import Caller
from server.write_rules import WriteRules

_STATUS_AT = "Patient.extension('identityReliability').extension('identityStatus')"
_RISE_RULE = {"RECUP": "SGL.INS.23", "VALI": "SGL.INS.20", "QUAL": "SGL.INS.25"}
_RISE_HOW = {"RECUP": "only from an INSi answer ($insi-search)",
             "VALI": "only by a user recording a high-trust justificatif ($validate-identity)",
             "QUAL": "only from an INSi answer and a high-trust justificatif"}


def check_ins_identifiers(patient: dict[str, Any], policy: IdentityPolicy) -> None:
    """Matricule key and OID of every current INS identifier (SGL.INS.08 key control), and the INS authority
    written only as FR Core writes it (``check_ins_system``)."""
    for i, ident in enumerate(patient.get("identifier", [])):
        check_ins_system(str(ident.get("system", "")), expression=f"Patient.identifier[{i}].system")
        oid = str(ident.get("system", "")).removeprefix("urn:oid:")
        if oid not in INS_TYPE_BY_OID or ident.get("use") == "old":
            continue
        if oid in TEST_OIDS and not policy.test_mode:
            raise Unprocessable(f"the INS OID {oid} is a test/demo authority, accepted only in test mode",
                                expression=f"Patient.identifier[{i}].system")
        try:
            check_matricule(str(ident.get("value", "")), expression=f"Patient.identifier[{i}].value")
        except InvalidInput as exc:
            raise RuleViolation("SGL.INS.08", exc.diagnostics, expression=exc.expression) from exc


def check_ins_system(system: str, *, expression: str) -> None:
    """Refuse (422) a system that names an INS authority otherwise than ``urn:oid:<OID>``: the bare OID, another
    case, spaces around it. Masking, the INS search rules and the documents know the INS by that one spelling;
    found by probing: ``URN:OID:1.2.250.1.213.1.4.8`` or `` urn:oid:...`` was stored as an ordinary identifier
    and shown unmasked to a ``technicien``, who could also find the patient by it (the bare OID too)."""
    named = system.strip().lower().removeprefix("urn:oid:")
    if named in INS_TYPE_BY_OID and system != f"urn:oid:{named}":
        raise Unprocessable(f"the identifier system {system!r} names the INS authority {named} "
                            f"({INS_TYPE_BY_OID[named]}): write it urn:oid:{named}, as FR Core does",
                            expression=expression)


@dataclass(frozen=True)
class _Decision:
    status: str
    patient: dict[str, Any]
    reason: str
    reliability_from: dict[str, Any]


def _rise(intent: WriteIntent, base: str, wanted: str, policy: IdentityPolicy) -> tuple[str, str]:
    """A status rise nobody attested: refused on an update, re-qualification on a received identity."""
    proposed = intent.proposed or {}
    if intent.action == "update":
        raise RuleViolation(_RISE_RULE[wanted], f"the status cannot go from {base} to {wanted} by an edit: "
                            f"{wanted} is set {_RISE_HOW[wanted]}", expression=_STATUS_AT)
    source = str((proposed.get("meta") or {}).get("source", ""))
    return "PROV", (f"SGL.INS.38 identity received as {wanted} from {source or 'another domain'}: "
                    "re-qualification required (INSi call and justificatif)")


def _user_decision(prof: Profile, intent: WriteIntent, policy: IdentityPolicy) -> _Decision:
    proposed, current = intent.proposed or {}, intent.current
    before = identity_status(current) if current else "PROV"
    declared = bool(extensions(proposed, IDENTITY_RELIABILITY_URL))
    wanted = identity_status(proposed) if declared or current is None else before
    attested = attestation_for(intent, proposed.get("id"))
    keep_from = current or {}
    if attested is not None:
        return _attested(attested, proposed)
    if current is not None and before in CARRIES_INS and (changed := changed_traits(current, proposed)):
        if not prof.allows(Right.UNLOCK):
            raise RuleViolation("SGL.INS.29", f"the strict trait(s) {', '.join(changed)} of a {before} identity are "
                                "locked; only the biologiste-responsable role (identitovigilance referent) may "
                                "edit them",
                                expression=[STRICT_TRAITS[c] for c in changed])
        status = ONE_LEVEL_DOWN[before]
        if (before, wanted) in DOWNGRADES and wanted != "RECUP":
            status = min(status, wanted, key=lambda s: ("PROV", "VALI").index(s))
        return _Decision(status, retire_ins(proposed),
                         f"SGL.INS.32-33 strict trait(s) {', '.join(changed)} edited: INS retired", keep_from)
    if wanted == before:
        return _Decision(before, proposed, "created" if current is None else "edited", keep_from)
    if (before, wanted) in DOWNGRADES:
        return _Decision(wanted, proposed, f"downgraded from {before} by the user", keep_from)
    status, reason = _rise(intent, before, wanted, policy)
    return _Decision(status, proposed, reason, proposed if status == wanted else keep_from)


def _attested(attested: Attestation, proposed: dict[str, Any]) -> _Decision:
    if attested.ins and strict_traits(proposed)["ins"] != attested.ins:
        raise RuleViolation("SGL.INS.13", "the INS written is not the one the INSi returned",
                            expression=STRICT_TRAITS["ins"])
    return _Decision(attested.status, proposed, attested.reason, proposed)


@dataclass(frozen=True)
class IdentityRule:
    policy: IdentityPolicy

    async def __call__(self, caller: Caller, intent: WriteIntent) -> dict[str, Any] | None:
        prof = profile(caller.role)
        prof.require(Right.EDIT)
        if intent.action == "delete" or intent.proposed is None:
            return None
        proposed = intent.proposed
        check_ins_identifiers(proposed, self.policy)
        feed = prof.allows(Right.FEED)
        if self.policy.referential and not feed:
            proposed = normalised_birth_names(proposed)
            if intent.action == "create":
                check_minimum(proposed)
            intent = replace(intent, proposed=proposed)
        if feed:
            decision = _Decision(identity_status(proposed), proposed, "identity feed (own domain)", proposed)
        else:
            decision = _user_decision(prof, intent, self.policy)
        status, patient, reason = decision.status, decision.patient, decision.reason
        if attributes(patient) & BLOCKING_ATTRIBUTES and status != "PROV":
            status, reason = "PROV", f"SGL.INS.27 identity marked {'/'.join(sorted(attributes(patient)))}"
        before = identity_status(intent.current) if intent.current else None
        if not feed and status not in CARRIES_INS:
            patient = retire_ins(patient)
            if before in CARRIES_INS:
                reason += "; SGL.INS.35 matricule and OID retired"
        return stamp(patient, previous=intent.current, before=before, status=status, author=caller.id,
                     role=caller.role, reason=reason, reliability_from=decision.reliability_from)


def register_identity_rules(write_rules: WriteRules, settings: Settings) -> None:
    """Install the identity rules on Patient, with the policy of these settings."""
    write_rules.add("Patient", IdentityRule(IdentityPolicy.from_settings(settings)))
