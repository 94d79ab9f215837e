"""Our ISO Schematron processor on small hand-written schemas (assemble.py, xslt.py, schematron.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from facades.cda.conformance.assemble import assemble
from facades.cda.conformance.schematron import CompiledSchematron, cache_dir, compile_schematron, saxon
from facades.cda.errors import KitError

HEAD = ('<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2" {attrs}>'
        '<ns prefix="cda" uri="urn:hl7-org:v3"/>')
DOC = """<ClinicalDocument xmlns="urn:hl7-org:v3">
  <code code="11502-2"/>
  <section><title>A</title><entry/><entry/></section>
  <section><title>B</title></section>
</ClinicalDocument>"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def schema(folder: Path, body: str, attrs: str = "", name: str = "main.sch") -> Path:
    return write(folder, name, HEAD.format(attrs=attrs) + body + "</schema>")


def run(compiled: CompiledSchematron, xml: str = DOC) -> list[tuple[str, str, str]]:
    node = saxon().parse_xml(xml_text=xml)
    return [(f.severity, f.message, f.location) for f in compiled.run(node)]


def test_failed_assert_reports_message_value_of_and_location(tmp_path: Path) -> None:
    path = schema(tmp_path, """<pattern id="p"><rule context="cda:section">
        <assert test="cda:entry">section <value-of select="cda:title"/> has no entry</assert>
        <report test="count(cda:entry) &gt; 1" role="warning">section <name/> has several entries</report>
        </rule></pattern>""")
    assert run(compile_schematron(path)) == [
        ("warning", "section section has several entries", "/cda:ClinicalDocument[1]/cda:section[1]"),
        ("error", "section B has no entry", "/cda:ClinicalDocument[1]/cda:section[2]"),
    ]


def test_only_the_first_matching_rule_of_a_pattern_fires_but_every_pattern_sees_the_node(tmp_path: Path) -> None:
    path = schema(tmp_path, """
        <pattern id="p1">
          <rule context="cda:section[cda:title = 'A']"><assert test="false()">p1 first</assert></rule>
          <rule context="cda:section"><assert test="false()">p1 second <value-of select="cda:title"/></assert></rule>
        </pattern>
        <pattern id="p2"><rule context="cda:section"><assert test="false()">p2</assert></rule></pattern>""")
    messages = sorted(m for _, m, _ in run(compile_schematron(path)))
    assert messages == ["p1 first", "p1 second B", "p2", "p2"]


def test_includes_abstract_patterns_abstract_rules_and_lets_are_resolved(tmp_path: Path) -> None:
    write(tmp_path, "inc/abstract.sch", """<pattern xmlns="http://purl.oclc.org/dsdl/schematron"
        abstract="true" id="hasChild"><rule context="$elt">
        <assert test="$child">$elt lacks <value-of select="$name"/></assert></rule></pattern>""")
    write(tmp_path, "inc/rules.sch", """<rule xmlns="http://purl.oclc.org/dsdl/schematron" abstract="true"
        id="coded"><let name="c" value="@code"/><assert test="$c = $expected">code <value-of select="$c"/></assert>
        </rule>""")
    path = schema(tmp_path, """<include href="inc/abstract.sch"/>
        <pattern id="vars"><let name="expected" value="'11488-4'"/>
          <include href="inc/rules.sch"/>
          <rule context="cda:code"><extends rule="coded"/></rule></pattern>
        <pattern is-a="hasChild" id="sectionTitle">
          <param name="elt" value="cda:section"/><param name="child" value="cda:entry"/>
          <param name="name" value="'entry'"/></pattern>""")
    found = run(compile_schematron(path))
    assert ("error", "code 11502-2", "/cda:ClinicalDocument[1]/cda:code[1]") in found
    assert ("error", "$elt lacks entry", "/cda:ClinicalDocument[1]/cda:section[2]") in found
    assert len(found) == 2


