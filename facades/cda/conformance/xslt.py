"""Render a concrete schema (see ``assemble.py``) as one XSLT 3.0 stylesheet emitting SVRL (step 2).

Unlike the ISO skeleton, which walks the whole document once per pattern (the kit's profiles have up
to 250 patterns, so hundreds of walks), the document is walked **once**, in a single mode:

* every rule becomes a template; rule *r* of pattern *p* gets a priority that decreases with the
  rule's global order, so the first rule of a pattern outranks its later rules;
* a template reports its asserts then calls ``xsl:next-match``, handing on the list of patterns that
  already fired on this node, so that, as Schematron requires, at most one rule per pattern fires
  on a node while every pattern still sees it;
* the lowest template runs the templateId dispatch (below) and continues the walk into child
  elements (and attributes, if a rule can match one).

Saxon indexes templates by element name, so a node only meets the rules whose context can match it.
Two shapes escape that index and are compiled differently (``contexts.py`` recognises them):

* ``*[cda:templateId/@root='OID']``, most of the IHE and CI-SIS body rules (hundreds per profile),
  would be tried on every element. A pattern made only of such rules becomes functions in a map
  keyed by OID; at each element the walk looks its templateId roots up once and runs, per pattern,
  the first rule that applies;
* Art-Decor's closed-template contexts end in a ``*[…]`` step with a long predicate that Saxon would
  test on every element before the parent path; the predicate moves into the template as a guard.

A pattern that mixes ``*[cda:templateId/@root='OID']`` rules with path rules (``…/cda:performer``) stays
templates, and Saxon would test those predicates, and run the dispatch, on every element. So the walk has two
modes: elements that carry an HL7 ``templateId`` meet every rule; the others (most of a body) meet only the
rules that can match without one (``contexts.needs_template_id``) and no dispatch. Code-list lookups
``doc(…)//code[text() = string(…)]`` (UCUM in ``terminologie.sch``) go through ``xsl:key`` (``lookups.py``).

When every rule context is a path of child steps from one anchor element (the Art-Decor header
schematron, StrucMin: ``//hl7:ClinicalDocument[…]/hl7:recordTarget[…]/…``, 766 rules, 270 of them
``…/*`` closed-template checks that Saxon cannot index by name), a document with one anchor element is
walked *by path* (``contexts.walk_plan``): each element's children are matched in a mode holding only
the rules whose path ends below that element's path, and the walk does not enter a subtree no path leads
into (the 2,000 elements of a 30-result N3 body). Every rule is also in the full walk's mode, used for a
document with no or several anchor elements. Which rules can match an element does not change: predicates
are kept in the patterns, only rules whose predicate-free path cannot match are left out of a mode.

Each rule body runs in ``xsl:try``: a rule that cannot be evaluated (a value set missing from the
kit, say) becomes one error finding instead of aborting the whole report. ``doc()``, ``document()``
and ``doc-available()`` in rules go through ``sgl:`` wrappers backed by ``documents.py``.

Output: ``svrl:schematron-output`` with ``svrl:failed-assert`` and ``svrl:successful-report`` only
(no ``fired-rule`` / ``active-pattern`` noise), each with ``@test``, ``@role``, ``@see``,
``@location`` (an XPath with the ``cda:`` prefix for ``urn:hl7-org:v3``) and, in the ``sgl``
namespace, the pattern and rule ids.
"""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from facades.cda.conformance.assemble import SCH_NS
from facades.cda.conformance.contexts import (
    HL7_NS,
    WalkPlan,
    may_match_attributes,
    needs_template_id,
    split_guard,
    template_root,
    walk_plan,
)
from facades.cda.conformance.documents import MESSAGE_PREFIX
from facades.cda.conformance.lookups import index_text_lookups

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
CHECK, PLAIN = "sgl:check", "sgl:check-plain"
"""The full walk's modes: every rule; the rules that can match an element without a ``templateId`` child."""
_S = f"{{{SCH_NS}}}"
_X = f"{{{XSL_NS}}}"
_V = f"{{{SVRL_NS}}}"
_G = f"{{{SGL_NS}}}"

