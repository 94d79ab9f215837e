"""The laboratory's identity as printed on every CR-Bio: one JSON profile, read once per path.

Why a file rather than a dozen ``SGL_*`` variables: the profile is structured (address lines, the
responsible biologist) and versioned with the site's configuration; ``SGL_LAB_PROFILE`` names it,
and the shipped ``lab_profile.json`` is the development default. An error names the JSON key.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facades.cda import Mentions, Party, is_oid
from facades.pdf import Laboratory, PdfInputError, ReportTexts
from resources.errors import InvalidInput

DEFAULT_PROFILE = Path(__file__).parent / "lab_profile.json"
FINESS_SYSTEM = "http://finess.sante.gouv.fr"
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"
SPECIALTY_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.5"
COFRAC_SYSTEM = "urn:oid:1.2.250.1.213.6.3.1"
LAB_ORGANIZATION_ID = "sgl-laboratoire"
SINGLE_VERSION, TWO_VERSIONS = "single", "patient-professional"
VERSION_SETTINGS = (SINGLE_VERSION, TWO_VERSIONS)
"""The general setting of SGL.DOC.02: one CR-Bio version, or a patient and a professional one (``audience.py``)."""


@dataclass(frozen=True)
class LabProfile:
    name: str
    finess: str
    address: dict[str, Any]
    phone: str
    oid_root: str
    responsible_biologist: dict[str, str]
    rgpd: str
    cofrac_number: str | None = None
    extra_traits: list[str] | None = None
    """Optional identity traits printed besides the rule-32 minimum (SGL.INS.52); unset: all of them."""
    autoverification: str | None = None
    """The notice printed (PDF and N3) when a result was validated by the rules with no later review
    (SGL.DOC.09); unset: the shipped wording of ``facades.pdf.ReportTexts``."""
    identifier_oids: dict[str, str] | None = None
    """Patient identifier domain -> the OID registered for it, for IPPs whose assigning authority is not an
    ISO OID (PAM-FR ``CHU-X&000897406&N``): keys are the FHIR system (``urn:oid:000897406``) or the bare
    authority id (``000897406``). An unmapped non-ISO domain is left out of the CDA (the INS stays)."""
    versions: str = SINGLE_VERSION
    """``single`` or ``patient-professional`` (SGL.DOC.02); an administrator's saved choice overrides it."""

    @property
    def organization(self) -> dict[str, Any]:
        """The executing laboratory as a FHIR Organization (author of our documents)."""
        identifiers = [{"system": FINESS_SYSTEM, "value": self.finess}]
        if self.cofrac_number:  # the accreditation id the CR-BIO header carries (assigningAuthorityName COFRAC)
            identifiers.append({"system": COFRAC_SYSTEM, "value": self.cofrac_number})
        return {"resourceType": "Organization", "id": LAB_ORGANIZATION_ID, "name": self.name,
                "identifier": identifiers,
                "telecom": [{"system": "phone", "value": self.phone, "use": "work"}], "address": [self.address]}

    def laboratory(self) -> Laboratory:
        lines = [*self.address.get("line", ()), f"{self.address.get('postalCode', '')} {self.address.get('city', '')}"]
        return Laboratory(name=self.name, address=[line.strip() for line in lines if line.strip()],
                          finess=self.finess, phone=self.phone, biologists=[self.biologist_name],
                          cofrac_number=self.cofrac_number)

    def texts(self) -> ReportTexts:
        settings: dict[str, Any] = {"rgpd": self.rgpd}
        if self.extra_traits is not None:
            settings["extra_traits"] = list(self.extra_traits)
        if self.autoverification:
            settings["autoverification"] = self.autoverification
        return ReportTexts(**settings)

    def mentions(self) -> Mentions:
        """The same texts for the N3 narrative (SGL.DOC.08-10 apply to N3, N1 and PDF alike)."""
        texts, lab = self.texts(), self.laboratory()
        return Mentions(rgpd=texts.rgpd, autoverification=texts.autoverification, cofrac_number=self.cofrac_number,
                        cofrac_activity=lab.cofrac_activity, cofrac_scope=lab.cofrac_scope)

    @property
    def biologist_name(self) -> str:
        bio = self.responsible_biologist
        return f"Dr {bio.get('given', '')} {bio.get('family', '')}".strip()

    def responsible(self) -> Party:
        """The biologist who answers for reports validated by the rules (no resultsInterpreter)."""
        bio = self.responsible_biologist
        return Party({"resourceType": "Practitioner", "id": "responsable",
                      "identifier": [{"system": RPPS_SYSTEM, "value": bio.get("rpps", "")}],
                      "name": [{"family": bio.get("family", ""), "given": [bio.get("given", "")], "prefix": ["Dr"]}],
                      "telecom": [{"system": "phone", "value": self.phone, "use": "work"}]},
                     {"resourceType": "PractitionerRole", "specialty": [{"coding": [
                         {"system": SPECIALTY_SYSTEM, "code": "G15_10/SM03",
                          "display": "Médecin - Biologie médicale (SM)"}]}]},
                     self.organization)


@functools.lru_cache(maxsize=4)
def load_profile(path: Path | None = None) -> LabProfile:
    where = path or DEFAULT_PROFILE
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"lab profile {where}: {exc}", expression=str(where)) from exc
    missing = [k for k in ("name", "finess", "address", "phone", "oid_root", "responsible_biologist", "rgpd")
               if not data.get(k)]
    if missing:
        raise InvalidInput(f"lab profile {where} lacks {', '.join(missing)}", expression=f"$.{missing[0]}")
    bad_oids = [f"$.{key}" for key, value in [("oid_root", data["oid_root"]),
                                               *((f"identifier_oids.{k}", v)
                                                 for k, v in (data.get("identifier_oids") or {}).items())]
                if not isinstance(value, str) or not is_oid(value)]
    if data.get("versions", SINGLE_VERSION) not in VERSION_SETTINGS:
        raise InvalidInput(f"lab profile {where}: versions must be one of {', '.join(VERSION_SETTINGS)}",
                           expression="$.versions")
    if bad_oids:
        raise InvalidInput(f"lab profile {where}: {', '.join(bad_oids)} must be ISO OIDs (1.2.250.…)",
                           expression=bad_oids)
    try:
        profile = LabProfile(**data)
        profile.texts()  # an unknown extra trait is refused now, not at the first report
    except TypeError as exc:
        raise InvalidInput(f"lab profile {where}: {exc}", expression="$") from exc
    except PdfInputError as exc:
        raise InvalidInput(f"lab profile {where}: {exc.diagnostics}", expression="$.extra_traits") from exc
    return profile
