"""One result -> a Laboratory Observation entry (IHE PaLM 1.3.6.1.4.1.19376.1.3.1.6 / FR 1.2.250.1.213.1.1.3.80).

The value keeps its FHIR meaning: a quantity is a UCUM ``PQ`` (an ``IVL_PQ`` half-interval when the
quantity has a comparator, as antibiogram MICs do), a coded value a ``CD``, a text an ``ST``. Each
observation's label and value are also written in the section narrative, and the entry points back
to them (``originalText/reference``) as the FR template requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, UCUM_URL, code_el, coding_of, sub, system_oid, templates, ts
from resources.codes import LOINC_SYSTEM
from resources.decimals import ExactDecimal, plain_text
from resources.errors import InvalidInput

INTERPRETATION_SYSTEM = "2.16.840.1.113883.5.83"
# Display names from the CI-SIS value set JDV_HL7_ObservationInterpretation_CISIS (2.16.840.1.113883.1.11.78).
INTERPRETATIONS = {
    "<": "Inférieur à la limite de détection", ">": "Supérieur à la limite maximale de mesure",
    "A": "Anormal", "AA": "Très anormal, alerte", "H": "Anormalement haut",
    "HH": "Très anormalement haut, alerte", "L": "Anormalement bas", "LL": "Très anormalement bas, alerte",
    "N": "Normal", "I": "Intermédiaire", "R": "Résistant", "S": "Sensible", "SDD": "Sensible à forte dose",
    "NS": "Non sensible", "POS": "Positif", "NEG": "Négatif", "DET": "Détecté", "ND": "Non détecté",
    "IND": "Indéterminé", "E": "Équivoque", "RR": "Réactif", "NR": "Non réactif", "WR": "Faiblement réactif",
    "U": "Augmentation significative par rapport au résultat antérieur",
    "D": "Diminution significative par rapport au résultat antérieur",
}
_COMPARATOR = {"<": ("high", "false"), "<=": ("high", "true"), ">": ("low", "false"), ">=": ("low", "true")}


@dataclass
class Row:
    """What the narrative shows for one observation (and what the stylesheet finds in the entry)."""

    ref: str
    label: str
    value: str = ""
    unit: str = ""
    range: str = ""
    flag: str = ""
    notes: tuple[str, ...] = ()
    depth: int = 0
    accredited: bool = False
    autoverified: bool = False


def _number(value: Any) -> str:
    """A result's digits: as sent for a decimal read with its precision (``1.50`` stays ``1.50``), else the
    float without the zeros Python's fixed notation adds."""
    if isinstance(value, ExactDecimal):
        return plain_text(value)
    return format(value, "f").rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def _unit(quantity: dict[str, Any]) -> str:
    """The UCUM code (``1`` for a dimensionless quantity); the printable unit is kept for the narrative."""
    if quantity.get("system") in (UCUM_URL, None) and quantity.get("code"):
        return str(quantity["code"])
    return "1"


def label_of(concept: dict[str, Any] | None) -> str:
    coding = coding_of(concept) or {}
    return str((concept or {}).get("text") or coding.get("display") or coding.get("code") or "Résultat")


def code(parent: etree._Element, concept: dict[str, Any] | None, ref: str, *, expression: str) -> None:
    """The result code: LOINC first (with its display, required), else the lab's local code."""
    coding = coding_of(concept, LOINC_SYSTEM)
    if not coding or not system_oid(coding.get("system")):
        raise InvalidInput("a result needs a LOINC code or a local code in an urn:oid: system",
                           expression=f"{expression}.code")
    node = code_el(parent, "code", {**coding, "display": coding.get("display") or label_of(concept)})
    if node.get("codeSystem") != LOINC:
        node.attrib.pop("codeSystemName", None)
    sub(sub(node, "originalText"), "reference", value=f"#{ref}")


def _value(obs: etree._Element, fhir: dict[str, Any], row: Row, expression: str) -> None:
    if "valueQuantity" in fhir:
        quantity = fhir["valueQuantity"]
        if quantity.get("value") is None:
            raise InvalidInput("valueQuantity has no value", expression=f"{expression}.valueQuantity.value")
        number, unit = _number(quantity["value"]), _unit(quantity)
        comparator = quantity.get("comparator")
        if comparator in _COMPARATOR:
            side, inclusive = _COMPARATOR[comparator]
            value = sub(obs, "value", xsi_type="IVL_PQ")
            sub(value, side, value=number, unit=unit, inclusive=inclusive)
        else:
            sub(obs, "value", xsi_type="PQ", value=number, unit=unit)
        row.value = f"{comparator or ''}{number}"
        row.unit = str(quantity.get("unit") or (unit if unit != "1" else ""))
    elif "valueCodeableConcept" in fhir:
        concept = fhir["valueCodeableConcept"]
        row.value = label_of(concept)
        coding = coding_of(concept)
        value = code_el(obs, "value", coding, xsi_type="CD") if coding and system_oid(coding.get("system")) \
            else sub(obs, "value", xsi_type="CD")
        value.attrib.pop("nullFlavor", None)
        sub(sub(value, "originalText"), "reference", value=f"#{row.ref}-v")
    elif "valueString" in fhir:
        row.value = str(fhir["valueString"])
        sub(obs, "value", row.value, xsi_type="ST")
    elif "valueInteger" in fhir:
        row.value = str(fhir["valueInteger"])
        sub(obs, "value", xsi_type="INT", value=row.value)
    elif any(key.startswith("value") for key in fhir):
        kind = next(key for key in fhir if key.startswith("value"))
        raise InvalidInput(f"{kind} is not supported in a CR-Bio result", expression=f"{expression}.{kind}")


