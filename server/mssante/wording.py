"""What each CR-Bio mail says: subject and body per action and audience (SGL.MSS.17, .20, .24, .25).

Pre-set French texts: a new report, a replacing version carrying "annule et remplace" (SGL.MSS.24),
a deletion notice to everyone who received the report (SGL.MSS.25), and the notice of a tube the lab
refused (a message without a document). The footer (automatic sending, contact mailbox) is added by the
facade for every mail (SGL.MSS.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resources.patient_traits import birth_date, birth_name, first_birth_given_name, sex_code, used_name

SUBJECT_PREFIX = "XDM/1.0/DDM+"
"""The subject shape of the ANS examples for a mail carrying an IHE_XDM.ZIP."""
TITLE = "Compte rendu d'examens biologiques"


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str
    attach: bool
    """Whether the XDM and PDF go with it (not for a deletion notice)."""


def wording(action: str, audience: str, *, patient_label: str, report_date: str, previous: str = "") -> Wording:
    """``action``: ``publish`` / ``replace`` / ``delete``; ``audience``: ``pro`` / ``patient``; ``previous``
    names the replaced version (``du 01/12/2026``, ``(version 1)``)."""
    about = f"de {patient_label}" if audience == "pro" else "vous concernant"
    greeting = "Bonjour,\n\n" if audience == "patient" else "Chère consœur, cher confrère,\n\n"
    if action == "delete":
        return Wording(
            f"Suppression d'un compte rendu d'examens biologiques {patient_label}".strip(),
            f"{greeting}Le compte rendu d'examens biologiques {about} du {report_date}, qui vous a été adressé, "
            "a été supprimé par le laboratoire. Merci de ne plus en tenir compte et de le supprimer de vos "
            "dossiers.", attach=False)
    if action == "replace":
        return Wording(
            f"{SUBJECT_PREFIX}{TITLE} (annule et remplace) {patient_label}".strip(),
            f"{greeting}ANNULE ET REMPLACE le compte rendu {previous or 'précédemment envoyé'}.\n"
            f"Veuillez trouver ci-joint la nouvelle version du compte rendu d'examens biologiques {about} "
            f"du {report_date}.", attach=True)
    return Wording(
        f"{SUBJECT_PREFIX}{TITLE} {patient_label}".strip(),
        f"{greeting}Veuillez trouver ci-joint le compte rendu d'examens biologiques {about} du {report_date}.",
        attach=True)


SEX_WORDS = {"M": "masculin", "F": "féminin", "I": "indéterminé"}


def patient_identity(patient: dict[str, Any]) -> str:
    """The patient as the RNIV display rules name him: birth name, first birth first name, birth date and sex
    always, with their labels, and the used name when it differs. Never the INS (a mail body is no place
    for it, and the mail may be forwarded)."""
    family = birth_name(patient) or "?"
    born = birth_date(patient) or ""
    born_text = f"{born[8:10]}/{born[5:7]}/{born[:4]}" if len(born) >= 10 else "date inconnue"
    text = (f"nom de naissance {family.upper()}, premier prénom de naissance {first_birth_given_name(patient) or '?'}, "
            f"né(e) le {born_text}, sexe {SEX_WORDS.get(sex_code(patient) or '', 'inconnu')}")
    used = used_name(patient)
    return f"{text}, nom utilisé {used.upper()}" if used and used.upper() != family.upper() else text


def notice_wording(*, patient: str, tube: str, specimen: str, reason: str, lab: str) -> Wording:
    """A tube refused at reception (issue 15): who, which tube, why, and what to do; no attachment."""
    return Wording(
        f"Prélèvement non conforme - tube {tube}",
        "Chère consœur, cher confrère,\n\n"
        f"Le laboratoire {lab} a refusé un prélèvement de votre patient(e) :\n"
        f"- patient(e) : {patient}\n- tube : {tube}{f' ({specimen})' if specimen else ''}\n"
        f"- motif de non-conformité : {reason}\n\n"
        "Les analyses prescrites sur ce tube ne peuvent pas être réalisées : un nouveau prélèvement est "
        "nécessaire.", attach=False)
