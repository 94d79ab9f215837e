"""Turn an ISO Schematron entry point into one flat, concrete schema (our own processor, step 1).

The ANS kit relies on three ISO Schematron features that an evaluator must resolve first:

* ``sch:include`` — the target file's root element (a ``pattern``, a ``rule`` …) replaces the include,
  recursively, paths relative to the including file;
* abstract patterns — ``pattern[@is-a]`` instantiates ``pattern[@abstract='true']`` with its
  ``sch:param`` values substituted for ``$name`` in every attribute of the copied rules;
* abstract rules — ``sch:extends[@rule]`` stands for the abstract rule's lets, asserts and reports
  (inlined, or kept once and shared when that is equivalent: see ``_resolve_extends``).

Then the phase (``@defaultPhase`` unless told otherwise) selects the active patterns. The result is a
``sch:schema`` holding ``sch:ns``, the global lets (schema- and pattern-level, as in the ISO
reference implementation), the shared abstract rules and the active patterns with concrete rules
only; ``xslt.py`` renders it.

Two upstream kit defects are repaired here, on the fly and logged, never by editing the kit: an
include whose case differs from the file on disk (found case-insensitively), and literal strings in
rule attributes swapped by ``rewrites`` (see ``kit.py``).
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from facades.cda.errors import KitError

log = logging.getLogger(__name__)

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
_S = f"{{{SCH_NS}}}"
_PARAM_REF = re.compile(r"\$([A-Za-z_][\w.\-]*)")
_PARSER = etree.XMLParser(remove_comments=True, remove_pis=True, resolve_entities=False, no_network=True)


@dataclass
class _Loader:
    """Reads kit files once per assembly and remembers every file it touched (for the cache key)."""

    files: dict[Path, bytes] = field(default_factory=dict)

    def parse(self, path: Path) -> etree._Element:
        data = self.files.get(path)
        if data is None:
            data = path.read_bytes()
            self.files[path] = data
        return etree.fromstring(data, _PARSER, base_url=str(path))


def _locate(base: Path, href: str) -> Path:
    """The included file; falls back to a case-insensitive match (the kit was written on Windows)."""
    target = (base / href).resolve()
    if target.is_file():
        return target
    parent = target.parent
    if parent.is_dir():
        for candidate in parent.iterdir():
            if candidate.name.lower() == target.name.lower():
                log.warning("schematron include %s resolved case-insensitively to %s", href, candidate.name)
                return candidate
    raise KitError(f"schematron include not found: {href} (from {base})", expression=str(base / href))


def _resolve_includes(elem: etree._Element, base: Path, loader: _Loader, stack: tuple[Path, ...]) -> None:
    for inc in list(elem.iter(f"{_S}include")):
        target = _locate(base, inc.get("href", ""))
        if target in stack:
            raise KitError(f"schematron include cycle through {target}", expression=str(target))
        root = loader.parse(target)
        _resolve_includes(root, target.parent, loader, (*stack, target))
        root.tail = inc.tail
        inc.getparent().replace(inc, root)


def _substitute(value: str, params: Mapping[str, str]) -> str:
    return _PARAM_REF.sub(lambda m: params.get(m.group(1), m.group(0)), value)


def _expand_abstract_patterns(schema: etree._Element) -> None:
    abstract = {p.get("id"): p for p in schema.iter(f"{_S}pattern") if p.get("abstract") == "true"}
    for inst in list(schema.iter(f"{_S}pattern")):
        name = inst.get("is-a")
        if name is None:
            continue
        model = abstract.get(name)
        if model is None:
            raise KitError(f"abstract pattern {name!r} not found (instance {inst.get('id')!r})")
        params = {p.get("name", ""): p.get("value", "") for p in inst.iter(f"{_S}param")}
        concrete = etree.Element(f"{_S}pattern", id=inst.get("id", name), nsmap=inst.nsmap)
        for child in model:
            clone = copy.deepcopy(child)
            for node in clone.iter():
                for key, val in node.attrib.items():
                    node.set(key, _substitute(val, params))
            concrete.append(clone)
        concrete.tail = inst.tail
        inst.getparent().replace(inst, concrete)
    for pattern in abstract.values():
        pattern.getparent().remove(pattern)


_BOUND = re.compile(r"(?:\b(?:for|some|every|let)\s+|,\s*)\$([A-Za-z_][\w.\-]*)\s*(?:in\b|:=)")


def _references(elements: list[etree._Element]) -> set[str]:
    """Variables read by these elements' expressions, minus those an expression binds itself."""
    names: set[str] = set()
    for node in (n for e in elements for n in e.iter()):
        for value in node.attrib.values():
            names |= {m.group(1) for m in _PARAM_REF.finditer(value)} - set(_BOUND.findall(value))
    return names


def _let_names(elements: list[etree._Element]) -> set[str]:
    return {e.get("name", "") for e in elements if e.tag == f"{_S}let"}


