"""The ORU^R01 carrying a CR-Bio (``facades/hl7v2/crbio_oru.py``): a result's ``NM`` value and reference
range keep the digits the analyzer or the client sent (``1.50``), in plain notation (``NM`` has no exponent)."""

from __future__ import annotations

from facades.hl7v2.crbio_oru import build_crbio_oru
from facades.hl7v2.outbound import OruParties
from facades.hl7v2.parser import parse
from facades.hl7v2.pid import AssigningAuthority
from resources.fhirjson import loads
from tests.support import crbio_samples as samples

RESULT = (b'{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org",'
          b'"code":"2345-7","display":"Glucose"}]},"valueQuantity":{"value":1.50,"unit":"g/L","system":'
          b'"http://unitsofmeasure.org","code":"g/L"},"referenceRange":[{"low":{"value":0.70},'
          b'"high":{"value":1.0E-0}}]}')


def test_nm_values_keep_their_digits_in_plain_notation() -> None:
    parties = OruParties("OPENSGL", "750000000", "DXCARE", "CHU-X", AssigningAuthority("CHU-X", "1.2.3", "ISO"))
    message = build_crbio_oru(parties=parties, control_id="SGL2", event="publish", patient=samples.patient(True),
                              report={"id": "r2", "identifier": [{"value": "D-2"}]}, document=b"<ClinicalDocument/>",
                              flags={}, results=[loads(RESULT)])
    result = [obx for obx in parse(message.to_er7()).segments("OBX") if obx.get("2") == "NM"]
    assert [(obx.get("5"), obx.get("7")) for obx in result] == [("1.50", "0.70-1.0")]
