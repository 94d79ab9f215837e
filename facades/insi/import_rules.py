"""Identitovigilance rules applied to an INSi answer before its identity may be imported.

Pure functions: the server calls :func:`check_importable` (which refuses, leaving the stored
identity untouched) and :func:`first_names_alerts` (which only warns) before it applies
:func:`facades.insi.patient_mapping.patient_traits`.

- SGL.INS.15 (RNIV rule 11): no import when the birth date has ``00`` as day or month.
- SGL.INS.16 (rule 12): no import when the birth name, the birth first names or the sex is empty.
- SGL.INS.14 (rule 6): alert when the INSi list of birth first names does not agree with the
  first name typed by the user.
- CNDA INSi test 2.08 case 2: a matricule whose key is not 97 - (N mod 97) is refused too,
  because it could not be emitted afterwards (SGL.INS.08 key control).
"""

from __future__ import annotations

from facades.insi.envelope import normalise_name
from facades.insi.model import Identity, Result
from resources.errors import Issue, RuleViolation

_TIQ = "RESULTAT/INDIVIDU/TIQ"


def _identity(result: Result) -> Identity:
    if result.identity is None:
        raise RuleViolation(
            "SGL.INS.13",
            f"INSi answered {result.code} ({result.label}): no identity to import",
            expression="RESULTAT/CR/CodeCR",
        )
    return result.identity


def check_importable(result: Result) -> Identity:
    """The identity to import, or :class:`RuleViolation` naming the rule and the empty/invalid field."""
    identity = _identity(result)
    traits = identity.traits
    for field, value, tag in (
        ("birth name", traits.birth_name, "NomNaissance"),
        ("birth first names", traits.first_names or traits.first_name, "ListePrenom"),
        ("sex", traits.sex, "Sexe"),
    ):
        if not value.strip():
            raise RuleViolation(
                "SGL.INS.16",
                f"the INSi identity has an empty {field}: it cannot be imported",
                expression=f"{_TIQ}/{tag}",
            )
    year, month, day = (traits.birth_date.split("-") + ["", "", ""])[:3]
    if not (len(year) == 4 and month.isdigit() and day.isdigit()):
        raise RuleViolation(
            "SGL.INS.15",
            f"the INSi birth date {traits.birth_date!r} is not YYYY-MM-DD",
            expression=f"{_TIQ}/DateNaissance",
        )
    if month == "00" or day == "00":
        raise RuleViolation(
            "SGL.INS.15",
            f"the INSi birth date {traits.birth_date} has an unknown (00) day or month: the INS cannot be imported",
            expression=f"{_TIQ}/DateNaissance",
        )
    for where, ins in [("INSACTIF", identity.active)] + [
        (f"INSHISTO[{i}]", h) for i, h in enumerate(identity.history, start=1)
    ]:
        if not ins.key_is_consistent:
            raise RuleViolation(
                "SGL.INS.08",
                f"the INSi matricule {ins.number} has key {ins.key}, which does not "
                "match its control key: it cannot be imported",
                expression=f"RESULTAT/INDIVIDU/{where}/IdIndividu/Cle",
            )
    return identity


def first_names_alerts(
    result: Result, entered_first_name: str, entered_first_names: tuple[str, ...] = ()
) -> list[Issue]:
    """Warnings (never a refusal) when what the user typed disagrees with the INSi first names.

    The user's first name must be the first INSi birth first name; a list, when typed, must equal
    the INSi list. Comparison ignores case and diacritics, as the INSi does.
    """
    identity = _identity(result)
    returned = tuple(normalise_name(n) for n in identity.traits.first_names_list)
    first = normalise_name(identity.traits.first_first_name)
    alerts: list[Issue] = []
    if normalise_name(entered_first_name) != first:
        alerts.append(
            Issue(
                code="business-rule",
                severity="warning",
                expression=(f"{_TIQ}/ListePrenom",),
                diagnostics=f"[SGL.INS.14] the first name entered ({entered_first_name}) is not the first "
                f"INSi birth first name ({first}); INSi list: {' '.join(returned)}",
            )
        )
    typed = tuple(normalise_name(n) for n in entered_first_names)
    if typed and typed != returned:
        alerts.append(
            Issue(
                code="business-rule",
                severity="warning",
                expression=(f"{_TIQ}/ListePrenom",),
                diagnostics=f"[SGL.INS.14] the first names entered ({' '.join(typed)}) differ from the "
                f"INSi birth first names ({' '.join(returned)})",
            )
        )
    return alerts
