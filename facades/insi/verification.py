"""Verification of a stored INS (SGL.INS.42/43): OK only if the INSi returns the same INS and traits.

The public WSDL (DESIR_ICIR_EXP 1.5.0) has no verification operation of its own; a verification
is a traits search with the stored traits whose answer is compared, field by field, with what is
stored. Any difference is a KO with its reason, which the server traces and acts upon (downgrade,
worklist).
"""

from __future__ import annotations

import re

from facades.insi.envelope import normalise_name
from facades.insi.model import Identity, Result, Verification

INS_TRAITS = ("birth first names", "birthplace")
"""The labels of the traits that are INS traits (masked on a Patient for a role without the ``ins`` right,
``server/access/masking.py``): a reason quoting them is masked there too (:func:`mask_ins_traits`)."""
_QUOTED = r"'[^']*(?:'|$)|\"[^\"]*(?:\"|$)|None"
"""A value as ``repr`` quotes it, or its beginning when the text was cut (a Task's description is bounded)."""
_INS_TRAIT_REASON = re.compile(rf"\b({'|'.join(INS_TRAITS)}) (?:{_QUOTED})(?:( differs from INSi )(?:{_QUOTED})?)?")


def trait_reason(label: str, stored: object, returned: object) -> str:
    """The reason of a trait that differs (the one wording :func:`mask_ins_traits` knows)."""
    return f"{label} {stored!r} differs from INSi {returned!r}"


def mask_ins_traits(text: str, mark: str) -> str:
    """``text`` with the values of every INS trait reason replaced by ``mark`` (the other reasons kept)."""
    return _INS_TRAIT_REASON.sub(lambda m: f"{m.group(1)} {mark}" + (f"{m.group(2)}{mark}" if m.group(2) else ""),
                                 text)


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
            reasons.append(trait_reason(label, stored, returned))
    return Verification(ok=not reasons, reasons=tuple(reasons), result=result)
