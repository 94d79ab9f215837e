"""The public surface of the CR-Bio reader, pinned."""

from __future__ import annotations

import facades.cda.reader


def test_reader_exports() -> None:
    assert sorted(facades.cda.reader.__all__) == ["DocumentPatient", "SubcontractedReport", "read_crbio"]
    assert all(hasattr(facades.cda.reader, name) for name in facades.cda.reader.__all__)