# The helpers every compiled stylesheet shares: where a node is, and doc() through the cache.
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
  <xsl:param name="sgl:docs" as="map(xs:string, item())" select="map {{}}"/>
  <xsl:function name="sgl:uri" as="xs:string">
    <xsl:param name="uri" as="xs:string"/>
    <xsl:sequence select="string(resolve-uri($uri, static-base-uri()))"/>
  </xsl:function>
  <xsl:function name="sgl:miss" as="xs:string">
    <xsl:param name="abs" as="xs:string"/>
    <xsl:message select="'{MESSAGE_PREFIX}' || $abs"/>
    <xsl:sequence select="$abs"/>
  </xsl:function>
  <xsl:function name="sgl:doc" as="document-node()?">
    <xsl:param name="uri" as="xs:string?"/>
    <xsl:variable name="abs" select="if (empty($uri)) then () else sgl:uri($uri)"/>
    <xsl:variable name="hit" select="if (empty($abs)) then () else $sgl:docs($abs)"/>
    <xsl:sequence select="if (empty($abs)) then ()
        else if ($hit instance of document-node()) then $hit else doc(sgl:miss($abs))"/>
  </xsl:function>
  <xsl:function name="sgl:document" as="document-node()?">
    <xsl:param name="uri" as="xs:string?"/>
    <xsl:sequence select="sgl:doc($uri)"/>
  </xsl:function>
  <xsl:function name="sgl:doc-available" as="xs:boolean">
    <xsl:param name="uri" as="xs:string?"/>
    <xsl:variable name="abs" select="if (empty($uri)) then () else sgl:uri($uri)"/>
    <xsl:variable name="hit" select="if (empty($abs)) then () else $sgl:docs($abs)"/>
    <xsl:sequence select="if (empty($abs)) then false() else if (exists($hit)) then $hit instance of document-node()
        else doc-available(sgl:miss($abs))"/>
  </xsl:function>
  <xsl:function name="sgl:location" as="xs:string">
    <xsl:param name="n" as="node()"/>
    <xsl:sequence select="if ($n instance of document-node()) then '/'
        else string-join(for $a in $n/ancestor-or-self::node()[not(. instance of document-node())]
                         return sgl:step($a))"/>
  </xsl:function>
</xsl:stylesheet>"""


_DOC_CALL = re.compile(r"(?<![\w:.$-])(doc|document|doc-available)\s*\(")


def _cached_docs(expr: str) -> str:
    """Route ``doc()``, ``document()`` and ``doc-available()`` through the process-wide cache."""
    return _DOC_CALL.sub(r"sgl:\1(", expr)


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
            node = etree.SubElement(text, f"{_X}value-of", select=_cached_docs(child.get("select", ".")))
        elif child.tag == f"{_S}name":
            node = etree.SubElement(text, f"{_X}value-of", select=f"name({child.get('path', '.')})")
        else:  # emph, dir, span: keep their text
            node = etree.SubElement(text, f"{_X}text")
            node.text = "".join(child.itertext())
        node.tail = child.tail


def _check(check: etree._Element, ids: tuple[str, str], body: etree._Element) -> None:
    """One assert or report; ``ids`` are the pattern and rule ids as attribute value templates."""
    test = check.get("test", "true()")
    failed = check.tag == f"{_S}assert"
    cond = etree.SubElement(body, f"{_X}if", test=_cached_docs(f"not({test})" if failed else test))
    out = etree.SubElement(cond, f"{_V}failed-assert" if failed else f"{_V}successful-report",
                           test=_avt(test), location="{sgl:location(.)}")
    out.set(f"{_G}pattern", ids[0])
    out.set(f"{_G}rule", ids[1])
    for attr in ("role", "see", "id"):
        if check.get(attr):
            out.set(attr, _avt(check.get(attr, "")))
    _message(check, out)


def _items(rule: etree._Element, ids: tuple[str, str], literal_ids: tuple[str, str],
           parent: etree._Element) -> None:
    """Lets, checks and calls to shared abstract rules, in the rule's order."""
    for item in rule:
        if item.tag == f"{_S}let":
            etree.SubElement(parent, f"{_X}variable", name=item.get("name", ""),
                             select=_cached_docs(item.get("value", "")))
        elif item.tag in (f"{_S}assert", f"{_S}report"):
            _check(item, ids, parent)
        elif item.tag == f"{_S}extends":
            call = f"{_shared_name(item.get('rule', ''))}(., {literal_ids[0]}, {literal_ids[1]})"
            etree.SubElement(parent, f"{_X}sequence", select=call)


