"""Render a concrete schema (see ``assemble.py``) as one XSLT 3.0 stylesheet emitting SVRL (step 2).

Unlike the ISO skeleton, which walks the whole document once per pattern (the kit's profiles have up
to 250 patterns, so hundreds of walks), the document is walked **once**, in a single mode:

* every rule becomes a template; rule *r* of pattern *p* gets a priority that decreases with the
  rule's global order, so the first rule of a pattern outranks its later rules;
* a template reports its asserts then calls ``xsl:next-match``, handing on the list of patterns that
  already fired on this node, so that, as Schematron requires, at most one rule per pattern fires
  on a node while every pattern still sees it;
* the lowest template continues the walk into attributes and child elements.

Saxon indexes templates by element name, so a node only meets the rules whose context can match it.
Each rule body runs in ``xsl:try``: a rule that cannot be evaluated (a value set missing from the
kit, say) becomes one error finding instead of aborting the whole report.

Output: ``svrl:schematron-output`` with ``svrl:failed-assert`` and ``svrl:successful-report`` only
(no ``fired-rule`` / ``active-pattern`` noise), each with ``@test``, ``@role``, ``@see``,
``@location`` (an XPath with the ``cda:`` prefix for ``urn:hl7-org:v3``) and, in the ``sgl``
namespace, the pattern and rule ids.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from facades.cda.validation.assemble import SCH_NS

XSL_NS = "http://www.w3.org/1999/XSL/Transform"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
SGL_NS = "urn:opensgl:schematron"
LOCATION_PREFIXES = {
    "urn:hl7-org:v3": "cda",
    "urn:oid:1.3.6.1.4.1.19376.1.3.2": "lab",
    "urn:hl7-org:sdtc": "sdtc",
    "urn:ihe:pharm:medication": "pharm",
    "urn:dicom-org:ps3-20": "ps3-20",
    "http://www.w3.org/2001/XMLSchema-instance": "xsi",
}
_S = f"{{{SCH_NS}}}"
_X = f"{{{XSL_NS}}}"
_V = f"{{{SVRL_NS}}}"
_G = f"{{{SGL_NS}}}"

# The helpers every compiled stylesheet shares: where a node is, and the walk itself.
_PRELUDE = f"""<xsl:stylesheet xmlns:xsl="{XSL_NS}" xmlns:xs="http://www.w3.org/2001/XMLSchema"
  xmlns:svrl="{SVRL_NS}" xmlns:sgl="{SGL_NS}">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:variable name="sgl:prefixes" as="map(xs:string, xs:string)"
    select="map {{ {', '.join(f"'{uri}': '{prefix}'" for uri, prefix in LOCATION_PREFIXES.items())} }}"/>
  <xsl:function name="sgl:step" as="xs:string">
    <xsl:param name="n" as="node()"/>
    <xsl:variable name="uri" select="namespace-uri($n)"/>
    <xsl:variable name="qname" select="if ($uri = '') then local-name($n)
        else if (map:contains($sgl:prefixes, $uri)) then $sgl:prefixes($uri) || ':' || local-name($n)
        else 'Q{{' || $uri || '}}' || local-name($n)" xmlns:map="http://www.w3.org/2005/xpath-functions/map"/>
    <xsl:sequence select="if ($n instance of attribute()) then '/@' || $qname
        else if ($n instance of element())
        then '/' || $qname || '[' || (count($n/preceding-sibling::*[node-name() = node-name($n)]) + 1) || ']'
        else '/' || name($n)"/>
  </xsl:function>
  <xsl:function name="sgl:location" as="xs:string">
    <xsl:param name="n" as="node()"/>
    <xsl:sequence select="if ($n instance of document-node()) then '/'
        else string-join(for $a in $n/ancestor-or-self::node()[not(. instance of document-node())]
                         return sgl:step($a))"/>
  </xsl:function>
  <xsl:template match="/">
    <svrl:schematron-output>
      <xsl:apply-templates select="." mode="sgl:check"/>
    </svrl:schematron-output>
  </xsl:template>
  <xsl:template match="/|*" mode="sgl:check" priority="-1000">
    <xsl:apply-templates select="@*|*" mode="sgl:check"/>
  </xsl:template>
  <xsl:template match="@*|text()|comment()|processing-instruction()" mode="sgl:check" priority="-1000"/>
</xsl:stylesheet>"""


def _avt(text: str) -> str:
    """A literal for an attribute value template."""
    return text.replace("{", "{{").replace("}", "}}")


def _message(check: etree._Element, out: etree._Element) -> None:
    """Copy an assert's mixed content into ``svrl:text``, turning value-of / name into XSLT."""
    text = etree.SubElement(out, f"{_V}text")
    text.text = check.text
    for child in check:
        if not isinstance(child.tag, str):
            continue
        if child.tag == f"{_S}value-of":
            node = etree.SubElement(text, f"{_X}value-of", select=child.get("select", "."))
        elif child.tag == f"{_S}name":
            node = etree.SubElement(text, f"{_X}value-of", select=f"name({child.get('path', '.')})")
        else:  # emph, dir, span: keep their text
            node = etree.SubElement(text, f"{_X}text")
            node.text = "".join(child.itertext())
        node.tail = child.tail