def _interpretation(obs: etree._Element, fhir: dict[str, Any], row: Row, expression: str) -> None:
    for index, concept in enumerate(fhir.get("interpretation", [])):
        coding = coding_of(concept) or {}
        flag = str(coding.get("code", ""))
        if flag not in INTERPRETATIONS:
            raise InvalidInput(f"interpretation {flag!r} is not in JDV_HL7_ObservationInterpretation_CISIS",
                               expression=f"{expression}.interpretation[{index}]")
        sub(obs, "interpretationCode", code=flag, displayName=INTERPRETATIONS[flag], codeSystem=INTERPRETATION_SYSTEM)
        row.flag = flag


def _range(obs: etree._Element, fhir: dict[str, Any], row: Row) -> None:
    """At most one referenceRange (volet rule): the first one."""
    ranges = fhir.get("referenceRange") or []
    if not ranges:
        return
    first = ranges[0]
    observation_range = sub(sub(obs, "referenceRange", typeCode="REFV"), "observationRange",
                            classCode="OBS", moodCode="EVN.CRT")
    if first.get("text"):
        sub(observation_range, "text", str(first["text"]))
    bounds = [(side, first[side]) for side in ("low", "high") if first.get(side, {}).get("value") is not None]
    if bounds:
        value = sub(observation_range, "value", xsi_type="IVL_PQ")
        for side, quantity in bounds:
            sub(value, side, value=_number(quantity["value"]), unit=_unit(quantity))
    sub(observation_range, "interpretationCode", code="N", displayName="Normal", codeSystem=INTERPRETATION_SYSTEM)
    low, high = (first.get(s, {}).get("value") for s in ("low", "high"))
    row.range = str(first.get("text") or (f"{_number(low) if low is not None else ''} - "
                                          f"{_number(high) if high is not None else ''}").strip(" -"))


def _comments(obs: etree._Element, fhir: dict[str, Any], row: Row) -> None:
    """Observation.note -> FR-Commentaire entries pointing at the narrative paragraph."""
    notes = tuple(str(n["text"]) for n in fhir.get("note", []) if n.get("text"))
    row.notes = notes
    for index, _ in enumerate(notes):
        comment_act(obs, f"{row.ref}-c{index}")


def comment_act(parent: etree._Element, ref: str) -> None:
    """A comment entry (code 48767-8) whose text is the narrative element ``ref``."""
    act = sub(sub(parent, "entryRelationship", typeCode="SUBJ", inversionInd="true"), "act",
              classCode="ACT", moodCode="EVN")
    templates(act, "2.16.840.1.113883.10.20.1.40", "1.3.6.1.4.1.19376.1.5.3.1.4.2", "1.2.250.1.213.1.1.3.32")
    sub(act, "code", code="48767-8", displayName="Commentaire", codeSystem=LOINC, codeSystemName="LOINC")
    sub(sub(act, "text"), "reference", value=f"#{ref}")
    sub(act, "statusCode", code="completed")


def observation(parent: etree._Element, fhir: dict[str, Any], ref: str, *, when: str,
                expression: str, depth: int = 0) -> Row:
    """Append ``observation`` for one FHIR Observation (or component) and return its narrative row."""
    row = Row(ref=ref, label=label_of(fhir.get("code")), depth=depth)
    obs = sub(parent, "observation", classCode="OBS", moodCode="EVN")
    templates(obs, "1.3.6.1.4.1.19376.1.3.1.6", "1.2.250.1.213.1.1.3.80")
    code(obs, fhir.get("code"), ref, expression=expression)
    sub(obs, "statusCode", code="aborted" if fhir.get("status") == "cancelled" else "completed")
    effective = fhir.get("effectiveDateTime") or fhir.get("issued")
    sub(obs, "effectiveTime", value=ts(effective, expression=f"{expression}.effectiveDateTime") if effective else when)
    _value(obs, fhir, row, expression)
    _interpretation(obs, fhir, row, expression)
    _comments(obs, fhir, row)
    _range(obs, fhir, row)
    return row