def _shared_name(rule_id: str) -> str:
    return "sgl:abstract-" + re.sub(r"[^\w.-]", "_", rule_id)


def _shared_rule(rule: etree._Element, root: etree._Element) -> None:
    """An abstract rule kept whole (see ``assemble._resolve_extends``) as a function of the node."""
    function = etree.SubElement(root, f"{_X}function", name=_shared_name(rule.get("id", "")),
                                **{"as": "item()*"})
    for name, kind in (("sgl:node", "node()"), ("sgl:pattern", "xs:string"), ("sgl:rule", "xs:string")):
        etree.SubElement(function, f"{_X}param", name=name, **{"as": kind})
    loop = etree.SubElement(function, f"{_X}for-each", select="$sgl:node")
    _items(rule, ("{$sgl:pattern}", "{$sgl:rule}"), ("$sgl:pattern", "$sgl:rule"), loop)


def _body(rule: etree._Element, pattern_id: str, rule_id: str, parent: etree._Element) -> None:
    """A rule's lets and checks on the context node; an evaluation error becomes one finding."""
    attempt = etree.SubElement(parent, f"{_X}try")
    _items(rule, (_avt(pattern_id), _avt(rule_id)), (_literal(pattern_id), _literal(rule_id)), attempt)
    catch = etree.SubElement(attempt, f"{_X}catch")
    broken = etree.SubElement(catch, f"{_V}failed-assert", role="error", test="",
                              location="{sgl:location(.)}")
    broken.set(f"{_G}pattern", _avt(pattern_id))
    broken.set(f"{_G}rule", _avt(rule_id))
    broken.set(f"{_G}broken", "true")
    etree.SubElement(etree.SubElement(broken, f"{_V}text"), f"{_X}value-of",
                     select="'rule could not be evaluated: ' || $err:code || ' ' || $err:description",
                     nsmap={"err": "http://www.w3.org/2005/xqt-errors"})


def _next_match(parent: etree._Element, fired: str) -> None:
    call = etree.SubElement(parent, f"{_X}next-match")
    etree.SubElement(call, f"{_X}with-param", name="sgl:fired", select=fired)


def _template_rule(rule: etree._Element, rule_id: str, pattern_no: int, pattern_id: str, priority: int,
                   root: etree._Element, modes: tuple[str, ...] = ()) -> None:
    """A rule as a template of the walk (and of the walk by path's ``modes``), skipped if its pattern already
    fired on the node."""
    match, guard = split_guard(rule.get("context", ""))
    tpl = etree.SubElement(root, f"{_X}template", match=match, mode=" ".join((CHECK, *modes)),
                           priority=str(priority))
    etree.SubElement(tpl, f"{_X}param", name="sgl:fired", select="()", **{"as": "xs:integer*"})
    choose = etree.SubElement(tpl, f"{_X}choose")
    skip = f"$sgl:fired = {pattern_no}" + (f" or not({guard})" if guard else "")
    _next_match(etree.SubElement(choose, f"{_X}when", test=skip), "$sgl:fired")
    run = etree.SubElement(choose, f"{_X}otherwise")
    _body(rule, pattern_id, rule_id, run)
    _next_match(run, f"($sgl:fired, {pattern_no})")


