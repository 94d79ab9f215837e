"""Sample data for the PDF facade tests and benchmark: the ANS test patient and a 30-result report."""

from __future__ import annotations

import copy
from typing import Any

from resources.ins import (
    IDENTITY_RELIABILITY_URL,
    IDENTITY_STATUS_SYSTEM,
    OID_INS_NIR_TEST,
    ins_identifier_for,
)
from resources.patient_traits import birth_given_names_extension, birthplace_extension

# The test OID 1.2.250.1.213.1.4.10 is 20 characters, the S2 maximum, so no GS follows it.
PAT_TROIS_DATAMATRIX = ("IS010000000000000000000000S1279035121518989S21.2.250.1.213.1.4.10S3DOMINIQUE\x1d"
                        "S4PAT-TROIS\x1dS5FS628-03-1979S763220")


def ans_test_patient(status: str = "QUAL") -> dict[str, Any]:
    """PAT-TROIS DOMINIQUE, the ANS interoperability test patient (identity.md §2.5)."""
    status_ext = {"url": "identityStatus", "valueCoding": {"system": IDENTITY_STATUS_SYSTEM, "code": status}}
    return {
        "resourceType": "Patient",
        "id": "pat-trois",
        "extension": [
            {"url": IDENTITY_RELIABILITY_URL, "extension": [status_ext]},
            birth_given_names_extension(["DOMINIQUE"]),
            birthplace_extension("63220", city="Riom"),
        ],
        "identifier": [ins_identifier_for("279035121518989", OID_INS_NIR_TEST),
                       {"system": "urn:oid:1.2.250.1.999.1.1", "value": "IPP0042"}],
        "name": [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE"]},
                 {"use": "usual", "family": "MARTIN", "given": ["DOMI"]}],
        "gender": "female",
        "birthDate": "1979-03-28",
    }


_ANALYSES = [
    ("Hématologie", "Numération formule sanguine", [
        ("Hématies", "4.21", "T/L", "3.80 - 5.20"),
        ("Hémoglobine", "11.2", "g/dL", "12.0 - 16.0"),
        ("Hématocrite", "35.1", "%", "36.0 - 47.0"),
        ("VGM", "83.4", "fL", "80.0 - 100.0"),
        ("TCMH", "26.6", "pg", "27.0 - 32.0"),
        ("CCMH", "31.9", "g/dL", "32.0 - 36.0"),
        ("Leucocytes", "7.35", "G/L", "4.00 - 10.00"),
        ("Polynucléaires neutrophiles", "4.12", "G/L", "1.80 - 7.50"),
        ("Polynucléaires éosinophiles", "0.21", "G/L", "0.00 - 0.50"),
        ("Lymphocytes", "2.48", "G/L", "1.00 - 4.00"),
        ("Monocytes", "0.54", "G/L", "0.20 - 1.00"),
        ("Plaquettes", "452", "G/L", "150 - 400")]),
    ("Biochimie", "Ionogramme sanguin", [
        ("Sodium", "139", "mmol/L", "136 - 145"),
        ("Potassium", "5.9", "mmol/L", "3.5 - 5.1"),
        ("Chlorure", "101", "mmol/L", "98 - 107"),
        ("Bicarbonates", "24", "mmol/L", "22 - 29"),
        ("Protéines totales", "71", "g/L", "64 - 83")]),
    ("Biochimie", "Fonction rénale", [
        ("Créatinine", "68", "µmol/L", "45 - 84"),
        ("DFG estimé (CKD-EPI)", "98", "mL/min/1,73 m²", "> 90"),
        ("Urée", "5.1", "mmol/L", "2.8 - 7.2")]),
    ("Biochimie", "Bilan lipidique", [
        ("Cholestérol total", "5.62", "mmol/L", "< 5.20"),
        ("HDL-cholestérol", "1.45", "mmol/L", "> 1.00"),
        ("LDL-cholestérol calculé", "3.71", "mmol/L", "< 3.00"),
        ("Triglycérides", "1.02", "mmol/L", "< 1.70"),
        ("Glycémie à jeun", "5.4", "mmol/L", "4.1 - 5.9")]),
    ("Hormonologie", "Thyroïde", [
        ("TSH", "2.35", "mUI/L", "0.27 - 4.20"),
        ("T4 libre", "15.8", "pmol/L", "12.0 - 22.0")]),
    ("Immunologie", "Sérologies", [
        ("Sérologie VHB : Ag HBs", "Négatif", "", "Négatif"),
        ("Sérologie VHC : Ac anti-VHC", "Négatif", "", "Négatif"),
        ("Ferritine", "8", "µg/L", "15 - 150")]),
]
_FLAGS = {"Hémoglobine": "L", "Hématocrite": "L", "TCMH": "L", "CCMH": "L", "Plaquettes": "H",
          "Potassium": "HH", "Cholestérol total": "H", "LDL-cholestérol calculé": "H", "Ferritine": "LL"}
