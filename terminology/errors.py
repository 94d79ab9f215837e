"""Errors of the terminology package, placed in the shared tree of ``resources.errors``.

Ordered by what the caller can do::

    InvalidInput (resources)
    ├── InvalidCode            a LOINC code or UCUM unit is malformed: fix the value      -> 400
    └── Unprocessable (resources)
        └── InvalidCatalog     the catalogue breaks one of its own rules: fix the data   -> 422
    Conflict (resources)
    └── StaleLoincChange       the element changed since the import was read: re-read -> 409
    NotFound (resources)
    └── UnknownCatalogCode     no chapter, exam or analysis has that local code         -> 404

A LOINC_4/5/6 import never raises for a bad line: it reports the line (``ImportReport``) and
leaves it out of the changes. Only a file that cannot be read at all raises ``InvalidInput``.
"""

from __future__ import annotations

from resources.errors import Conflict, InvalidInput, NotFound, Unprocessable


class InvalidCode(InvalidInput):
    """A LOINC code with a wrong check digit, or a unit that is not UCUM."""


class InvalidCatalog(Unprocessable):
    """Duplicate codes, dangling references, inverted intervals... in a catalogue."""


class UnknownCatalogCode(NotFound):
    """A local code that names no element of the catalogue."""


class StaleLoincChange(Conflict):
    """A change was computed against a LOINC assignment that has been replaced since."""
