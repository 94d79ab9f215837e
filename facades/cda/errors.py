"""Errors of the CDA facade, on top of the shared tree in ``resources/errors.py``.

Ordered by what the caller can do::

    InvalidInput (resources)
    └── NotACda                the input is not XML, or holds no ``ClinicalDocument``: reject it  -> 400
    SglError (resources)
    └── KitError               the ANS test kit is missing or a schematron does not compile:
                               an installation problem, not the document's fault: the step that
                               needs it answers 503 with what to install (``sgl kit install``)     -> 503

A document that *is* a CDA but breaks the XSD or a schematron is not an exception: it yields a
``ValidationReport`` whose findings say what and where.
"""

from __future__ import annotations

from resources.errors import InvalidInput, SglError


class NotACda(InvalidInput):
    """Not well-formed XML, or no ``{urn:hl7-org:v3}ClinicalDocument`` in it."""


class KitError(SglError):
    """The conformance kit (XSD, schematrons) is unusable in this installation."""

    status = 503
    issue_code = "exception"