def _function_rule(rule: etree._Element, rule_id: str, number: int, pattern_id: str,
                   root: etree._Element) -> str:
    """A templateId rule as ``sgl:rule-N($node)``, for the dispatch map; returns the function name."""
    name = f"sgl:rule-{number}"
    function = etree.SubElement(root, f"{_X}function", name=name, **{"as": "item()*"})
    etree.SubElement(function, f"{_X}param", name="sgl:node", **{"as": "node()"})
    _body(rule, pattern_id, rule_id, etree.SubElement(function, f"{_X}for-each", select="$sgl:node"))
    return name


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _path_walk(root: etree._Element, plan: WalkPlan) -> None:
    """The lowest templates of the walk by path (``contexts.walk_plan``): from the one anchor element, each
    element's children are walked in the mode of its path, which holds only the rules of that path's
    children; below a path no rule continues, the walk stops."""
    anchor = (plan.anchor,)
    for mode, match, select, into in (("sgl:root", "/", f"descendant::{plan.anchor}", "sgl:anchor"),
                                      ("sgl:anchor", "*", "*", plan.mode(anchor) if anchor in plan.parents else None)):
        lowest = etree.SubElement(root, f"{_X}template", match=match, mode=mode, priority="-1000")
        if into is not None:
            etree.SubElement(lowest, f"{_X}apply-templates", select=select, mode=into)
    for parent in plan.parents:
        lowest = etree.SubElement(root, f"{_X}template", match="*", mode=plan.mode(parent), priority="-1000")
        deeper = plan.below(parent)
        if deeper:
            choose = etree.SubElement(lowest, f"{_X}choose")
            for name in deeper:
                when = etree.SubElement(choose, f"{_X}when", test=f"self::{name}")
                etree.SubElement(when, f"{_X}apply-templates", select="*", mode=plan.mode((*parent, name)))


def _descend(lowest: etree._Element, attributes: bool, split: bool) -> None:
    """The walk's next step from a lowest template: attributes if a rule can match one, then the child elements;
    with ``split``, a child without an HL7 ``templateId`` goes to the mode without the rules that need one."""
    if not split:
        etree.SubElement(lowest, f"{_X}apply-templates", select="@*|*" if attributes else "*", mode=CHECK)
        return
    if attributes:
        etree.SubElement(lowest, f"{_X}apply-templates", select="@*", mode=PLAIN)
    choose = etree.SubElement(etree.SubElement(lowest, f"{_X}for-each", select="*"), f"{_X}choose")
    with_id = etree.SubElement(choose, f"{_X}when", test=f"Q{{{HL7_NS}}}templateId")
    etree.SubElement(with_id, f"{_X}apply-templates", select=".", mode=CHECK)
    etree.SubElement(etree.SubElement(choose, f"{_X}otherwise"), f"{_X}apply-templates", select=".", mode=PLAIN)


def _walk(root: etree._Element, dispatch: dict[str, list[tuple[int, int, str]]], attributes: bool,
          plan: WalkPlan | None, *, split: bool) -> None:
    """The entry template, the dispatch map and the lowest templates that continue the walk; with a ``plan``,
    the walk by path for a document with exactly one anchor element, the full walk for any other.

    With ``split``, the full walk has two modes: ``sgl:check`` (every rule, and the templateId dispatch) for the
    document node and the elements that carry a ``templateId``, ``sgl:check-plain`` for the others (in a 30-result
    N3, 2,300 of 2,500 elements), without the rules whose context needs a templateId on the element itself
    (``contexts.needs_template_id``: IHE's ``*[cda:templateId/@root='…']/…`` rules that share a pattern with
    path rules, which Saxon would otherwise test on every element) and without the dispatch, which has nothing
    to look up there. The rules that can match an element are the same either way."""
    start = etree.SubElement(root, f"{_X}template", match="/")
    output = etree.SubElement(start, f"{_V}schematron-output")
    if plan is not None:
        choose = etree.SubElement(output, f"{_X}choose")
        by_path = etree.SubElement(choose, f"{_X}when", test=f"count(descendant::{plan.anchor}) eq 1")
        etree.SubElement(by_path, f"{_X}apply-templates", select=".", mode="sgl:root")
        output = etree.SubElement(choose, f"{_X}otherwise")
        _path_walk(root, plan)
    etree.SubElement(output, f"{_X}apply-templates", select=".", mode=CHECK)
    lowest = etree.SubElement(root, f"{_X}template", match="/|*", mode=CHECK, priority="-1000")
    if dispatch:
        entries = ", ".join(
            f"{_literal(oid)}: ({', '.join(f'[{p}, {n}, {f}#1]' for p, n, f in rules)})"
            for oid, rules in dispatch.items())
        etree.SubElement(root, f"{_X}variable", name="sgl:by-template", select=f"map {{ {entries} }}")
        etree.SubElement(lowest, f"{_X}variable", name="sgl:node", select=".")
        group = etree.SubElement(
            lowest, f"{_X}for-each-group", **{"group-by": "?1"},
            select=f"for $r in distinct-values(Q{{{HL7_NS}}}templateId/@root ! string()) "
                   "return $sgl:by-template($r)")
        etree.SubElement(group, f"{_X}sort", select="current-grouping-key()")
        etree.SubElement(group, f"{_X}sequence",
                         select="sort(current-group(), (), function($e) { $e?2 })[1]?3($sgl:node)")
    _descend(lowest, attributes, split)
    if split:
        _descend(etree.SubElement(root, f"{_X}template", match="*", mode=PLAIN, priority="-1000"), attributes, split)
    etree.SubElement(root, f"{_X}template", match="@*|text()|comment()|processing-instruction()",
                     mode=f"{CHECK} {PLAIN}" if split else CHECK, priority="-1000")


