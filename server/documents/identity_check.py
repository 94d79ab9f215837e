"""Is an imported CR-Bio about the patient it is being attached to? (``$import-crbio``, before any write)

A subcontractor's document attached to the wrong file is an identity error that spreads (its results
enter our report). The document's ``recordTarget`` is compared with the target Patient on what the
RNIV calls the strict traits and on the INS:

- INS: when both carry one, the matricules must be equal (the values are never echoed: SGL rule, no
  INS in answers or logs);
- birth name, first birth first name, the list of birth first names, birth date, sex: each one the
  document and the Patient both give must agree, compared without case, accents or extra spaces
  (``Dominique`` = ``DOMINIQUE``; ``PAT-TROIS`` != ``PAT TROIS``), a partial RNIPP date on its known
  part.

Every disagreement becomes one issue naming the document element and the Patient element; the
caller answers 422 and stores nothing. A plain PDF has no structured identity and is not checked.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

from facades.cda import DocumentPatient
from resources import patient_traits as traits
from resources.errors import Issue, Unprocessable
from resources.ins import ins_identifier

ROLE = "ClinicalDocument/recordTarget/patientRole"
PERSON = f"{ROLE}/patient"
SEX = {"male": "M", "female": "F"}


def _plain(text: str | None) -> str:
    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).upper().split())


def _date(value: str | None) -> str:
    """``1979-03-28``; RNIPP unknown parts (``00``) and the shorter CDA forms compare on what is known."""
    parts = [p for p in (value or "").split("-") if p and p != "00"]
    return "-".join(parts)


def _same_date(left: str, right: str) -> bool:
    return left.startswith(right) or right.startswith(left)


def mismatches(patient: dict[str, Any], document: DocumentPatient) -> list[Issue]:
    """The disagreements between the Patient and the document's ``DocumentPatient`` (empty: same person)."""
    issues: list[Issue] = []

    def differ(what: str, cda: str, fhir: str, doc_value: str | None, our_value: str | None,
               same: Callable[[str, str], bool] = str.__eq__, shown: bool = True) -> None:
        if not doc_value or not our_value or same(doc_value, our_value):
            return
        detail = f" (document: {doc_value}, patient: {our_value})" if shown else ""
        issues.append(Issue(code="business-rule", expression=(f"{cda}", f"Patient.{fhir}"),
                            diagnostics=f"the document's {what} is not the patient's{detail}"))

    ins = ins_identifier(patient)
    if document.ins and ins:
        differ("INS", f"{ROLE}/id", "identifier", _plain(document.ins[1]), _plain(str(ins.get("value"))), shown=False)
    differ("birth name", f"{PERSON}/name/family[@qualifier='BR']", "name.where(use='official').family",
           _plain(document.birth_name), _plain(traits.birth_name(patient)))
    differ("first birth first name", f"{PERSON}/name/given[@qualifier='BR']", "name.where(use='official').given",
           _plain(document.first_name), _plain(traits.first_birth_given_name(patient)))
    differ("birth first names", f"{PERSON}/name/given", "name.where(use='official').given",
           _plain(" ".join(document.first_names)), _plain(" ".join(traits.birth_given_names(patient))))
    differ("birth date", f"{PERSON}/birthTime", "birthDate", _date(document.birth_date),
           _date(traits.birth_date(patient)), same=_same_date)
    differ("sex", f"{PERSON}/administrativeGenderCode", "gender",
           document.sex if document.sex in ("M", "F") else None, SEX.get(str(patient.get("gender"))))
    return issues


def check_identity(patient: dict[str, Any], document: DocumentPatient | None, level: str) -> None:
    """Raise 422 with every disagreement; a CDA that names no patient at all is refused too."""
    if level == "PDF":
        return
    if document is None:
        raise Unprocessable("the document names no patient (no recordTarget/patientRole): it cannot be attached "
                            "to a patient file", expression=ROLE)
    issues = mismatches(patient, document)
    if issues:
        head = Issue(code="business-rule", expression=(ROLE,),
                     diagnostics=f"the document is not about Patient/{patient.get('id')}, nothing was imported")
        raise Unprocessable(head.diagnostics, issues=[head, *issues])
