"""The header schematron's walk by path (xslt.py ``_path_walk``, contexts.walk_plan): each element matched
only against the rules of its path, no walk where no path leads. On faulty documents it must give exactly the
findings of the full walk (same messages, same locations, same rules)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from lxml import etree

from facades.cda.conformance.assemble import assemble
from facades.cda.conformance.extract import extract_clinical_document
from facades.cda.conformance.kit import GENERIC, Kit
from facades.cda.conformance.schematron import CompiledSchematron, cache_dir, saxon
from facades.cda.conformance.xslt import render

HL7 = "urn:hl7-org:v3"
NS = {"cda": HL7}
Change = Callable[[etree._Element], None]


def _compiled(kit: Kit, prune: bool) -> CompiledSchematron:
    entry = (kit.root / GENERIC[0]).resolve()
    schema, _ = assemble(entry, rewrites=kit.rewrites(entry, cache_dir() / "kit-fixes"))
    xslt = render(schema, entry.parent, prune=prune)
    executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=xslt.decode(), encoding="UTF-8")
    executable.set_save_xsl_message(True)
    return CompiledSchematron(name=entry.name, executable=executable)


@pytest.fixture(scope="module")
def walks(kit: Kit) -> tuple[CompiledSchematron, CompiledSchematron]:
    """StrucMin compiled twice: the full walk (the reference) and the walk by path."""
    return _compiled(kit, prune=False), _compiled(kit, prune=True)


def _drop(xpath: str) -> Change:
    def change(root: etree._Element) -> None:
        found = root.xpath(xpath, namespaces=NS)
        assert found, xpath
        for node in found:
            node.getparent().remove(node)
    return change


def _add_to_author(root: etree._Element) -> None:
    """An element the closed author template does not allow."""
    author = root.find(f"{{{HL7}}}author/{{{HL7}}}assignedAuthor")
    assert author is not None
    etree.SubElement(author, f"{{{HL7}}}bogus")


def _add_to(path: str) -> Change:
    """An element the closed template at ``path`` (deep in the header) does not allow."""
    def change(root: etree._Element) -> None:
        found = root.xpath(path, namespaces=NS)
        assert found, path
        etree.SubElement(found[0], f"{{{HL7}}}bogus")
    return change


def _nested_document(root: etree._Element) -> None:
    """A faulty ClinicalDocument deep inside the body (no real CDA has one): the rules are anchored at any
    ClinicalDocument, so such a document takes the full walk and its nested header is still checked."""
    nested = copy.deepcopy(root)
    for child in nested.findall(f"{{{HL7}}}component") + nested.findall(f"{{{HL7}}}author"):
        nested.remove(child)
    section = root.find(f".//{{{HL7}}}section")
    assert section is not None
    etree.SubElement(etree.SubElement(section, f"{{{HL7}}}text"), f"{{{HL7}}}content").append(nested)


def _bogus_in_body(root: etree._Element) -> None:
    section = root.find(f".//{{{HL7}}}section")
    assert section is not None
    etree.SubElement(section, f"{{{HL7}}}bogus")


FAULTS: dict[str, Change | None] = {
    "as published": None,
    "no header templateId": _drop("/cda:ClinicalDocument/cda:templateId[@root='1.2.250.1.213.1.1.1.1']"),
    "no recordTarget": _drop("/cda:ClinicalDocument/cda:recordTarget"),
    "no patient birthTime": _drop("//cda:patientRole/cda:patient/cda:birthTime"),
    "element outside the author template": _add_to_author,
    "no custodian": _drop("/cda:ClinicalDocument/cda:custodian"),
    "element outside the patient template": _add_to("/cda:ClinicalDocument/cda:recordTarget/cda:patientRole/"
                                                    "cda:patient"),
    "element in the custodian's organisation": _add_to("//cda:custodian/cda:assignedCustodian/"
                                                       "cda:representedCustodianOrganization"),
    "no legal authenticator time": _drop("/cda:ClinicalDocument/cda:legalAuthenticator/cda:time"),
    "faulty ClinicalDocument nested in the body": _nested_document,
    "unknown element in the body": _bogus_in_body,
}


def _findings(compiled: CompiledSchematron, document: bytes) -> list[tuple[str, str, str, str | None]]:
    node = saxon().parse_xml(xml_text=extract_clinical_document(document).serialize().decode("utf-8"))
    return [(f.severity, f.message, f.location, f.rule_id) for f in compiled.run(node)]


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("example", ["BIO-CR-BIO_2024.01_Microbiologie_V2.xml", "BIO-CR-BIO_2024.01_TSH_1.xml"])
def test_walk_with_stops_gives_the_full_walks_findings(walks: tuple[CompiledSchematron, CompiledSchematron],
                                                       kit: Kit, example: str, fault: str) -> None:
    published = etree.parse(str(kit.root / "ExemplesCDA" / example)).getroot()
    root = copy.deepcopy(published)
    change = FAULTS[fault]
    if change is not None:
        change(root)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    full, stopped = (_findings(compiled, document) for compiled in walks)
    assert stopped == full
    baseline = _findings(walks[0], etree.tostring(published))
    if fault == "faulty ClinicalDocument nested in the body":
        assert any("/cda:component[1]/" in location for severity, _, location, _ in full if severity == "error")
    elif fault in ("as published", "unknown element in the body"):
        assert full == baseline  # StrucMin checks the header only (the XSD catches the body's element)
    else:
        assert len(full) > len(baseline), f"{fault}: the header schematron should report it"


def test_only_the_header_schematron_is_walked_by_path(kit: Kit) -> None:
    """StrucMin is the one with only anchored paths; the templateId-dispatched ones walk everything."""
    for path, by_path in ((GENERIC[0], True), (GENERIC[1], False)):
        entry = (kit.root / path).resolve()
        schema, _ = assemble(entry, rewrites=kit.rewrites(entry, cache_dir() / "kit-fixes"))
        assert (b'mode="sgl:root"' in render(schema, entry.parent)) is by_path
        assert b'mode="sgl:root"' not in render(schema, entry.parent, prune=False)
