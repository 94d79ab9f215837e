"""The codes of ``IHE_XDM/SUBSET01/METADATA.XML`` checked against the ANS value sets shipped in the shared kits
(JDV_J02 healthcareFacilityType, J04 practiceSetting, J07 typeCode, J08 confidentiality: read from
``/work/shared/kits``, never copied here) and the formatCode against the shared reference notes (JDV_J10 is
not in the kits). The header codes come from the CDA itself; without them, the defaults must be members too."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from lxml import etree

from facades.mssante.xdm import ENTRY_SCHEMES, SET_SCHEMES, XdmSource, build_xdm
from tests.support.ans_value_sets import SHARED, value_set
from tests.support.mssante import KIT_N3

RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
SOURCE = XdmSource("1.2.250.1.999.1", "Laboratoire OpenSGL", "secretariat@labo-opensgl.mssante.fr")


def _codes(document: bytes) -> dict[str, tuple[str, str, str]]:
    """Classification scheme name -> (code, codingScheme, display) of the DocumentEntry and SubmissionSet."""
    archive = zipfile.ZipFile(io.BytesIO(build_xdm(document, SOURCE)[0]))
    metadata = etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
    names = {v: k for k, v in {**ENTRY_SCHEMES, **SET_SCHEMES}.items()}
    found = {}
    for node in metadata.iter(f"{{{RIM}}}Classification"):
        scheme = names.get(str(node.get("classificationScheme")))
        if scheme and node.get("nodeRepresentation"):
            system = node.find(f"{{{RIM}}}Slot[@name='codingScheme']/{{{RIM}}}ValueList/{{{RIM}}}Value")
            name = node.find(f"{{{RIM}}}Name/{{{RIM}}}LocalizedString")
            found[scheme] = (str(node.get("nodeRepresentation")), str(system.text if system is not None else ""),
                             str(name.get("value") if name is not None else ""))
    return found


def _without_setting_codes(document: bytes) -> bytes:
    root = etree.fromstring(document)
    for path in ("//cda:healthCareFacility/cda:code", "//cda:standardIndustryClassCode"):
        for node in root.xpath(path, namespaces={"cda": "urn:hl7-org:v3"}):
            node.getparent().remove(node)
    return bytes(etree.tostring(root))


@pytest.mark.req("SGL.MSS.17")
@pytest.mark.parametrize("document", [pytest.param(KIT_N3.read_bytes(), id="codes-from-the-cda"),
                                      pytest.param(_without_setting_codes(KIT_N3.read_bytes()), id="defaults")])
def test_xdm_codes_are_members_of_the_ans_value_sets_SGL_MSS_17(document: bytes) -> None:
    codes = _codes(document)
    for scheme, file_name in (("healthcareFacilityTypeCode", "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS.xml"),
                              ("practiceSettingCode", "JDV_J04_XdsPracticeSettingCode_CISIS.xml"),
                              ("typeCode", "JDV_J07_XdsTypeCode_CISIS.xml"),
                              ("confidentialityCode", "JDV_J08_XdsConfidentialityCode_CISIS.xml")):
        code, system, display = codes[scheme]
        members = value_set(file_name)
        assert (code, system) in members, (scheme, code, system)
        assert display == members[(code, system)], (scheme, display)  # the value set's own label
    assert codes["healthcareFacilityTypeCode"][0] == "SA25"  # the CR-Bio's lab (J02: SA29 is "d'analyses et de…")
    reference = (SHARED / "reference/transports-and-dependencies.md").read_text(encoding="utf-8")
    row = next(line for line in reference.splitlines() if line.startswith("| formatCode |"))
    code, system, _ = codes["formatCode"]
    assert f"**`{code}`**" in row and f"`{system}`" in row
    assert codes["classCode"][:2] == ("10", "1.2.250.1.213.1.1.4.1")  # TRE_A03 "Compte rendu" (not in the kits)
    assert re.fullmatch(r"\d{2}", codes["contentTypeCode"][0]) and codes["contentTypeCode"][1] == "1.2.250.1.213.2.2"
