"""Fixed codes and status sets used across the tree, defined once.

A status set names what the lab means by it (a validated result, a report that carries documents),
so every workflow, facade and rule that asks the same question uses the same set. Codes that are
not the lab's choice but a standard's (the LOINC code of a biology report) are named here once too.
"""

from __future__ import annotations

LOINC_SYSTEM = "http://loinc.org"

LAB_REPORT_LOINC = "11502-2"
"""LOINC "Laboratory report": the DiagnosticReport code, the CR-Bio's DocumentReference type and
the CDA ``ClinicalDocument/code`` (CI-SIS CR-BIO)."""
LAB_REPORT_DISPLAY_FR = "CR d'examens biologiques"
"""The display of 11502-2 the ANS uses in French documents."""

RESULT_FINAL = frozenset({"final", "corrected", "amended"})
"""Observation statuses of a result validated by a biologist (or autoverified); its value is locked
(VAL-01) and a CR-Bio prints it as final."""

RESULT_ANSWERED = RESULT_FINAL | {"cancelled"}
"""Observation statuses with nothing more to come: validated, or cancelled (a CDA writes either
as a closed entry)."""

REPORT_VALIDATED = RESULT_FINAL | {"appended"}
"""DiagnosticReport statuses reached only through $validate-biological or $correct (VAL-15)."""

REPORT_DOCUMENTED = RESULT_FINAL | {"preliminary"}
"""DiagnosticReport statuses for which a CR-Bio is produced (a preliminary report gets a partial one)."""

REPORT_WITHDRAWN = frozenset({"entered-in-error", "cancelled"})
"""DiagnosticReport statuses of a report taken back: its documents are withdrawn from where they went."""

DMP_VISIBILITY_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.13"
"""JDV_J58 / TRE_A07: a report's DMP masking / visibility labels in ``meta.security`` (SGL.DOC.15)."""
DMP_BLOCK_SYSTEM = "https://opensgl.org/fhir/CodeSystem/dmp-feeding"
"""A report's ``DMP_BLOQUE`` tag in ``meta.tag`` (SGL.DMP.02)."""
DOCUMENTS_STATUS_URL = "https://opensgl.org/fhir/StructureDefinition/documents-status"
"""Extension on a report: ``in-progress`` / ``ready`` / ``failed`` for the document version named."""
PATIENT_COPY_ID_PREFIX = "patient-"
"""SGL.DOC.02: the patient version's Binary / DocumentReference ids are ``<report>-patient-<fmt>-v<n>`` (the single
or professional version's ``<report>-<fmt>-v<n>``): written by server/documents, read back by server/delivery."""
