"""XSD validation against the kit's ``CDA_extended.xsd`` (CDA R2 + IHE lab, SDTC, pharm, DICOM).

lxml/libxml2 accepts the schema (its ``schema-for-xslt20.xsd`` import included); compiling takes
about 50 ms, so the schema is compiled once per process per path.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

from lxml import etree

from facades.cda.conformance.report import Finding
from facades.cda.errors import KitError

_lock = threading.Lock()


@functools.lru_cache(maxsize=4)
def _schema(path: Path) -> etree.XMLSchema:
    try:
        return etree.XMLSchema(etree.parse(str(path)))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise KitError(f"CDA schema {path} is unusable: {exc}", expression=str(path)) from exc


def _xpath(tree: etree._ElementTree, line: int | None, prefixes: dict[str, str]) -> str:
    """The first element starting on ``line`` as a prefixed XPath (libxml2 only gives the line)."""
    if line is None:
        return ""
    for element in tree.getroot().iter():
        if isinstance(element.tag, str) and element.sourceline == line:
            steps = []
            node: etree._Element | None = element
            while node is not None:
                q = etree.QName(node)
                prefix = prefixes.get(q.namespace or "")
                name = f"{prefix}:{q.localname}" if prefix else q.localname
                parent = node.getparent()
                index = 1 if parent is None else 1 + sum(1 for s in node.itersiblings(preceding=True)
                                                         if s.tag == node.tag)
                steps.append(f"/{name}[{index}]")
                node = parent
            return "".join(reversed(steps))
    return ""


def validate_xsd(tree: etree._ElementTree, schema_path: Path, prefixes: dict[str, str]) -> list[Finding]:
    """XSD errors as findings with line and, when the line names an element, its XPath."""
    schema = _schema(schema_path.resolve())
    with _lock:  # an lxml XMLSchema keeps its error log on the object
        schema.validate(tree)
        errors = [(e.line, e.message) for e in schema.error_log]
    return [Finding(severity="error", source="xsd", message=message, line=line or None,
                    location=_xpath(tree, line, prefixes))
            for line, message in errors]
