"""FHIR resources for CR-Bio writer tests: a lab, a biologist, a prescriber, a patient, results."""

from __future__ import annotations

import copy
from typing import Any

from facades.cda.writer import CrBioInput, DocumentVersion, Party

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ROOT = "1.2.250.1.999.1"
TINY_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
QUALIFIED = {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability",
             "extension": [{"url": "identityStatus", "valueCoding": {"code": "QUAL"}}]}
PROVISIONAL = {"url": QUALIFIED["url"], "extension": [{"url": "identityStatus", "valueCoding": {"code": "PROV"}}]}
CHAPTER_URL = LOINC


def address(line: str = "8 rue Frédéric Bastia") -> dict[str, Any]:
    return {"line": [line], "postalCode": "92100", "city": "BOULOGNE-BILLANCOURT"}


def patient(qualified: bool = True) -> dict[str, Any]:
    return {
        "resourceType": "Patient", "id": "pat1",
        "extension": [QUALIFIED if qualified else PROVISIONAL,
                      {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                       "valueAddress": {"city": "DOMPREMY", "extension": [
                           {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                            "valueCoding": {"code": "51215"}}]}}],
        "identifier": [{"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.10", "value": "279035121518989"},
                       {"use": "usual", "system": "urn:oid:1.2.250.1.999.1.5", "value": "IPP123"}],
        "name": [{"use": "official", "family": "PAT-TROIS", "given": ["DOMINIQUE", "MARIE-LOUISE"]},
                 {"use": "usual", "family": "PAT-TROIS", "given": ["DOMINIQUE"]}],
        "gender": "female", "birthDate": "1979-03-28",
        "address": [address("28 avenue de Breteuil")],
        "telecom": [{"system": "phone", "value": "0144534551", "use": "home"}],
    }


def laboratory() -> dict[str, Any]:
    return {"resourceType": "Organization", "id": "lab", "name": "Laboratoire des Charmes",
            "identifier": [{"system": "http://finess.sante.gouv.fr", "value": "920000001"}],
            "telecom": [{"system": "phone", "value": "0174589607", "use": "work"}], "address": [address()]}


def subcontractor() -> dict[str, Any]:
    return {"resourceType": "Organization", "id": "sub", "name": "Laboratoire Spécialisé Cerba-Test",
            "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "1950000002"}],
            "telecom": [{"system": "phone", "value": "0134000000", "use": "work"}],
            "address": [address("11 rue de l'Essonne")]}


def practitioner(ident: str, rpps: str, family: str, given: str, email: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Practitioner", "id": ident,
                           "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": rpps}],
                           "name": [{"family": family, "given": [given], "prefix": ["Dr"]}],
                           "telecom": [{"system": "phone", "value": "0100000000", "use": "work"}]}
    if email:
        out["telecom"].append({"system": "email", "value": email, "use": "work"})
    return out


def role(specialty: str, display: str, email: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "PractitionerRole",
                           "specialty": [{"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.5", "code": specialty,
                                                      "display": display}]}]}
    if email:
        out["telecom"] = [{"system": "email", "value": email, "use": "work"}]
    return out


def biologist() -> Party:
    return Party(practitioner("bio", "810001234567", "CAMPARINI", "Marcel"),
                 role("G15_10/SM03", "Médecin - Biologie médicale (SM)"))


def requester() -> Party:
    return Party(practitioner("req", "810002422979", "CHARLES", "Pascal"),
                 role("G15_10/SM41", "Médecin - Pneumologie (SM)", "pascal.charles@medecin.mssante.fr"),
                 {"resourceType": "Organization", "id": "cab", "name": "Cabinet Charles",
                  "identifier": [{"system": "http://finess.sante.gouv.fr", "value": "920000099"}]})


def recipients() -> list[Party]:
    return [requester(),
            Party(practitioner("gp", "810000000011", "MEDECIN", "Paul", "paul.medecin@medecin.mssante.fr")),
            Party(practitioner("card", "810000000022", "COEUR", "Anne", "anne.coeur@hopital.mssante.fr")),
            Party({}, None, {"resourceType": "Organization", "id": "svc", "name": "Service de cardiologie CHU",
                             "identifier": [{"system": "http://finess.sante.gouv.fr", "value": "630000479"}],
                             "telecom": [{"system": "email", "value": "cardio@chu.mssante.fr"}]})]


