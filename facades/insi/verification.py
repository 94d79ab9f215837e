"""Verification of a stored INS (SGL.INS.42/43): OK only if the INSi returns the same INS and traits.

The public WSDL (DESIR_ICIR_EXP 1.5.0) has no verification operation of its own; a verification
is a traits search with the stored traits whose answer is compared, field by field, with what is
stored. Any difference is a KO with its reason, which the server traces and acts upon (downgrade,
worklist).
"""

from __future__ import annotations

from facades.insi.envelope import normalise_name
from facades.insi.model import Identity, Result, Verification


def compare(expected: Identity, result: Result) -> Verification:
    """Compare the stored identity with an INSi answer; every mismatch is listed."""
    if result.identity is None:
        return Verification(ok=False, reasons=(f"INSi answered {result.code} ({result.label})",), result=result)
    got, want = result.identity, expected
    reasons: list[str] = []
    if got.active.matricule != want.active.matricule:
        known = any(h.matricule == want.active.matricule for h in got.history)
        reasons.append(
            f"matricule INS {want.active.matricule} is {'historic' if known else 'not returned'}; "
            f"active INS is {got.active.matricule}"
        )
    if got.active.oid != want.active.oid:
        reasons.append(f"OID {want.active.oid} differs from {got.active.oid}")
    pairs = (
        ("birth name", want.traits.birth_name, got.traits.birth_name),
        ("birth first names", want.traits.first_names, got.traits.first_names),
        ("sex", want.traits.sex, got.traits.sex),
        ("birth date", want.traits.birth_date, got.traits.birth_date),
        ("birthplace", want.traits.birthplace, got.traits.birthplace),
    )
    for label, stored, returned in pairs:
        if normalise_name(stored) != normalise_name(returned):
            reasons.append(f"{label} {stored!r} differs from INSi {returned!r}")
    return Verification(ok=not reasons, reasons=tuple(reasons), result=result)
