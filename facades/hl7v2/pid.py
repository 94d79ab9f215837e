"""Outbound PID segment from a FHIR Patient (PAM-FR 2.11 and the CI-SIS INS annex).

Every outbound message builds its PID here, so one rule holds everywhere: the matricule INS and its
OID go into PID-3 only for a qualified identity (SGL.INS.37); for a qualified identity they are
always there (SGL.INS.56). Otherwise the PID carries the traits only.

FHIR conventions read (FR Core):

- IPP: the ``identifier`` whose ``system`` is the lab's IPP system (``AssigningAuthority.fhir_system``);
- INS: ``resources.ins.emittable_ins`` (urn:oid system, QUAL only); CX-7 from ``identifier.period.start``;
- birth name and first names: ``name`` with ``use = official``: ``family``, ``given[0]`` and the FR Core
  extension ``fr-core-patient-birth-list-given-name`` (space-separated list), read on that name as FR Core
  places it, else on the Patient (the PDF facade's convention), else ``given`` joined with spaces;
- birth date: ``birthDate``; an RNIPP date with a ``00`` day or month is not a valid HL7 date, so PID-7 is
  left empty and the message writer sends it in ZFD-1 (PAM-FR);
- used name / used first name: ``name`` with ``use = usual`` (PID-5 type D);
- birthplace: extension ``patient-birthPlace``, ``valueAddress`` with the FR Core
  ``fr-core-address-insee-code`` extension (on the address or on ``_city``) holding the COG, which goes to
  the ``BDL`` repetition of PID-11 (XAD-9), with ``city`` and ``postalCode``;
- PID-32: the RNIV status mapped as in the ANS examples and Mediboard (PROV/RECUP -> PROV,
  VALI/QUAL -> VALI), the INS in PID-3 telling a qualified identity apart; override with
  ``reliability_codes`` if the partner expects RECUP/QUAL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from facades.hl7v2.escape import DEFAULT_ENCODING, EncodingChars
from facades.hl7v2.message import Field, Segment
from facades.hl7v2.timestamps import from_fhir
from resources.errors import InvalidInput
from resources.ins import check_matricule, emittable_ins, identity_status
from resources.patient_traits import BIRTH_LIST_GIVEN_NAME_URL, INSEE_CODE_URL
from resources.patient_traits import BIRTHPLACE_URL as BIRTH_PLACE_URL

INS_NAMESPACE = "ASIP-SANTE-INS-NIR"  # CX-4.1 for NIR and NIA alike; the OID tells them apart
BIRTH_LIST_GIVEN_NAME_URL_V1 = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-birth-list-given-name"
PAM_FR_RELIABILITY = {"PROV": "PROV", "RECUP": "PROV", "VALI": "VALI", "QUAL": "VALI"}
GENDERS = {"male": "M", "female": "F", "other": "O", "unknown": "U"}
ADDRESS_TYPES = {"home": "H", "work": "O", "temp": "C"}


@dataclass(frozen=True)
class AssigningAuthority:
    """An HL7 HD (namespace&OID&ISO) and the FHIR identifier system it stands for."""

    namespace: str
    oid: str
    universal_id_type: str = "ISO"
    system: str | None = None

    @property
    def fhir_system(self) -> str:
        return self.system or f"urn:oid:{self.oid}"

    def hd(self) -> tuple[str, str, str]:
        return (self.namespace, self.oid, self.universal_id_type)


def _cx(value: str, authority: tuple[str, str, str], id_type: str, effective: str | None,
        enc: EncodingChars) -> Field:
    return Field.of(value, None, None, authority, id_type, None, effective, enc=enc)


def patient_identifiers(patient: dict[str, Any], ipp: AssigningAuthority,
                        enc: EncodingChars = DEFAULT_ENCODING) -> Field:
    """The CX list of PID-3 (and of MRG-1 for a merged patient): the IPP, then the INS when qualified."""
    reps: list[Field] = []
    for ident in patient.get("identifier", []):
        if ident.get("system") == ipp.fhir_system and ident.get("use") != "old" and ident.get("value"):
            reps.append(_cx(ident["value"], ipp.hd(), "PI", None, enc))
            break
    ins = emittable_ins(patient)
    if ins is not None:
        oid = ins["system"].removeprefix("urn:oid:")
        matricule = check_matricule(ins.get("value", ""), expression="Patient.identifier.value")
        start = (ins.get("period") or {}).get("start")
        effective = from_fhir(start, expression="Patient.identifier.period.start")[:8] if start else None
        reps.append(_cx(matricule, (INS_NAMESPACE, oid, "ISO"), "INS", effective, enc))
    if not reps:
        raise InvalidInput(f"the Patient has no identifier for PID-3: neither an IPP in {ipp.fhir_system} "
                           "nor an emittable (qualified) INS", expression="Patient.identifier")
    return Field.repeat(reps, enc)


def _name(patient: dict[str, Any], use: str) -> dict[str, Any] | None:
    return next((n for n in patient.get("name", []) if n.get("use") == use), None)


def _birth_list(holder: dict[str, Any]) -> str | None:
    urls = (BIRTH_LIST_GIVEN_NAME_URL, BIRTH_LIST_GIVEN_NAME_URL_V1)
    values = (str(e.get("valueString") or "").strip() for e in holder.get("extension", []) if e.get("url") in urls)
    return next((v for v in values if v), None)


def _names(patient: dict[str, Any], enc: EncodingChars) -> Field:
    official = _name(patient, "official")
    if official is None or not official.get("family"):
        raise InvalidInput("the birth name (name with use 'official' and a family) is required for PID-5",
                           expression="Patient.name.where(use='official').family")
    given = official.get("given", [])
    birth_list = _birth_list(official) or _birth_list(patient) or " ".join(given)
    reps = [Field.of(official["family"], given[0] if given else None, birth_list or None,
                     None, None, None, "L", enc=enc)]
    usual = _name(patient, "usual")
    if usual is not None and (usual.get("family") or usual.get("given")):
        used_given = (usual.get("given") or [None])[0]
        used_family = usual.get("family") or official["family"]
        reps.append(Field.of(used_family, used_given, None, None, None, None, "D", enc=enc))
    return Field.repeat(reps, enc)


def _insee_code(address: dict[str, Any]) -> str | None:
    for ext in address.get("extension", []) + (address.get("_city") or {}).get("extension", []):
        if ext.get("url") == INSEE_CODE_URL:
            code = (ext.get("valueCoding") or {}).get("code")
            if code:
                return str(code)
    return None


def _addresses(patient: dict[str, Any], enc: EncodingChars) -> Field:
    reps: list[Field] = []
    for addr in patient.get("address", []):
        kind = ADDRESS_TYPES.get(addr.get("use", "home"))
        if kind is None:
            continue
        lines = addr.get("line", [])
        reps.append(Field.of(lines[0] if lines else None, " ".join(lines[1:]) or None, addr.get("city"),
                             addr.get("state"), addr.get("postalCode"), addr.get("country"), kind, enc=enc))
    place = next((e.get("valueAddress") for e in patient.get("extension", [])
                  if e.get("url") == BIRTH_PLACE_URL), None)
    if place:
        country = place.get("country") or ""
        reps.append(Field.of(None, None, place.get("city"), None, place.get("postalCode"),
                             country if len(country) == 3 and country.isalpha() else None, "BDL", None,
                             _insee_code(place), enc=enc))
    return Field.repeat(reps, enc)


def _is_lunar(date: str) -> bool:
    """An RNIPP date with an unknown (``00``) month or day, kept as INSi returned it."""
    return date[5:7] == "00" or date[8:10] == "00"


def build_pid(patient: dict[str, Any], *, ipp_authority: AssigningAuthority, set_id: int = 1,
              enc: EncodingChars = DEFAULT_ENCODING,
              reliability_codes: Mapping[str, str] = PAM_FR_RELIABILITY) -> Segment:
    """The PID segment of ``patient`` (a FHIR Patient as a JSON dict)."""
    if patient.get("resourceType") != "Patient":
        raise InvalidInput("build_pid needs a FHIR Patient", expression="resourceType")
    pid = Segment("PID", enc=enc)
    pid.set(1, str(set_id))
    pid.set(3, patient_identifiers(patient, ipp_authority, enc))
    pid.set(5, _names(patient, enc))
    birth_date = patient.get("birthDate")
    if birth_date and not _is_lunar(birth_date):
        pid.set(7, from_fhir(birth_date, expression="Patient.birthDate"))
    pid.set(8, GENDERS.get(patient.get("gender", "unknown"), "U"))
    pid.set(11, _addresses(patient, enc))
    deceased_at = patient.get("deceasedDateTime")
    if deceased_at:
        pid.set(29, from_fhir(deceased_at, expression="Patient.deceasedDateTime"))
    pid.set(30, "Y" if deceased_at or patient.get("deceasedBoolean") else "N")
    pid.set(32, reliability_codes[identity_status(patient)])
    last_updated = (patient.get("meta") or {}).get("lastUpdated")
    if last_updated:
        pid.set(33, from_fhir(last_updated, expression="Patient.meta.lastUpdated"))
    return pid
