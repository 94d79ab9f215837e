"""``validate_cda``: the offline pre-check of a CR-Bio CDA (the ANS online test bench stays authoritative).

Pipeline: extract the ``ClinicalDocument`` (``extract.py``) -> XSD (``xsd.py``) -> the kit's
schematrons for the level (``kit.py``), all compiled once per process (``schematron.py``).
Every schematron runs even when the XSD fails, so one report lists everything.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from lxml import etree

from facades.cda.conformance.extract import HL7_NS, extract_clinical_document
from facades.cda.conformance.kit import Kit, Level, default_kit
from facades.cda.conformance.report import Finding, ValidationReport
from facades.cda.conformance.schematron import CompiledSchematron, cache_dir, compile_schematron, saxon
from facades.cda.conformance.xsd import validate_xsd
from facades.cda.conformance.xslt import LOCATION_PREFIXES
from facades.cda.errors import NotACda
from resources.errors import InvalidInput


def _detect_level(root: etree._Element) -> Level:
    """N1 when the body is a ``nonXMLBody`` (the PDF), N3 otherwise."""
    nonxml = root.find(f"{{{HL7_NS}}}component/{{{HL7_NS}}}nonXMLBody")
    return "N1" if nonxml is not None else "N3"


def schematrons_for(level: Level, kit: Kit | None = None) -> list[CompiledSchematron]:
    """The compiled schematrons for a level; call it at start-up to pay the compilation up front."""
    kit = kit or default_kit()
    fixes = cache_dir() / "kit-fixes"
    return [compile_schematron(entry, rewrites=kit.rewrites(entry, fixes))
            for entry in kit.schematrons(level)]


def _with_lines(findings: list[Finding], tree: etree._ElementTree) -> list[Finding]:
    """Add the source line to schematron findings by resolving their XPath in the lxml tree."""
    namespaces = {prefix: uri for uri, prefix in LOCATION_PREFIXES.items()}
    out = []
    for finding in findings:
        line = None
        if finding.location.startswith("/") and "Q{" not in finding.location:
            path = finding.location.rsplit("/@", 1)[0]
            nodes = tree.xpath(path, namespaces=namespaces) if path else []
            line = getattr(nodes[0], "sourceline", None) if nodes else None
        out.append(replace(finding, line=line))
    return out


def validate_cda(document: bytes | Path, *, level: Level | None = None, kit: Kit | None = None
                 ) -> ValidationReport:
    """Check a CDA (bytes or a file) against the XSD and the ANS schematrons of its level.

    ``level`` defaults to what the body says (``nonXMLBody`` -> N1). Raises ``NotACda`` for input
    that is not XML or has no ClinicalDocument, ``InvalidInput`` for another level, ``KitError`` if
    the kit is unusable. Safe to call from several threads (each schematron runs one document at a
    time).
    """
    if level not in (None, "N3", "N1"):
        raise InvalidInput(f"CDA level must be N3 or N1, not {level!r}", expression="level")
    kit = kit or default_kit()
    if isinstance(document, Path):
        path = document
        try:
            document = path.read_bytes()
        except OSError as exc:
            raise NotACda(f"cannot read {path}: {exc.strerror}", expression=str(path)) from exc
    timings: dict[str, float] = {}
    start = time.perf_counter()
    extracted = extract_clinical_document(document)
    level = level or _detect_level(extracted.tree.getroot())
    findings = validate_xsd(extracted.tree, kit.xsd, LOCATION_PREFIXES)
    timings["xsd"] = (time.perf_counter() - start) * 1000

    compiled = schematrons_for(level, kit)
    mark = time.perf_counter()
    node = saxon().parse_xml(xml_text=extracted.serialize().decode("utf-8"))
    timings["parse"] = (time.perf_counter() - mark) * 1000
    for schematron in compiled:
        mark = time.perf_counter()
        findings.extend(_with_lines(schematron.run(node), extracted.tree))
        timings[schematron.name] = (time.perf_counter() - mark) * 1000
    return ValidationReport(level=level, checked=("xsd", *(s.name for s in compiled)),
                            findings=tuple(findings), extracted_from=extracted.wrapper, timings_ms=timings)
