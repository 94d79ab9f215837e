"""Code-list lookups through keys (facades/cda/conformance/lookups.py): only the exact shape is rewritten."""

from __future__ import annotations

from facades.cda.conformance.lookups import index_text_lookups

UCUM = "exists(sgl:doc(concat($path, '2.16.840.1.113883.6.8.xml') )//code[text()= string($unit) ])"


def test_a_text_lookup_in_a_kit_document_goes_through_a_key() -> None:
    keys: dict[str, str] = {}
    assert index_text_lookups(f"not({UCUM})", keys) == (
        "not(exists((let $sgl:key := string($unit) return "
        "sgl:doc(concat($path, '2.16.840.1.113883.6.8.xml') )/key('sgl:text-1', $sgl:key, .))))")
    rdf = "sgl:doc(concat($p, $cs, '.rdf'))//skos:notation[text() = string(@code)]"
    assert index_text_lookups(f"{rdf} and {UCUM}", keys).count("key('sgl:text-") == 2
    assert keys == {"code": "sgl:text-1", "skos:notation": "sgl:text-2"}


def test_other_shapes_are_left_alone() -> None:
    keys: dict[str, str] = {}
    for expr in ("sgl:doc('a.xml')//code[text() = string(@x) and @y]",  # more than the comparison
                 "sgl:doc('a.xml')//code[text() = $x]",  # not a string operand
                 "$vs//code[text() = string(@x)]",  # not a document read through the cache
                 "f(sgl:doc('a.xml'))//code[text() = string(@x)]",
                 "sgl:doc('a.xml')//code[. = string(@x)]",
                 "'sgl:doc(1)//code[text() = string(2)]'"):
        assert index_text_lookups(expr, keys) == expr
    assert keys == {}
