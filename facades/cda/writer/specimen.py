"""Specimen -> Specimen Collection entry (IHE 1.3.6.1.4.1.19376.1.3.1.2 / FR-Prelevement 1.2.250.1.213.1.1.3.77).

Collection time, specimen type (HL7 v2 table 0487, the CI-SIS JDV_HL7_SpecimenType), accession
number, and the reception time in the lab as the SPRECEIVE act the volet asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import code_el, coding_of, sub, templates, ts

V2_0487 = "http://terminology.hl7.org/CodeSystem/v2-0487"
# Display names of the common types, from JDV_HL7_SpecimenType_CISIS (codeSystem 2.16.840.1.113883.18.311).
SPECIMEN_TYPES = {"BLD": "Sang", "SER": "Sérum", "PLAS": "Plasma", "UR": "Urine", "CSF": "Liquide céphalorachidien",
                  "STL": "Selles", "SPT": "Expectoration (crachat)"}


@dataclass
class SpecimenRow:
    """What the narrative and the stylesheet show for one specimen."""

    ref: str
    kind: str
    collected: str = ""
    received: str = ""
    accession: str = ""


def specimen_collection(act: etree._Element, specimen: dict[str, Any], ref: str, *, local_root: str,
                        expression: str) -> SpecimenRow:
    """Append ``entryRelationship/procedure`` for one FHIR Specimen to a result act."""
    coding = coding_of(specimen.get("type"), V2_0487)
    kind = str((specimen.get("type") or {}).get("text") or (coding or {}).get("display")
               or SPECIMEN_TYPES.get(str((coding or {}).get("code")), "Échantillon"))
    row = SpecimenRow(ref=ref, kind=kind)
    procedure = sub(sub(act, "entryRelationship", typeCode="COMP"), "procedure", classCode="PROC", moodCode="EVN")
    templates(procedure, "1.3.6.1.4.1.19376.1.3.1.2", "1.2.250.1.213.1.1.3.77")
    method = coding_of((specimen.get("collection") or {}).get("method"))
    if method:
        code_el(procedure, "code", method)
    collected = (specimen.get("collection") or {}).get("collectedDateTime")
    if collected:
        row.collected = collected
        sub(sub(procedure, "effectiveTime"), "high",
            value=ts(collected, expression=f"{expression}.collection.collectedDateTime"))
    else:
        sub(procedure, "effectiveTime", nullFlavor="UNK")
    role = sub(sub(procedure, "participant", typeCode="PRD"), "participantRole", classCode="SPEC")
    accession = (specimen.get("accessionIdentifier") or {}).get("value")
    if accession:
        row.accession = str(accession)
    # PaLM wants exactly one participantRole/id: the accession number, else the sender's first identifier,
    # else our own id of the Specimen (a system posting one without accession number, FR Core style).
    other = next((i.get("value") for i in specimen.get("identifier", ()) if i.get("value")), None)
    sub(role, "id", root=local_root, extension=str(accession or other or specimen.get("id") or "inconnu"))
    entity = sub(role, "playingEntity")
    if coding:
        type_code = code_el(entity, "code", {**coding, "display": coding.get("display")
                                             or SPECIMEN_TYPES.get(str(coding.get("code")))})
        sub(sub(type_code, "originalText"), "reference", value=f"#{ref}")
    received = specimen.get("receivedTime")
    if received:
        row.received = received
        receive = sub(sub(procedure, "entryRelationship", typeCode="COMP"), "act", classCode="ACT", moodCode="EVN")
        templates(receive, "1.3.6.1.4.1.19376.1.3.1.3", "1.2.250.1.213.1.1.3.107")
        sub(receive, "code", code="SPRECEIVE", displayName="Échantillon reçu", codeSystem="1.3.5.1.4.1.19376.1.5.3.2",
            codeSystemName="IHEActCode")
        sub(receive, "effectiveTime", value=ts(received, expression=f"{expression}.receivedTime"))
    return row
