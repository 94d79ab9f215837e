"""The process-wide cache of kit documents read by rules (facades/cda/conformance/documents.py)."""

from __future__ import annotations

from pathlib import Path

from facades.cda.conformance.documents import MAX_ENTRIES, MESSAGE_PREFIX, DocumentCache
from facades.cda.conformance.schematron import saxon


def test_reported_documents_are_parsed_once_and_absent_ones_remembered(tmp_path: Path) -> None:
    present = tmp_path / "jdv.xml"
    present.write_text("<codes><c>1</c></codes>", encoding="utf-8")
    cache = DocumentCache(saxon())
    uris = [present.as_uri(), (tmp_path / "absent.rdf").as_uri()]
    cache.learn([MESSAGE_PREFIX + u for u in uris] + ["some other xsl:message"])
    assert len(cache) == 2
    assert cache.parameter().map_size == 2
    cache.learn([MESSAGE_PREFIX + uris[0]])
    assert len(cache) == 2


def test_cache_stops_growing_at_its_bound(tmp_path: Path) -> None:
    cache = DocumentCache(saxon())
    cache.learn(MESSAGE_PREFIX + (tmp_path / f"{n}.rdf").as_uri() for n in range(MAX_ENTRIES + 50))
    assert len(cache) == MAX_ENTRIES


def test_non_file_and_malformed_documents_are_not_cached(tmp_path: Path) -> None:
    broken = tmp_path / "broken.xml"
    broken.write_text("<not-closed>", encoding="utf-8")
    cache = DocumentCache(saxon())
    cache.learn([MESSAGE_PREFIX + "http://example.org/x.xml", MESSAGE_PREFIX + broken.as_uri()])
    assert len(cache) == 0
