"""The body schematrons' split walk (xslt.py ``_walk``: the rules that need a templateId only on elements that
carry one, no dispatch elsewhere) and their code-list lookups through keys (lookups.py). On faulty documents
they must give exactly the findings of the reference rendering (every rule on every element, the lookups
scanning), and the faults must still be reported."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from facades.cda.conformance.assemble import assemble
from facades.cda.conformance.extract import extract_clinical_document
from facades.cda.conformance.kit import GENERIC, VOLET_CR_BIO, Kit
from facades.cda.conformance.schematron import CompiledSchematron, cache_dir, saxon
from facades.cda.conformance.xslt import render

HL7 = "urn:hl7-org:v3"
NS = {"cda": HL7}
BATTERY = "1.3.6.1.4.1.19376.1.3.1.4"
EXAMPLE = "BIO-CR-BIO_2024.01_Microbiologie_V2.xml"  # batteries, isolates, units: the body rules at work
BODY = (*GENERIC[1:], VOLET_CR_BIO)
Change = Callable[[etree._Element], None]
Findings = list[tuple[str, str, str, str | None]]


def _compiled(kit: Kit, path: Path, reference: bool) -> CompiledSchematron:
    entry = (kit.root / path).resolve()
    schema, _ = assemble(entry, rewrites=kit.rewrites(entry, cache_dir() / "kit-fixes"))
    xslt = render(schema, entry.parent, prune=not reference)
    executable = saxon().new_xslt30_processor().compile_stylesheet(stylesheet_text=xslt.decode(), encoding="UTF-8")
    executable.set_save_xsl_message(True)
    return CompiledSchematron(name=entry.name, executable=executable)


@pytest.fixture(scope="module")
def renderings(kit: Kit) -> dict[str, tuple[CompiledSchematron, CompiledSchematron]]:
    """Each body schematron compiled twice: the reference and the one the validator runs."""
    return {path.name: (_compiled(kit, path, True), _compiled(kit, path, False)) for path in BODY}


def _first(root: etree._Element, xpath: str) -> etree._Element:
    found = root.xpath(xpath, namespaces=NS)
    assert found, xpath
    return found[0]


def _battery(root: etree._Element) -> etree._Element:
    return _first(root, f"//cda:organizer[cda:templateId/@root='{BATTERY}']")


def _battery_class(root: etree._Element) -> None:
    _battery(root).set("classCode", "CLUSTER")


def _battery_status(root: etree._Element) -> None:
    battery = _battery(root)
    battery.remove(_first(battery, "cda:statusCode"))


def _battery_id_dropped(root: etree._Element) -> None:
    """The organizer no longer says it is a battery: it is walked as an element without templateId."""
    battery = _battery(root)
    for template in battery.findall(f"{{{HL7}}}templateId"):
        battery.remove(template)


def _battery_id_on_a_specimen(root: etree._Element) -> None:
    """A battery templateId on an element that had none: now walked with the templateId rules, which fail."""
    specimen = _first(root, "//cda:specimen[not(cda:templateId)]")
    specimen.insert(0, etree.Element(f"{{{HL7}}}templateId", root=BATTERY))


def _unknown_unit(root: etree._Element) -> None:
    _first(root, "//cda:value[@unit]").set("unit", "microg/mL")


def _no_observation_code(root: etree._Element) -> None:
    observation = _first(root, "//cda:observation[cda:templateId/@root='1.3.6.1.4.1.19376.1.3.1.6']")
    observation.remove(_first(observation, "cda:code"))


FAULTS: dict[str, tuple[Change | None, str | None]] = {
    "as published": (None, None),
    "battery not a BATTERY": (_battery_class, "IHE.sch"),
    "battery without statusCode": (_battery_status, "IHE.sch"),
    "battery without templateId": (_battery_id_dropped, None),  # no body rule asks for it: same findings
    "battery templateId on a specimen": (_battery_id_on_a_specimen, "IHE.sch"),
    "unit not in UCUM": (_unknown_unit, "terminologie.sch"),
    "observation without code": (_no_observation_code, "IHE.sch"),
}


def _findings(compiled: CompiledSchematron, document: bytes) -> Findings:
    node = saxon().parse_xml(xml_text=extract_clinical_document(document).serialize().decode("utf-8"))
    return sorted((f.severity, f.message, f.location, f.rule_id) for f in compiled.run(node))


def _errors(findings: Findings) -> int:
    return sum(1 for finding in findings if finding[0] == "error")


@pytest.mark.parametrize("fault", list(FAULTS))
def test_split_walk_gives_the_reference_findings_and_reports_the_fault(
        renderings: dict[str, tuple[CompiledSchematron, CompiledSchematron]], kit: Kit, fault: str) -> None:
    published = etree.parse(str(kit.root / "ExemplesCDA" / EXAMPLE)).getroot()
    root = copy.deepcopy(published)
    change, reported_by = FAULTS[fault]
    if change is not None:
        change(root)
    document = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    changed = False
    for name, (reference, validator) in renderings.items():
        expected = _findings(reference, document)
        assert _findings(validator, document) == expected, name
        baseline = _findings(reference, etree.tostring(published))
        changed = changed or expected != baseline
        if name == reported_by:
            assert _errors(expected) > _errors(baseline), name
    assert changed is (reported_by is not None), fault


def test_the_validator_rendering_splits_the_walk_and_indexes_the_lookups(kit: Kit) -> None:
    for path, keyed in ((GENERIC[1], False), (GENERIC[-1], True)):
        entry = (kit.root / path).resolve()
        schema, _ = assemble(entry, rewrites=kit.rewrites(entry, cache_dir() / "kit-fixes"))
        rendered, reference = render(schema, entry.parent), render(schema, entry.parent, prune=False)
        assert b'mode="sgl:check-plain"' in rendered and b"sgl:check-plain" not in reference
        assert (b"<xsl:key " in rendered) is keyed
