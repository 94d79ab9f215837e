"""Which messages are patient data: the processing id a sender puts on each message (HL7 MSH-11, ASTM H.12).

A training (T), debugging (D) or quality-control (Q, ASTM) message is not patient data: an analyzer in service
mode or a test interface pointed at the production server sent results on real tubes, and they were stored as
the patients' preliminary results. A production SGL processes P (or no value: older senders leave it empty)
and refuses the others with the reason; a qualification server (``SGL_TEST_MODE``, fed the ANS kits, which say
D) processes T and D too. Both dispatchers ask ``refusal`` before any handler.
"""

from __future__ import annotations

PRODUCTION = frozenset({"P", ""})
TESTING = PRODUCTION | {"T", "D"}
NAMES = {"P": "production", "T": "training", "D": "debugging", "Q": "quality control"}


def accepted(test_mode: bool) -> frozenset[str]:
    return TESTING if test_mode else PRODUCTION


def refusal(processing_id: str, field: str, processed: frozenset[str]) -> str | None:
    """Why a message with this processing id (as sent, in ``field``) is not processed; None when it is."""
    value = processing_id.strip().upper()
    if value in processed:
        return None
    kinds = " and ".join(sorted(p for p in processed if p))
    return f"{field} {value} ({NAMES.get(value, 'unknown processing id')}): this SGL processes only {kinds} messages"
