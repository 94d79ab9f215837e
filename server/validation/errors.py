"""Errors of the validation workflow (subclasses of the resources/errors.py tree).

::

    Unavailable
    └── InvalidRulesFile      the lab's rules file is unreadable or wrong: fix it, then retry -> 503

Wrong state transitions and results that break a lab rule are ``RuleViolation`` with the
workflow's rule id (``VAL-xx``, listed in README.md).
"""

from __future__ import annotations

from resources.errors import Unavailable


class InvalidRulesFile(Unavailable):
    """The configuration, not the request, is wrong: the step cannot run until it is fixed."""
