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
# The ANS kit is not shipped with the project. ``sgl kit install`` puts the files the validator needs
# (``kit_manifest.txt``) under ``<data dir>/kits/ans-cda-testkit``; ``SGL_CDA_KIT_DIR`` names another copy.
# A development checkout also finds the shared copy beside the repository (``../shared/kits/...``).
INSTALL_SUBDIR = Path("kits") / "ans-cda-testkit"
DEFAULT_DATA_DIR = Path("./var")
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


_data_dir: Path | None = None


def use_data_dir(data_dir: Path) -> None:
    """Tell the process its data dir (``sgl serve --data-dir``): a kit installed there is found by ``kit_dir``."""
    global _data_dir
    _data_dir = data_dir


def installed_dir(data_dir: Path | None = None) -> Path:
    """Where ``sgl kit install`` puts the kit for a data dir."""
    return (data_dir or _data_dir or DEFAULT_DATA_DIR) / INSTALL_SUBDIR


def _usable(root: Path) -> bool:
    return (root / XSD).is_file() and (root / VOLET_CR_BIO).is_file()


def kit_dir() -> Path:
    """``$SGL_CDA_KIT_DIR``; else the data dir's installed kit; else the shared development copy when it is
    there; else the data dir's location (where the start-up check and the errors say to install it)."""
    configured = os.environ.get("SGL_CDA_KIT_DIR")
    if configured:
        return Path(configured)
    installed = installed_dir()
    if not _usable(installed) and _usable(DEFAULT_KIT_DIR):
        return DEFAULT_KIT_DIR
    return installed


def default_kit() -> Kit:
    """The kit of ``kit_dir()``; ``KitError`` (503) naming the place and the command that installs it."""
    root = kit_dir()
    if not _usable(root):
        raise KitError(f"ANS CDA test kit not found in {root}: CR-Bio documents cannot be produced nor checked. "
                       "Install it with `sgl kit install` (or `sgl kit install /path/to/a/copy`), or set "
                       "SGL_CDA_KIT_DIR to a complete copy", expression=str(root))
    return Kit(root=root)
