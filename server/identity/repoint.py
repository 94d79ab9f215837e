"""One resource re-pointed from the merged identity to the kept one: every reference, with its display and
identifier rebuilt from the kept Patient.

Every Reference that names the merged Patient (relative, versioned or absolute form) is re-pointed, wherever it
sits: ``subject``, ``patient``, ``for``, ``focus``, ``context.sourcePatientInfo``, an extension's
``valueReference``, a ``contained`` resource. A version-specific reference (``Patient/x/_history/2``) named a
version of an identity that is now merged away: it points at the kept identity, unversioned. Other elements of
the Reference (``type``, ``extension``, ``id``) stay.

What a Reference said about the patient is said again about the kept one, never dropped and never left naming
the merged identity (issue 15, identity file):

- ``display``: the RNIV traits that tell two people apart, with their labels: birth name and first birth first
  name, date of birth, sex, and the used name when it differs (identity.md §1.6, the identity file's display
  rule). Never the INS: a display is free text that INS masking (``server/access/masking.py``) cannot see.
- ``identifier``: the kept Patient's identifier of the same system (its IPP for an IPP); an INS only when the
  kept identity is qualified (SGL.INS.37, ``emittable_ins``); when the kept Patient has none of that system, its
  first current identifier that is not an INS; with none at all, the element is left out (the literal
  ``reference`` still names the patient).
"""

from __future__ import annotations

import copy
from typing import Any

from resources.ins import INS_TYPE_BY_OID, emittable_ins
from resources.patient_traits import birth_date, birth_name, first_birth_given_name, sex_code, used_name
from resources.search.links import patient_id, reference_nodes

_INS_SYSTEMS = frozenset(f"urn:oid:{oid}" for oid in INS_TYPE_BY_OID)
SEX_LABELS = {"M": "masculin", "F": "féminin", "I": "indéterminé"}


def _date_fr(value: str | None) -> str:
    """``YYYY-MM-DD`` as French labs write it (``DD/MM/YYYY``, RNIPP ``00`` parts kept)."""
    parts = (value or "")[:10].split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 else "inconnue"


def patient_display(patient: dict[str, Any]) -> str:
    """``PAT-TROIS DOMINIQUE, né(e) le 28/03/1979, sexe féminin`` (+ ``, nom utilisé : X`` when it differs)."""
    family = birth_name(patient) or "?"
    text = f"{family.upper()} {first_birth_given_name(patient) or '?'}, né(e) le {_date_fr(birth_date(patient))}, " \
           f"sexe {SEX_LABELS.get(sex_code(patient) or '', 'inconnu')}"
    used = used_name(patient)
    return f"{text}, nom utilisé : {used}" if used and used.upper() != family.upper() else text


def patient_identifier(patient: dict[str, Any], like: dict[str, Any]) -> dict[str, Any] | None:
    """The kept Patient's identifier standing for ``like`` (an identifier of the merged one), or None."""
    current = [i for i in patient.get("identifier", []) if i.get("use") != "old" and i.get("value")]
    system = like.get("system")
    if system in _INS_SYSTEMS:
        ins = emittable_ins(patient)
        if ins is not None:
            return ins
    else:
        same = next((i for i in current if i.get("system") == system), None)
        if same is not None:
            return dict(same)
    return next((dict(i) for i in current if i.get("system") not in _INS_SYSTEMS), None)


def _reference(node: dict[str, Any], kept: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in node.items() if k not in ("display", "identifier")}
    out["reference"] = f"Patient/{kept['id']}"
    if "display" in node:
        out["display"] = patient_display(kept)
    if isinstance(node.get("identifier"), dict):
        ident = patient_identifier(kept, node["identifier"])
        if ident is not None:
            out["identifier"] = ident
    return out


def repointed(resource: dict[str, Any], merged_id: str, kept: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``resource`` with every reference to ``Patient/merged_id`` naming the kept Patient instead
    (a stored resource is at most as deep as the content hash's serialiser accepts, 255 levels)."""
    out: dict[str, Any] = copy.deepcopy(resource)
    for node in [n for n in reference_nodes(out) if patient_id(n["reference"]) == merged_id]:
        new = _reference(node, kept)
        node.clear()
        node.update(new)
    return out