def _index_lookups(root: etree._Element) -> None:
    """Code-list lookups through keys (``lookups.py``), one ``xsl:key`` per element name looked up."""
    keys: dict[str, str] = {}
    for element in root.iter(f"{_X}*"):
        for attr in ("select", "test"):
            value = element.get(attr)
            if value and "sgl:doc" in value:
                element.set(attr, index_text_lookups(value, keys))
    for name, key in keys.items():
        root.insert(1, etree.Element(f"{_X}key", name=key, match=name, use="text()"))


def render(schema: etree._Element, base_dir: Path, *, prune: bool = True) -> bytes:
    """The XSLT for a concrete schema; ``base_dir`` (the .sch folder) anchors its relative doc() paths.
    ``prune=False`` walks every element even where no rule can match, tries every rule on every element and
    scans the code lists (the reference the tests compare with)."""
    nsmap: dict[str | None, str] = {"xsl": XSL_NS, "xs": "http://www.w3.org/2001/XMLSchema",
                                    "svrl": SVRL_NS, "sgl": SGL_NS}
    for ns in schema.iter(f"{_S}ns"):
        nsmap.setdefault(ns.get("prefix"), ns.get("uri", ""))
    prefixes = {str(k): v for k, v in nsmap.items()}
    excluded = " ".join(str(p) for p in nsmap if p not in ("svrl", "sgl"))
    root = etree.Element(f"{_X}stylesheet", nsmap=nsmap, version="3.0",
                         **{"exclude-result-prefixes": excluded})
    root.set("{http://www.w3.org/XML/1998/namespace}base", base_dir.resolve().as_uri() + "/")
    root.extend(etree.fromstring(_PRELUDE))
    for let in schema.iterchildren(f"{_S}let"):
        etree.SubElement(root, f"{_X}variable", name=let.get("name", ""),
                         select=_cached_docs(let.get("value", "")))

    for shared in schema.iterchildren(f"{_S}rule"):
        _shared_rule(shared, root)
    patterns = list(schema.iterchildren(f"{_S}pattern"))
    rules = [r for p in patterns for r in p.iterchildren(f"{_S}rule")]
    # None unless every context is an anchored child path: then no templateId dispatch nor attribute rule
    plan = walk_plan([r.get("context", "") for r in rules], prefixes) if prune else None
    dispatch: dict[str, list[tuple[int, int, str]]] = {}
    number = 0
    for pattern_no, pattern in enumerate(patterns, start=1):
        pattern_id = pattern.get("id", str(pattern_no))
        pattern_rules = list(pattern.iterchildren(f"{_S}rule"))
        oids = [template_root(r.get("context", ""), prefixes) for r in pattern_rules]
        for index, (rule, oid) in enumerate(zip(pattern_rules, oids, strict=True), start=1):
            number += 1
            rule_id = rule.get("id") or f"{pattern_id}#{index}"
            if all(oids) and oid:
                name = _function_rule(rule, rule_id, number, pattern_id, root)
                dispatch.setdefault(oid, []).append((pattern_no, number, name))
            else:
                context = rule.get("context", "")
                modes = plan.modes_of(context, prefixes) if plan is not None else ()
                if prune and not needs_template_id(context, prefixes):
                    modes = (PLAIN, *modes)
                _template_rule(rule, rule_id, pattern_no, pattern_id, len(rules) - number + 1, root, modes)
    _walk(root, dispatch, any(may_match_attributes(r.get("context", "")) for r in rules), plan, split=prune)
    if prune:
        _index_lookups(root)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
