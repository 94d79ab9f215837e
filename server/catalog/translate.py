"""``ConceptMap/$translate`` over the catalogue's local -> LOINC map, both ways.

Spec: https://hl7.org/fhir/R4/conceptmap-operation-translate.html. Supported input parameters:
``code`` + ``system`` (or ``coding``), ``target`` / ``targetsystem`` (a system to map to: the
LOINC system forward, the catalogue system with ``reverse``), ``reverse``, ``url`` (must be the
catalogue map when given). Output: ``result``, ``message`` when nothing matched, and one
``match`` (``equivalence``, ``concept``, ``source``) per mapping. Forward, a local code gives its
LOINC code; in reverse, a LOINC code gives every catalogue element that carries it.
"""

from __future__ import annotations

from typing import Any

from resources.errors import InvalidInput, NotFound

__all__ = ["TranslateRequest", "translate", "translate_request"]

_TRUE, _FALSE = ("true", "1"), ("false", "0", "")


class TranslateRequest:
    """The input parameters, from a query string or a ``Parameters`` body."""

    def __init__(self, values: dict[str, str]) -> None:
        self.code = values.get("code", "").strip()
        self.system = values.get("system", "").strip()
        self.target = (values.get("targetsystem") or values.get("target") or "").strip()
        self.url = values.get("url", "").strip()
        reverse = values.get("reverse", "").strip().lower()
        if reverse not in _TRUE + _FALSE:
            raise InvalidInput(f"reverse must be true or false, not {reverse!r}", expression="reverse")
        self.reverse = reverse in _TRUE
        if not self.code:
            raise InvalidInput("$translate needs a code (code + system, or coding)", expression="code")


def translate_request(pairs: list[tuple[str, str]], body: dict[str, Any] | None) -> TranslateRequest:
    """Read the query pairs and, on POST, a ``Parameters`` resource (``coding`` split into system/code)."""
    values = dict(pairs)
    if body is not None:
        if body.get("resourceType") != "Parameters":
            raise InvalidInput("the body of $translate must be a Parameters resource", expression="resourceType")
        for param in body.get("parameter", ()):
            name = param.get("name", "")
            if name == "coding":
                coding = param.get("valueCoding", {})
                values.update(code=str(coding.get("code", "")), system=str(coding.get("system", "")))
                continue
            value = next((v for k, v in param.items() if k.startswith("value")), "")
            values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return TranslateRequest(values)


def _match(concept: dict[str, Any], equivalence: str, source: str) -> dict[str, Any]:
    return {"name": "match", "part": [{"name": "equivalence", "valueCode": equivalence},
                                      {"name": "concept", "valueCoding": concept},
                                      {"name": "source", "valueUri": source}]}


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {"system": system, "code": code, **({"display": display} if display else {})}


def translate(concept_map: dict[str, Any], request: TranslateRequest) -> dict[str, Any]:
    """The ``Parameters`` answer of $translate for ``request`` against ``concept_map``."""
    url = concept_map.get("url", "")
    if request.url and request.url != url:
        raise NotFound(f"no ConceptMap {request.url!r}; this server maps with {url}", expression="url")
    matches: list[dict[str, Any]] = []
    for group in concept_map.get("group", ()):
        source, target = group.get("source", ""), group.get("target", "")
        wanted_from, wanted_to = (target, source) if request.reverse else (source, target)
        if request.system not in ("", wanted_from) or request.target not in ("", wanted_to):
            continue
        for element in group.get("element", ()):
            for mapped in element.get("target", ()):
                equivalence = mapped.get("equivalence", "equivalent")
                if request.reverse and mapped.get("code") == request.code:
                    matches.append(_match(_coding(source, element["code"], element.get("display", "")),
                                          equivalence, url))
                elif not request.reverse and element.get("code") == request.code and mapped.get("code"):
                    matches.append(_match(_coding(target, mapped["code"], mapped.get("display", "")),
                                          equivalence, url))
    parameters: list[dict[str, Any]] = [{"name": "result", "valueBoolean": bool(matches)}]
    if not matches:
        direction = "reverse " if request.reverse else ""
        parameters.append({"name": "message", "valueString": f"no {direction}mapping for "
                           f"{request.system or '(any system)'}|{request.code} in {url}"})
    return {"resourceType": "Parameters", "parameter": parameters + matches}