def quantity_obs(ident: str, code: str, display: str, value: float, unit: str, low: float, high: float,
                 flag: str | None = None, chapter: str = "18719-5", **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Observation", "id": ident, "status": "final",
        "category": [{"coding": [{"system": LOINC, "code": chapter}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        "effectiveDateTime": "2024-01-04T07:35:00+01:00", "issued": "2024-01-04T15:25:30+01:00",
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        "referenceRange": [{"low": {"value": low, "unit": unit, "system": UCUM, "code": unit},
                            "high": {"value": high, "unit": unit, "system": UCUM, "code": unit}}],
        "specimen": {"reference": "Specimen/sp1"},
    }
    if flag:
        out["interpretation"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                              "v3-ObservationInterpretation", "code": flag}]}]
    out.update(extra)
    return out


def specimen(ident: str = "sp1", kind: str = "SER", display: str = "Sérum") -> dict[str, Any]:
    return {"resourceType": "Specimen", "id": ident, "accessionIdentifier": {"value": f"ACC-{ident}"},
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0487", "code": kind,
                                 "display": display}]},
            "collection": {"collectedDateTime": "2024-01-04T07:35:00+01:00"},
            "receivedTime": "2024-01-04T09:22:00+01:00"}


def report(results: list[str], status: str = "final", **extra: Any) -> dict[str, Any]:
    out = {"resourceType": "DiagnosticReport", "id": "rep1", "status": status,
           "category": [{"coding": [{"system": LOINC, "code": "18719-5"}]}],
           "code": {"coding": [{"system": LOINC, "code": "11502-2"}]},
           "subject": {"reference": "Patient/pat1"},
           "effectiveDateTime": "2024-01-04T07:35:00+01:00", "issued": "2024-01-04T16:05:00+01:00",
           "result": [{"reference": f"Observation/{r}"} for r in results]}
    out.update(extra)
    return out


def biochemistry() -> list[dict[str, Any]]:
    return [
        quantity_obs("tsh", "3016-3", "Thyréostimuline [Unités arbitraires/Volume] Sérum/Plasma", 1.95,
                     "m[IU]/L", 0.27, 4.2, "N"),
        quantity_obs("ft4", "3024-7", "Thyroxine libre [Masse/Volume] Sérum/Plasma", 7.67, "pg/mL", 9.3, 17.0, "L",
                     note=[{"text": "Contrôlé sur un second prélèvement."}]),
        quantity_obs("glu", "14749-6", "Glucose [Moles/Volume] Sérum/Plasma", 7.9, "mmol/L", 4.1, 5.9, "H"),
    ]


def crbio_input(observations: list[dict[str, Any]], results: list[str] | None = None, *, status: str = "final",
                qualified: bool = True, version: DocumentVersion | None = None,
                specimens: list[dict[str, Any]] | None = None, conclusion: str | None = None,
                **extra: Any) -> CrBioInput:
    report_extra = {"conclusion": conclusion} if conclusion else {}
    return CrBioInput(
        report=report(results if results is not None else [o["id"] for o in observations], status=status,
                      **report_extra),
        patient=patient(qualified), laboratory=laboratory(), biologist=biologist(), requester=requester(),
        version=version or DocumentVersion(root=ROOT, document_id="doc-1", set_id="set-1"),
        observations=copy.deepcopy(observations), specimens=specimens or [specimen()],
        organizations=[subcontractor()], recipients=recipients(),
        service_request={"resourceType": "ServiceRequest", "id": "sr1", "authoredOn": "2024-01-03T16:05:27+01:00",
                         "requisition": {"value": "2024010400123"}},
        **{"pdf": TINY_PDF, **extra})


def haematology(platelets_status: str = "final") -> list[dict[str, Any]]:
    members = [
        quantity_obs("hb", "718-7", "Hémoglobine [Masse/Volume] Sang", 13.5, "g/dL", 12.0, 16.0, "N", "18723-7",
                     specimen={"reference": "Specimen/sp2"}),
        quantity_obs("wbc", "6690-2", "Leucocytes [Nombre/Volume] Sang", 11.2, "10*9/L", 4.0, 10.0, "H", "18723-7",
                     specimen={"reference": "Specimen/sp2"}),
        quantity_obs("plt", "777-3", "Plaquettes [Nombre/Volume] Sang", 250, "10*9/L", 150, 400, None, "18723-7",
                     specimen={"reference": "Specimen/sp2"}, status=platelets_status),
    ]
    battery = {"resourceType": "Observation", "id": "nfs", "status": "final",
               "category": [{"coding": [{"system": LOINC, "code": "18723-7"}]}],
               "code": {"coding": [{"system": LOINC, "code": "58410-2", "display": "Hémogramme"}],
                        "text": "Numération formule sanguine"},
               "effectiveDateTime": "2024-01-04T07:35:00+01:00", "specimen": {"reference": "Specimen/sp2"},
               "hasMember": [{"reference": f"Observation/{m['id']}"} for m in members]}
    return [battery, *members]