def _resolve_extends(schema: etree._Element, global_names: set[str]) -> list[etree._Element]:
    """Resolve ``sch:extends``; returns the abstract rules kept whole to be shared.

    An abstract rule that only reads its own lets and global ones is kept once and referenced (the
    kit's Art-Decor datatype rules are extended ~700 times: inlining them made an 9 MB stylesheet
    that Saxon took 20 s to compile). Otherwise, or when the extending rule reads the abstract
    rule's lets, its body is inlined, which is what ISO Schematron specifies.
    """
    abstract = {r.get("id"): r for r in schema.iter(f"{_S}rule") if r.get("abstract") == "true"}
    flat: dict[str, list[etree._Element]] = {}

    def body(rule_id: str, seen: tuple[str, ...]) -> list[etree._Element]:
        if rule_id in seen:
            raise KitError(f"abstract rule cycle through {rule_id!r}")
        if rule_id not in flat:
            model = abstract.get(rule_id)
            if model is None:
                raise KitError(f"abstract rule {rule_id!r} not found")
            items: list[etree._Element] = []
            for child in model:
                if child.tag == f"{_S}extends":
                    items.extend(body(child.get("rule", ""), (*seen, rule_id)))
                elif isinstance(child.tag, str):
                    items.append(child)
            flat[rule_id] = items
        return flat[rule_id]

    shared: dict[str, etree._Element] = {}
    for rule in schema.iter(f"{_S}rule"):
        if rule.get("abstract") == "true":
            continue
        for ext in list(rule.iterchildren(f"{_S}extends")):
            rule_id = ext.get("rule", "")
            items = body(rule_id, ())
            own = _let_names(items)
            closed = _references(items) <= own | global_names
            if closed and not (_references([c for c in rule if c is not ext]) & own):
                if rule_id not in shared:
                    shared[rule_id] = etree.Element(f"{_S}rule", abstract="true", id=rule_id)
                    shared[rule_id].extend(copy.deepcopy(i) for i in items)
                continue
            position = rule.index(ext)
            rule.remove(ext)
            for offset, child in enumerate(items):
                rule.insert(position + offset, copy.deepcopy(child))
    for rule in abstract.values():
        rule.getparent().remove(rule)
    return list(shared.values())


def _active_patterns(schema: etree._Element, phase: str | None) -> list[etree._Element]:
    patterns = [p for p in schema.iter(f"{_S}pattern") if p.find(f"{_S}rule") is not None or
                p.find(f"{_S}let") is not None]
    phase = phase or schema.get("defaultPhase")
    if phase in (None, "#ALL"):
        return patterns
    element = next((p for p in schema.iter(f"{_S}phase") if p.get("id") == phase), None)
    if element is None:
        raise KitError(f"schematron phase {phase!r} not found")
    wanted = [a.get("pattern") for a in element.iter(f"{_S}active")]
    by_id = {p.get("id"): p for p in patterns}
    missing = [w for w in wanted if w not in by_id]
    if missing:
        log.warning("phase %s names patterns without concrete rules: %s", phase, ", ".join(map(str, missing)))
    return [by_id[w] for w in dict.fromkeys(wanted) if w in by_id]


def _global_lets(schema: etree._Element) -> list[etree._Element]:
    """Schema- and pattern-level lets of every pattern, once per name (first wins, clashes refused)."""
    lets: dict[str, etree._Element] = {}
    candidates = [*schema.iterchildren(f"{_S}let")]
    for pattern in schema.iter(f"{_S}pattern"):
        candidates.extend(pattern.iterchildren(f"{_S}let"))
    for let in candidates:
        name = let.get("name", "")
        known = lets.get(name)
        if known is None:
            lets[name] = let
        elif known.get("value") != let.get("value"):
            raise KitError(f"global let ${name} defined twice with different values")
    return list(lets.values())


def assemble(entry: Path, *, phase: str | None = None, rewrites: Mapping[str, str] | None = None
             ) -> tuple[etree._Element, dict[Path, bytes]]:
    """The concrete schema for ``entry`` and the bytes of every file it was built from."""
    loader = _Loader()
    entry = entry.resolve()
    try:
        schema = loader.parse(entry)
    except (OSError, etree.XMLSyntaxError) as exc:
        raise KitError(f"cannot read schematron {entry}: {exc}", expression=str(entry)) from exc
    if schema.tag != f"{_S}schema":
        raise KitError(f"{entry} is not an ISO Schematron schema", expression=str(entry))
    _resolve_includes(schema, entry.parent, loader, (entry,))
    _expand_abstract_patterns(schema)
    global_lets = _global_lets(schema)
    shared = _resolve_extends(schema, _let_names(global_lets))

    out = etree.Element(f"{_S}schema", nsmap={None: SCH_NS}, queryBinding=schema.get("queryBinding", "xslt2"))
    for ns in schema.iter(f"{_S}ns"):
        out.append(etree.Element(f"{_S}ns", prefix=ns.get("prefix", ""), uri=ns.get("uri", "")))
    for let in global_lets:
        out.append(etree.Element(f"{_S}let", name=let.get("name", ""), value=let.get("value", "")))
    out.extend(shared)
    for pattern in _active_patterns(schema, phase):
        clone = etree.SubElement(out, f"{_S}pattern", id=pattern.get("id") or f"anonymous-{len(out)}")
        clone.extend(copy.deepcopy(r) for r in pattern.iterchildren(f"{_S}rule") if r.get("context"))
    if rewrites:
        for node in out.iter():
            for key, val in node.attrib.items():
                for old, new in rewrites.items():
                    if old in val:
                        val = val.replace(old, new)
                node.set(key, val)
    return out, loader.files
