"""Kit files that rules read (value sets, UCUM, Art-Decor ``voc-*.xml``), parsed once per process.

Saxon keeps ``doc()`` results only for one transformation, so every validation would re-parse the
same value sets (UCUM alone is 250 kB, ~10 ms). The compiled stylesheets call ``sgl:doc``,
``sgl:document`` and ``sgl:doc-available`` instead (see ``xslt.py``): they look the absolute URI up
in the ``sgl:docs`` map parameter and, on a miss, emit an ``xsl:message`` and fall back to the
standard function. After the run we parse what was missed, so from the second document on nothing
is read again. A URI whose file does not exist is remembered as ``false()``: ``doc-available`` then
answers without touching the disk, while ``doc`` still raises FODC0002 as the kit expects.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlparse

from saxonche import PySaxonApiError, PySaxonProcessor, PyXdmMap, PyXdmValue

log = logging.getLogger(__name__)

MESSAGE_PREFIX = "sgl:miss "
# A document's codes choose which terminology files rules probe (``<codeSystem>.rdf``): bound the
# cache so that a document full of made-up code systems cannot grow it without end.
MAX_ENTRIES = 512


class DocumentCache:
    """The ``sgl:docs`` map shared by every compiled schematron of the process."""

    def __init__(self, processor: PySaxonProcessor) -> None:
        self._processor = processor
        self._lock = threading.Lock()
        self._entries: dict[str, PyXdmValue] = {}
        self._map: PyXdmMap | None = None

    def parameter(self) -> PyXdmMap:
        """The current map from absolute URI to document node (or ``false()`` when absent)."""
        with self._lock:
            if self._map is None:
                self._map = self._processor.make_map2(dict(self._entries))
            return self._map

    def learn(self, messages: Iterable[str]) -> None:
        """Parse the documents a run reported missing from the map (``sgl:miss <uri>`` messages)."""
        for uri in {m.strip().removeprefix(MESSAGE_PREFIX) for m in messages if m.strip().startswith(MESSAGE_PREFIX)}:
            with self._lock:
                if uri in self._entries:
                    continue
                if len(self._entries) >= MAX_ENTRIES:
                    log.warning("kit document cache full (%d); %s stays uncached", MAX_ENTRIES, uri)
                    return
            entry = self._load(uri)
            if entry is None:
                continue
            with self._lock:
                self._entries[uri] = entry
                self._map = None

    def __len__(self) -> int:
        return len(self._entries)

    def _load(self, uri: str) -> PyXdmValue | None:
        parsed = urlparse(uri)
        if parsed.scheme != "file":
            return None
        path = Path(unquote(parsed.path))
        if not path.is_file():
            return self._processor.make_boolean_value(False)
        try:
            return self._processor.parse_xml(xml_file_name=str(path))
        except PySaxonApiError as exc:  # left to doc() to report at each run
            log.warning("kit document %s is not XML: %s", path, exc)
            return None
