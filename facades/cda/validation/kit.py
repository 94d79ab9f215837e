"""The ANS CDA test kit (TestContenuCDA 3.0, ``ansforge/TestContenuCDA-3-0@7cd489b3``): where it is and
which of its files check what.

Mapping (kit ``00 CI-SIS_TestContenuCDA-LISEZ-MOI`` §5.2.1: every CI-SIS document passes the generic
"profile" schematrons; the volet schematron applies to structured N3 only):

=============================================================  =====  =====  ==========================
file (under ``schematrons/``)                                  N3     N1     checks
=============================================================  =====  =====  ==========================
``../infrastructure/cda/CDA_extended.xsd`` (XSD)                yes    yes    CDA R2 + lab/sdtc/pharm/dicom
``profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch``  yes    yes    CI-SIS header (entête), INS
``profils/IHE.sch``                                             yes    yes    IHE sections/entries (body)
``profils/CI-SIS_ModelesDeContenusCDA.sch``                     yes    yes    FR body, IHE-based models
``profils/CI-SIS_Modeles_ANS.sch``                              yes    yes    FR body, ANS models
``profils/terminologies/schematron/terminologie.sch``           yes    yes    codes exist (UCUM units)
``CI-SIS_BIO-CR-BIO_2024.01.sch``                               yes    no     volet CR-BIO 2024.01
=============================================================  =====  =====  ==========================

``terminologie.sch`` checks code existence only for code systems whose ``<oid>.rdf`` is in the kit;
the LOINC/SNOMED RDFs are not shipped, so in practice it checks UCUM units.

Upstream defects repaired without touching the kit (the kit stays read-only):

* ``profils/IHE.sch`` includes ``E_directiveAnticipee_int.sch``, on disk ``E_directiveanticipee_int.sch``:
  ``assemble.py`` resolves includes case-insensitively when the exact name is missing.
* The header rule on ``ClinicalDocument/code`` reads ``include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml``,
  a file the kit never had (a fatal FODC0002 in Saxon). Value set 1.2.250.1.213.1.1.5.471 is
  ``jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml`` (IHE SVS); we write its codes in the Art-Decor
  shape the rule reads (``/*/valueSet/conceptList/concept/@code``) into the cache and point the rule
  at that file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from lxml import etree

from facades.cda.errors import KitError

Level = Literal["N3", "N1"]
# The ANS kit is not copied into the project: by default it is read from the shared/ folder beside the
# repository (development, CI); an installation points SGL_CDA_KIT_DIR at its copy of the kit.
DEFAULT_KIT_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "kits" / "ans-cda-testkit"
XSD = Path("infrastructure/cda/CDA_extended.xsd")
GENERIC = (
    Path("schematrons/profils/structurationMinimale/ASIP-STRUCT-MIN-StrucMin.sch"),
    Path("schematrons/profils/IHE.sch"),
    Path("schematrons/profils/CI-SIS_ModelesDeContenusCDA.sch"),
    Path("schematrons/profils/CI-SIS_Modeles_ANS.sch"),
    Path("schematrons/profils/terminologies/schematron/terminologie.sch"),
)
VOLET_CR_BIO = Path("schematrons/CI-SIS_BIO-CR-BIO_2024.01.sch")

_J07_VOC = "include/voc-1.2.250.1.213.1.1.5.471-DYNAMIC.xml"
_J07_SVS = Path("jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml")
_SVS = "urn:ihe:iti:svs:2008"


@dataclass(frozen=True)
class Kit:
    """A copy of the ANS kit on disk."""

    root: Path

    @property
    def xsd(self) -> Path:
        return self.root / XSD

    def schematrons(self, level: Level) -> tuple[Path, ...]:
        """The schematrons a document of this level must pass, generic ones first."""
        volet = (VOLET_CR_BIO,) if level == "N3" else ()
        return tuple(self.root / p for p in (*GENERIC, *volet))

    def rewrites(self, entry: Path, fixes_dir: Path) -> dict[str, str]:
        """Literal replacements that repair the kit's missing files for this schematron."""
        if entry.name != GENERIC[0].name or (entry.parent / _J07_VOC).is_file():
            return {}
        target = fixes_dir / Path(_J07_VOC).name
        if not target.is_file():
            fixes_dir.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(_art_decor_value_set(self.root / _J07_SVS))
            tmp.replace(target)
        return {f"doc('{_J07_VOC}')": f"doc('{target.resolve().as_uri()}')"}


def _art_decor_value_set(svs_file: Path) -> bytes:
    """An SVS value set rewritten as Art-Decor's ``valueSets/valueSet/conceptList/concept``."""
    svs = etree.parse(str(svs_file)).getroot()
    value_set = svs.find(f"{{{_SVS}}}ValueSet")
    out = etree.Element("valueSets")
    vs = etree.SubElement(out, "valueSet", id=value_set.get("id", "") if value_set is not None else "")
    concepts = etree.SubElement(vs, "conceptList")
    for concept in svs.iter(f"{{{_SVS}}}Concept"):
        etree.SubElement(concepts, "concept", code=concept.get("code", ""),
                         codeSystem=concept.get("codeSystem", ""), displayName=concept.get("displayName", ""))
    return bytes(etree.tostring(out, xml_declaration=True, encoding="UTF-8"))


def default_kit() -> Kit:
    """The kit named by ``$SGL_CDA_KIT_DIR``, else the shared copy; ``KitError`` if it is not there."""
    root = Path(os.environ.get("SGL_CDA_KIT_DIR") or DEFAULT_KIT_DIR)
    if not (root / XSD).is_file() or not (root / VOLET_CR_BIO).is_file():
        raise KitError(f"ANS CDA test kit not found in {root} (set SGL_CDA_KIT_DIR)", expression=str(root))
    return Kit(root=root)
