"""Compile a kit schematron once, then run it on documents with SaxonC (step 3).

Compiling is the slow part (assembling hundreds of files, then Saxon compiling thousands of
templates), so it is cached twice:

* on disk, the generated XSLT, under ``$SGL_CACHE_DIR`` (default ``~/.cache/opensgl``) in
  ``schematron/<sha256>.xsl``; the key hashes the compiler version, the entry path and the bytes of
  every file the schematron was assembled from, so editing any included file recompiles;
* in memory, the Saxon executable, once per process and per (entry, phase).

A run parses nothing again: ``validate_cda`` builds one Saxon tree and hands it to every schematron,
and the value sets the rules read come from the process-wide ``DocumentCache``. An executable is
not thread-safe, so each compiled schematron runs one document at a time (its own lock).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from saxonche import PySaxonApiError, PySaxonProcessor, PyXdmNode, PyXsltExecutable

from facades.cda.conformance.assemble import assemble
from facades.cda.conformance.documents import DocumentCache
from facades.cda.conformance.report import Finding, Severity
from facades.cda.conformance.xslt import SGL_NS, SVRL_NS, render
from facades.cda.errors import KitError

log = logging.getLogger(__name__)

COMPILER_VERSION = "10"
_V = f"{{{SVRL_NS}}}"
_G = f"{{{SGL_NS}}}"
_SEVERITY: dict[str, Severity] = {"error": "error", "fatal": "error", "warning": "warning", "warn": "warning",
                                  "info": "info", "information": "info"}


def cache_dir() -> Path:
    """Where compiled schematrons go: ``$SGL_CACHE_DIR/schematron``, else ``~/.cache/opensgl/schematron``."""
    root = os.environ.get("SGL_CACHE_DIR") or str(Path.home() / ".cache" / "opensgl")
    return Path(root) / "schematron"


_lock = threading.Lock()
_processor: PySaxonProcessor | None = None


def saxon() -> PySaxonProcessor:
    """The process-wide Saxon processor (SaxonC wants one)."""
    global _processor
    with _lock:
        if _processor is None:
            _processor = PySaxonProcessor(license=False)
        return _processor


_documents: DocumentCache | None = None


def documents() -> DocumentCache:
    """The process-wide cache of kit documents read by rules."""
    global _documents
    processor = saxon()
    with _lock:
        if _documents is None:
            _documents = DocumentCache(processor)
        return _documents


@dataclass
class CompiledSchematron:
    """A schematron ready to run: its name for findings and the Saxon executable (one run at a time)."""

    name: str
    executable: PyXsltExecutable
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, document: PyXdmNode) -> list[Finding]:
        """Findings of this schematron on a document already parsed by ``saxon()``."""
        cache = documents()
        with self.lock:
            self.executable.set_parameter(f"{{{SGL_NS}}}docs", cache.parameter())
            try:
                svrl = self.executable.transform_to_string(xdm_node=document)
            except PySaxonApiError as exc:
                raise KitError(f"schematron {self.name} failed on the document: {exc}") from exc
            messages = self.executable.get_xsl_messages()
            self.executable.clear_xsl_messages()
        if messages is not None:
            cache.learn(str(messages.item_at(i).string_value) for i in range(messages.size))
        return parse_svrl(svrl or "", self.name)


def parse_svrl(svrl: str, source: str) -> list[Finding]:
    """Turn our SVRL subset into findings; a ``role`` outside error/warning/info counts as error."""
    root = etree.fromstring(svrl.encode("utf-8"))
    findings = []
    for node in root:
        if node.tag not in (f"{_V}failed-assert", f"{_V}successful-report"):
            continue
        role = (node.get("role") or "error").lower()
        text = node.find(f"{_V}text")
        message = " ".join("".join(text.itertext()).split()) if text is not None else ""
        findings.append(Finding(
            severity=_SEVERITY.get(role, "error"),
            source=source,
            message=message,
            location=node.get("location", ""),
            test=node.get("test") or None,
            rule_id=node.get(f"{_G}rule"),
            pattern=node.get(f"{_G}pattern"),
            see=node.get("see"),
        ))
    return findings


def _cache_key(entry: Path, phase: str | None, rewrites: Mapping[str, str],
               files: Mapping[Path, bytes]) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps([COMPILER_VERSION, str(entry), phase, sorted(rewrites.items())]).encode())
    for path in sorted(files):
        digest.update(str(path).encode() + b"\0" + hashlib.sha256(files[path]).digest())
    return digest.hexdigest()


def _xslt_source(entry: Path, phase: str | None, rewrites: Mapping[str, str]) -> bytes:
    """The generated XSLT, from the disk cache when the schematron's files are unchanged."""
    schema, files = assemble(entry, phase=phase, rewrites=rewrites)
    cached = cache_dir() / f"{_cache_key(entry, phase, rewrites, files)}.xsl"
    if cached.is_file():
        return cached.read_bytes()
    xslt = render(schema, entry.parent)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(xslt)
        tmp.replace(cached)
    except OSError as exc:  # a read-only home must not stop validation
        log.warning("cannot write schematron cache %s: %s", cached, exc)
    return xslt


_compiled: dict[tuple[Path, str | None], CompiledSchematron] = {}


def compile_schematron(entry: Path, *, phase: str | None = None,
                       rewrites: Mapping[str, str] | None = None) -> CompiledSchematron:
    """The compiled schematron for ``entry``, built at most once per process."""
    key = (entry.resolve(), phase)
    with _lock:
        found = _compiled.get(key)
    if found is not None:
        return found
    xslt = _xslt_source(key[0], phase, rewrites or {})
    processor = saxon().new_xslt30_processor()
    try:
        executable = processor.compile_stylesheet(stylesheet_text=xslt.decode("utf-8"), encoding="UTF-8")
    except PySaxonApiError as exc:
        raise KitError(f"schematron {entry.name} does not compile: {exc}", expression=str(entry)) from exc
    executable.set_save_xsl_message(True)
    compiled = CompiledSchematron(name=entry.name, executable=executable)
    with _lock:
        _compiled.setdefault(key, compiled)
        return _compiled[key]
