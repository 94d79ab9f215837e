"""Who wrote what, when: a Provenance per step of the order workflow.

The Provenance (``server/audit.py``) names the exact versions written (``Type/id/_history/n``), the
authenticated caller as the ``enterer`` and the activity (HL7 v3 DataOperation CREATE / UPDATE).
Together with the store's version history it is the trace a changed refusal keeps.
"""

from __future__ import annotations

from resources.interactions import Outcome
from resources.store.base import Stored


def stored_of(outcome: Outcome) -> Stored:
    """The version a create or update wrote (they always say; a read-only outcome is a defect here)."""
    if outcome.stored is None:
        raise RuntimeError(f"expected a written version, got a {outcome.status} outcome without one")
    return outcome.stored