def test_default_phase_selects_the_active_patterns(tmp_path: Path) -> None:
    path = schema(tmp_path, """<phase id="only"><active pattern="on"/></phase>
        <pattern id="on"><rule context="cda:code"><assert test="false()">on</assert></rule></pattern>
        <pattern id="off"><rule context="cda:code"><assert test="false()">off</assert></rule></pattern>""",
                  attrs='defaultPhase="only"')
    assert [m for _, m, _ in run(compile_schematron(path))] == ["on"]
    assert [m for _, m, _ in run(compile_schematron(path, phase="#ALL"))] == ["on", "off"]


def test_unknown_phase_is_a_kit_error(tmp_path: Path) -> None:
    path = schema(tmp_path, "<pattern id='p'/>", attrs='defaultPhase="nope"')
    with pytest.raises(KitError, match="phase 'nope'"):
        assemble(path)


def test_include_differing_only_in_case_is_found(tmp_path: Path) -> None:
    write(tmp_path, "inc/Rule.sch", """<pattern xmlns="http://purl.oclc.org/dsdl/schematron" id="p">
        <rule context="cda:code"><assert test="false()">found</assert></rule></pattern>""")
    path = schema(tmp_path, '<include href="inc/rule.sch"/>')
    assert [m for _, m, _ in run(compile_schematron(path))] == ["found"]


def test_missing_include_is_a_kit_error_naming_the_file(tmp_path: Path) -> None:
    path = schema(tmp_path, '<include href="inc/absent.sch"/>')
    with pytest.raises(KitError) as caught:
        assemble(path)
    assert caught.value.expression == [str(tmp_path / "inc/absent.sch")]


def test_rule_that_cannot_be_evaluated_becomes_one_error_and_the_rest_still_runs(tmp_path: Path) -> None:
    path = schema(tmp_path, """
        <pattern id="broken"><rule context="cda:code">
          <assert test="doc('missing-value-set.xml')//x">never shown</assert></rule></pattern>
        <pattern id="fine"><rule context="cda:section"><assert test="cda:entry">no entry</assert></rule></pattern>""")
    found = run(compile_schematron(path))
    assert len(found) == 2
    assert found[0][0] == "error" and found[0][1].startswith("rule could not be evaluated: ")
    assert "FODC0002" in found[0][1] and found[0][2] == "/cda:ClinicalDocument[1]/cda:code[1]"
    assert found[1] == ("error", "no entry", "/cda:ClinicalDocument[1]/cda:section[2]")


def test_relative_doc_paths_resolve_against_the_schematron_folder(tmp_path: Path) -> None:
    write(tmp_path, "jdv/codes.xml", "<codes><c>11502-2</c></codes>")
    path = schema(tmp_path, """<pattern id="p"><let name="jdv" value="'jdv/codes.xml'"/>
        <rule context="cda:code"><assert test="@code = doc($jdv)//c">out of set</assert>
        <assert test="@code = '1'">not one</assert></rule></pattern>""", name="sub/../main.sch")
    assert [m for _, m, _ in run(compile_schematron(path))] == ["not one"]


def test_compiled_xslt_is_cached_on_disk_by_content(tmp_path: Path) -> None:
    path = schema(tmp_path, "<pattern id='p'><rule context='cda:code'><assert test='false()'>v1</assert></rule>"
                            "</pattern>", name="cached.sch")
    compile_schematron(path)
    before = set(cache_dir().glob("*.xsl"))
    assert any(b"v1" in f.read_bytes() for f in before)
    assert compile_schematron(path) is compile_schematron(path)
    assert set(cache_dir().glob("*.xsl")) == before


