"""The store's conflict errors are both FHIR errors (409 OperationOutcome) and the driver errors that
callers retrying a transaction recognise (label ``TransientTransactionError``, ``DuplicateKeyError``)."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from resources.errors import Conflict, WriteConflict
from resources.store.mongo import DuplicateConflict, TransactionConflict


def test_a_transaction_conflict_is_a_409_and_keeps_its_retry_label() -> None:
    cause = OperationFailure("WriteConflict error", 112, {"errorLabels": ["TransientTransactionError"]})
    error = TransactionConflict(cause)
    assert isinstance(error, WriteConflict) and error.status == 409
    assert error.outcome()["issue"][0]["code"] == "conflict"
    assert isinstance(error, PyMongoError) and error.has_error_label("TransientTransactionError")
    assert error.code == 112


def test_a_duplicate_key_is_a_409_naming_the_element_and_still_a_duplicate_key_error() -> None:
    cause = DuplicateKeyError("E11000", 11000, {"keyPattern": {"u.accession": 1}, "keyValue": {"u.accession": "7"}})
    error = DuplicateConflict("Specimen.accessionIdentifier '7' is taken", cause,
                              expression="Specimen.accessionIdentifier")
    assert isinstance(error, Conflict) and error.status == 409
    assert error.expression == ["Specimen.accessionIdentifier"]
    assert isinstance(error, DuplicateKeyError) and error.code == 11000
