"""What each CR-Bio mail says: subject and body per action and audience (SGL.MSS.17, .20, .24, .25).

Pre-set French texts: a new report, a replacing version carrying "annule et remplace" (SGL.MSS.24),
a deletion notice to everyone who received the report (SGL.MSS.25). The footer (automatic
sending, contact mailbox) is added by the facade for every mail (SGL.MSS.11).
"""

from __future__ import annotations

from dataclasses import dataclass

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