def test_template_id_rules_fire_once_per_pattern_through_the_dispatch(tmp_path: Path) -> None:
    doc = """<ClinicalDocument xmlns="urn:hl7-org:v3">
      <section><templateId root="1.1"/><templateId root="2.2"/></section>
      <section><templateId root="2.2"/></section>
      <entry><templateId root="3.3"/></entry>
    </ClinicalDocument>"""
    path = schema(tmp_path, """
        <pattern id="both">
          <rule context="*[cda:templateId/@root='1.1']"><assert test="false()">first 1.1</assert></rule>
          <rule context="*[cda:templateId/@root = &quot;2.2&quot;]"><assert test="false()">then 2.2</assert></rule>
        </pattern>
        <pattern id="other"><rule context="*[cda:templateId/@root='2.2']">
          <report test="true()">other <name/></report></rule></pattern>
        <pattern id="mixed">
          <rule context="cda:entry"><assert test="false()">entry by name</assert></rule>
          <rule context="*[cda:templateId/@root='3.3']">
            <assert test="false()">never: entry already matched</assert></rule>
        </pattern>""")
    assert sorted(run(compile_schematron(path), doc)) == [
        ("error", "entry by name", "/cda:ClinicalDocument[1]/cda:entry[1]"),
        ("error", "first 1.1", "/cda:ClinicalDocument[1]/cda:section[1]"),
        ("error", "other section", "/cda:ClinicalDocument[1]/cda:section[1]"),
        ("error", "other section", "/cda:ClinicalDocument[1]/cda:section[2]"),
        ("error", "then 2.2", "/cda:ClinicalDocument[1]/cda:section[2]"),
    ]


def test_closed_template_guard_keeps_first_match_semantics(tmp_path: Path) -> None:
    path = schema(tmp_path, """<pattern id="closed">
        <rule context="/cda:ClinicalDocument/cda:code"><assert test="false()">code allowed</assert></rule>
        <rule context="/cda:ClinicalDocument/*[not(self::cda:code)][not(self::cda:section)]">
          <assert test="false()">not allowed</assert></rule>
        </pattern>""")
    xml = DOC.replace("<code code", "<bogus/><code code")
    assert sorted(m for _, m, _ in run(compile_schematron(path), xml)) == ["code allowed", "not allowed"]


def test_value_sets_are_read_once_per_process(tmp_path: Path) -> None:
    jdv = write(tmp_path, "jdv.xml", "<codes><c>11502-2</c></codes>")
    path = schema(tmp_path, """<pattern id="p"><rule context="cda:code">
        <assert test="@code = doc('jdv.xml')//c">out of set</assert></rule></pattern>""")
    compiled = compile_schematron(path)
    assert run(compiled) == []
    jdv.write_text("<codes><c>other</c></codes>", encoding="utf-8")
    assert run(compiled) == []  # the parsed value set is reused, not read again


def test_doc_available_on_a_missing_file_stays_false(tmp_path: Path) -> None:
    path = schema(tmp_path, """<pattern id="p"><rule context="cda:code">
        <assert test="not(doc-available('absent.rdf'))">available?</assert></rule></pattern>""")
    compiled = compile_schematron(path)
    assert run(compiled) == [] and run(compiled) == []


def test_abstract_rules_see_the_extending_rules_lets_either_way(tmp_path: Path) -> None:
    path = schema(tmp_path, """<pattern id="lib">
        <rule abstract="true" id="closed"><let name="n" value="count(*)"/>
          <assert test="every $c in * satisfies $c/@code">child without code</assert>
          <assert test="$n &lt; 2">too many children: <value-of select="$n"/></assert></rule>
        <rule abstract="true" id="open"><assert test="@code = $wanted">code is not <value-of select="$wanted"/></assert>
          <let name="seen" value="string(@code)"/></rule>
        </pattern>
        <pattern id="use">
          <rule context="cda:section"><extends rule="closed"/></rule>
          <rule context="cda:code"><let name="wanted" value="'1'"/><extends rule="open"/>
            <assert test="$seen = '1'">seen <value-of select="$seen"/></assert></rule>
        </pattern>""")
    concrete, _ = assemble(path)
    shared = concrete.findall("{http://purl.oclc.org/dsdl/schematron}rule")
    assert [r.get("id") for r in shared] == ["closed"]  # "open" reads $wanted: inlined
    assert sorted(m for _, m, _ in run(compile_schematron(path))) == [
        "child without code", "child without code", "code is not 1", "seen 11502-2", "too many children: 3",
    ]
