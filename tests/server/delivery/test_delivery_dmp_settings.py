"""The dossier's DMP settings read from the report's security labels and tag."""

from __future__ import annotations

import pytest

from server.delivery.channel import DeliverySettings
from server.delivery.dmp_settings import BLOCK_SYSTEM, VISIBILITY_SYSTEM, dmp_block, dmp_visibility


@pytest.mark.req("SGL.DOC.15", "SGL.DMP.02")
def test_security_labels_and_block_tag_SGL_DOC_15_SGL_DMP_02() -> None:
    report = {"resourceType": "DiagnosticReport", "meta": {
        "security": [{"system": VISIBILITY_SYSTEM, "code": "MASQUE_PS"},
                     {"system": VISIBILITY_SYSTEM, "code": "INVISIBLE_REPRESENTANTS_LEGAUX"},
                     {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"},
                     {"system": "other", "code": "INVISIBLE_PATIENT"}],
        "tag": [{"system": BLOCK_SYSTEM, "code": "DMP_BLOQUE", "display": "expertise assurance"}]}}
    settings = DeliverySettings(**dmp_visibility(report))
    assert (settings.masked_to_professionals, settings.invisible_to_patient,
            settings.invisible_to_legal_representatives) == (True, False, True)
    assert dmp_block(report) == "expertise assurance"
    assert dmp_visibility({"resourceType": "DiagnosticReport"}) == {
        "masked_to_professionals": False, "invisible_to_patient": False, "invisible_to_legal_representatives": False}
    assert dmp_block({"meta": {"tag": [{"system": BLOCK_SYSTEM, "code": "OTHER"}]}}) is None
