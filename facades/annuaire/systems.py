"""Identifier systems and NOS code systems used for the directory resources (FR Core conventions), as the
CR-Bio writer reads them (``facades/cda/writer/parties.py``: TRE_G15 profession, TRE_R38 specialty)."""

from __future__ import annotations

IDNPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
"""National PS id: type digit + id (``8`` + RPPS, ``0`` + ADELI), as in the extraction's "Identification
nationale PP", Pro Santé Connect and the CDA."""
RPPS_SYSTEM = "https://rpps.esante.gouv.fr"
IDNST_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
"""National structure id: ``1`` + FINESS, ``3`` + SIRET."""
FINESS_SYSTEM = "http://finess.sante.gouv.fr"
SIRET_SYSTEM = "https://sirene.fr"
STRUCTURE_TECH_SYSTEM = "https://annuaire.sante.fr"
ID_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"

_NOS = "https://mos.esante.gouv.fr/NOS/{0}/FHIR/{1}"
G15_PROFESSION = _NOS.format("TRE_G15-ProfessionSante", "TRE-G15-ProfessionSante")
R38_SPECIALTY = _NOS.format("TRE_R38-SpecialiteOrdinale", "TRE-R38-SpecialiteOrdinale")
R85_ROLE = _NOS.format("TRE_R85-RolePriseCharge", "TRE-R85-RolePriseCharge")
R23_MODE = _NOS.format("TRE_R23-ModeExercice", "TRE-R23-ModeExercice")
R09_CATEGORY = _NOS.format("TRE_R09-CategorieProfessionnelle", "TRE-R09-CategorieProfessionnelle")

EMAIL_TYPE_SYSTEM = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-email-type"
EMAIL_TYPE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-email-type"

SOURCE = "https://annuaire.sante.fr"
TAG_SYSTEM = "https://opensgl.org/fhir/CodeSystem/source"
TAG_CODE = "annuaire-sante"
TAG = {"system": TAG_SYSTEM, "code": TAG_CODE, "display": "Annuaire Santé (extraction publique)"}
META = {"source": SOURCE, "tag": [TAG]}