_PREVIOUS = {"TSH": ("2.10", "2026-05-12"), "Créatinine": ("71", "2026-05-12")}


def _line(label: str, value: str, unit: str, ref: str) -> dict[str, Any]:
    previous, previous_date = _PREVIOUS.get(label, (None, None))
    return {"label": label, "value": value, "unit": unit, "reference_range": ref, "flag": _FLAGS.get(label),
            "previous_value": previous, "previous_date": previous_date}


def sample_view_dict(**overrides: Any) -> dict[str, Any]:
    """A complete report view for the ANS test patient: 30 results over 4 chapters, nothing accredited."""
    chapters: list[dict[str, Any]] = []
    for chapter, section, lines in _ANALYSES:
        if not chapters or chapters[-1]["title"] != chapter:
            chapters.append({"title": chapter, "sections": []})
        chapters[-1]["sections"].append({"title": section, "results": [_line(*line) for line in lines]})
    chapters[1]["sections"][0]["results"][1]["comment"] = "Contrôlé sur un second prélèvement, sans hémolyse."
    view: dict[str, Any] = {
        "report_id": "2611250042",
        "issued_at": "2026-11-25T17:42:00+01:00",
        "laboratory": {
            "name": "Laboratoire OpenSGL Auvergne", "address": ["12 rue des Analyses", "63200 Riom"],
            "finess": "630000000", "phone": "04 73 00 00 00",
            "biologists": ["Dr Claire Fontaine", "Dr Paul Mercier"]},
        "patient": {"birth_name": "PAT-TROIS", "first_birth_given_name": "DOMINIQUE",
                    "birth_given_names": ["DOMINIQUE"], "birth_date": "1979-03-28", "sex": "F",
                    "birthplace_cog": "63220", "used_name": "MARTIN", "used_given_name": "DOMI",
                    "identity_status": "QUAL", "ins_matricule": "279035121518989",
                    "ins_oid": OID_INS_NIR_TEST, "datamatrix": PAT_TROIS_DATAMATRIX, "local_id": "IPP0042"},
        "prescriber": {"name": "Dr Jean Généraliste", "identifier": "RPPS 10001234567",
                       "address": "3 place du Marché, 63200 Riom"},
        "copies_to": ["Dr Anne Cardio, cardiologue, Clermont-Ferrand", "Patient"],
        "specimens": [{"label": "Sang veineux (tube EDTA, tube sec)", "accession": "2611250042-01",
                       "collected_at": "2026-11-25T08:10:00+01:00",
                       "received_at": "2026-11-25T09:02:00+01:00"}],
        "chapters": chapters,
        "validation": {"validated_at": "2026-11-25T17:40:00+01:00", "biologist": "Dr Claire Fontaine"},
        "texts": {"rgpd": "Vos données sont traitées par le laboratoire pour réaliser vos examens (RGPD, "
                          "art. 6.1.c et 9.2.h). Droits d'accès et de rectification : dpo@labo.example."},
    }
    view.update(copy.deepcopy(overrides))
    return view