def _check(check: etree._Element, pattern_id: str, rule_id: str, body: etree._Element) -> None:
    test = check.get("test", "true()")
    failed = check.tag == f"{_S}assert"
    cond = etree.SubElement(body, f"{_X}if", test=f"not({test})" if failed else test)
    out = etree.SubElement(cond, f"{_V}failed-assert" if failed else f"{_V}successful-report",
                           test=_avt(test), location="{sgl:location(.)}")
    out.set(f"{_G}pattern", _avt(pattern_id))
    out.set(f"{_G}rule", _avt(rule_id))
    for attr in ("role", "see", "id"):
        if check.get(attr):
            out.set(attr, _avt(check.get(attr, "")))
    _message(check, out)


def _rule(rule: etree._Element, index: int, pattern_no: int, pattern_id: str, priority: int,
          root: etree._Element) -> None:
    rule_id = rule.get("id") or f"{pattern_id}#{index}"
    tpl = etree.SubElement(root, f"{_X}template", match=rule.get("context", ""), mode="sgl:check",
                           priority=str(priority))
    etree.SubElement(tpl, f"{_X}param", name="sgl:fired", select="()", **{"as": "xs:integer*"})
    choose = etree.SubElement(tpl, f"{_X}choose")
    skip = etree.SubElement(choose, f"{_X}when", test=f"$sgl:fired = {pattern_no}")
    etree.SubElement(etree.SubElement(skip, f"{_X}next-match"), f"{_X}with-param",
                     name="sgl:fired", select="$sgl:fired")
    run = etree.SubElement(choose, f"{_X}otherwise")
    attempt = etree.SubElement(run, f"{_X}try")
    for item in rule:
        if item.tag == f"{_S}let":
            etree.SubElement(attempt, f"{_X}variable", name=item.get("name", ""),
                             select=item.get("value", ""))
        elif item.tag in (f"{_S}assert", f"{_S}report"):
            _check(item, pattern_id, rule_id, attempt)
    catch = etree.SubElement(attempt, f"{_X}catch")
    broken = etree.SubElement(catch, f"{_V}failed-assert", role="error", test="",
                              location="{sgl:location(.)}")
    broken.set(f"{_G}pattern", _avt(pattern_id))
    broken.set(f"{_G}rule", _avt(rule_id))
    broken.set(f"{_G}broken", "true")
    etree.SubElement(etree.SubElement(broken, f"{_V}text"), f"{_X}value-of",
                     select="'rule could not be evaluated: ' || $err:code || ' ' || $err:description",
                     nsmap={"err": "http://www.w3.org/2005/xqt-errors"})
    etree.SubElement(etree.SubElement(run, f"{_X}next-match"), f"{_X}with-param",
                     name="sgl:fired", select="($sgl:fired, " + str(pattern_no) + ")")


def render(schema: etree._Element, base_dir: Path) -> bytes:
    """The XSLT for a concrete schema; ``base_dir`` (the .sch folder) anchors its relative doc() paths."""
    nsmap: dict[str | None, str] = {"xsl": XSL_NS, "xs": "http://www.w3.org/2001/XMLSchema",
                                    "svrl": SVRL_NS, "sgl": SGL_NS}
    for ns in schema.iter(f"{_S}ns"):
        nsmap.setdefault(ns.get("prefix"), ns.get("uri", ""))
    prelude = etree.fromstring(_PRELUDE)
    excluded = " ".join(str(p) for p in nsmap if p not in ("svrl", "sgl"))
    root = etree.Element(f"{_X}stylesheet", nsmap=nsmap, version="3.0",
                         **{"exclude-result-prefixes": excluded})
    root.set("{http://www.w3.org/XML/1998/namespace}base", base_dir.resolve().as_uri() + "/")
    root.extend(prelude)
    for let in schema.iterchildren(f"{_S}let"):
        etree.SubElement(root, f"{_X}variable", name=let.get("name", ""), select=let.get("value", ""))
    rules = [(p, r) for p in schema.iterchildren(f"{_S}pattern") for r in p.iterchildren(f"{_S}rule")]
    priority = len(rules)
    for pattern_no, pattern in enumerate(schema.iterchildren(f"{_S}pattern"), start=1):
        pattern_id = pattern.get("id", str(pattern_no))
        for index, rule in enumerate(pattern.iterchildren(f"{_S}rule"), start=1):
            _rule(rule, index, pattern_no, pattern_id, priority, root)
            priority -= 1
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