def _mic(code: str, display: str, comparator: str, value: float, flag: str) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "valueQuantity": {"value": value, "comparator": comparator, "unit": "µg/mL", "system": UCUM,
                              "code": "ug/mL"},
            "interpretation": [{"coding": [{"code": flag}]}]}


def microbiology() -> list[dict[str, Any]]:
    micro = [{"coding": [{"system": LOINC, "code": "18725-2"}]}]
    sp = {"reference": "Specimen/sp3"}
    leuco = {"resourceType": "Observation", "id": "leu", "status": "final", "category": micro, "specimen": sp,
             "code": {"coding": [{"system": LOINC, "code": "30405-5", "display": "Leucocytes [Nombre/Volume] Urine"}]},
             "valueQuantity": {"value": 500, "unit": "/mL", "system": UCUM, "code": "/mL"}}
    count = {"resourceType": "Observation", "id": "cnt", "status": "final", "category": micro, "specimen": sp,
             "code": {"coding": [{"system": LOINC, "code": "51480-2", "display": "Bactéries [Nombre/Volume] Urine"}]},
             "valueQuantity": {"value": 100000, "unit": "/mL", "system": UCUM, "code": "/mL"}}
    antibiogram = {"resourceType": "Observation", "id": "abg", "status": "final", "category": micro,
                   "code": {"coding": [{"system": LOINC, "code": "18769-0", "display": "Antibiogramme"}]},
                   "component": [_mic("20-8", "Amoxicilline+clavulanate [Sensibilité] Isolat", ">=", 0.512, "R"),
                                 _mic("28-1", "Ampicilline [Sensibilité] Isolat", "<", 0.128, "I"),
                                 _mic("18928-2", "Gentamicine [Sensibilité] Isolat", "<", 0.032, "S")]}
    isolate = {"resourceType": "Observation", "id": "iso", "status": "final", "category": micro, "specimen": sp,
               "code": {"coding": [{"system": LOINC, "code": "11475-1", "display": "Micro-organisme identifié"}]},
               "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "112283007",
                                                    "display": "Escherichia coli"}], "text": "Escherichia coli"},
               "hasMember": [{"reference": "Observation/cnt"}, {"reference": "Observation/abg"}],
               "note": [{"text": "Traitement immédiat recommandé."}]}
    aspect = {"resourceType": "Observation", "id": "asp", "status": "final", "category": micro, "specimen": sp,
              "code": {"coding": [{"system": LOINC, "code": "5767-9", "display": "Aspect [Aspect] Urine"}]},
              "valueCodeableConcept": {"text": "trouble"}}
    gram = {"resourceType": "Observation", "id": "gram", "status": "final", "category": micro, "specimen": sp,
            "code": {"coding": [{"system": LOINC, "code": "653-6", "display": "Coloration de Gram"}]},
            "valueString": "nombreux bacilles Gram négatif"}
    return [leuco, isolate, count, antibiogram, aspect, gram]


def subcontracted() -> list[dict[str, Any]]:
    vitd = quantity_obs("vitd", "62292-8", "25-Hydroxyvitamine D [Moles/Volume] Sérum/Plasma", 42.0, "nmol/L",
                        75.0, 250.0, "L", "18718-7", performer=[{"reference": "Organization/sub"}])
    return [*biochemistry()[:1], vitd]


CHAPTERS = ("18719-5", "18723-7", "18718-7")


def thirty_results(pdf: bytes) -> CrBioInput:
    """30 results over 3 chapters: 24 single results and a 6-member battery, notes on some."""
    observations: list[dict[str, Any]] = []
    for index in range(24):
        obs = quantity_obs(f"r{index}", "2345-7", f"Analyte {index}", 5.0 + index / 10, "mmol/L", 4.1, 5.9,
                           "H" if index % 5 == 0 else "N", CHAPTERS[index % 3])
        if index % 7 == 0:
            obs["note"] = [{"text": f"Commentaire {index}"}]
        observations.append(obs)
    observations.extend(haematology())
    observations.extend(quantity_obs(f"m{i}", "789-8", f"Membre {i}", 4.5, "10*12/L", 4.0, 5.4,
                                     chapter="18723-7", specimen={"reference": "Specimen/sp2"}) for i in range(3))
    observations[24]["hasMember"].extend({"reference": f"Observation/m{i}"} for i in range(3))
    results = [f"r{i}" for i in range(24)] + ["nfs"]
    return crbio_input(observations, results, specimens=[specimen(), specimen("sp2", "BLD", "Sang")], pdf=pdf)
