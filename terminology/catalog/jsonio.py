"""Catalogue <-> plain JSON dict, the format of ``terminology/seed/*.json``.

Decimals travel as strings so that ``0.70`` keeps its two decimals; dates as ISO 8601 with an
offset. Field names are the dataclass field names, so the JSON reads like the model.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from terminology.catalog.model import (
    Analysis,
    Analyzer,
    Catalog,
    Chapter,
    Container,
    Exam,
    InstrumentCode,
    LoincAssignment,
    LoincParts,
    ReferenceInterval,
    ResultType,
    Sex,
    Specimen,
    SubChapter,
    Unit,
)
from terminology.errors import InvalidCatalog


def _dec(value: Any, where: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidCatalog(f"{value!r} is not a decimal", expression=where) from exc


def loinc_from_dict(data: dict[str, Any] | None) -> LoincAssignment | None:
    if not data:
        return None
    return LoincAssignment(code=data["code"], display=data.get("display", ""),
                           created=datetime.fromisoformat(data["created"]),
                           modified=datetime.fromisoformat(data["modified"]), source=data.get("source", ""))


def _unit(data: dict[str, str] | None) -> Unit | None:
    return Unit(**data) if data else None


def _interval(data: dict[str, Any], where: str) -> ReferenceInterval:
    return ReferenceInterval(low=_dec(data.get("low"), where), high=_dec(data.get("high"), where),
                             sex=Sex(data["sex"]) if data.get("sex") else None,
                             age_min=_dec(data.get("age_min"), where),
                             age_max=_dec(data.get("age_max"), where))


def _analysis(data: dict[str, Any]) -> Analysis:
    where = f"analysis:{data.get('code')}"
    try:
        return Analysis(
            code=data["code"], label=data["label"], chapter=data["chapter"],
            subchapter=data.get("subchapter"), specimen=data["specimen"], parts=LoincParts(**data["parts"]),
            result_type=ResultType(data.get("result_type", "numeric")),
            synonyms=tuple(data.get("synonyms", ())), unit=_unit(data.get("unit")),
            alt_units=tuple(Unit(**u) for u in data.get("alt_units", ())), decimals=data.get("decimals"),
            reference_intervals=tuple(_interval(i, where) for i in data.get("reference_intervals", ())),
            critical_low=_dec(data.get("critical_low"), where),
            critical_high=_dec(data.get("critical_high"), where),
            cofrac=bool(data.get("cofrac", False)),
            instrument_codes=tuple(InstrumentCode(**i) for i in data.get("instrument_codes", ())),
            nabm=tuple(data.get("nabm", ())), loinc=loinc_from_dict(data.get("loinc")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCatalog(f"malformed analysis: {exc}", expression=where) from exc


def _exam(data: dict[str, Any]) -> Exam:
    try:
        return Exam(code=data["code"], label=data["label"], chapter=data["chapter"],
                    subchapter=data.get("subchapter"), specimen=data["specimen"], container=data["container"],
                    analyses=tuple(data["analyses"]), synonyms=tuple(data.get("synonyms", ())),
                    nabm=tuple(data.get("nabm", ())), loinc=loinc_from_dict(data.get("loinc")))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCatalog(f"malformed exam: {exc}", expression=f"exam:{data.get('code')}") from exc


def catalog_from_dict(data: dict[str, Any]) -> Catalog:
    """Build and validate a catalogue; raises ``InvalidCatalog`` naming the element."""
    try:
        chapters = tuple(
            Chapter(code=c["code"], label=c["label"], loinc=loinc_from_dict(c.get("loinc")),
                    subchapters=tuple(SubChapter(code=s["code"], label=s["label"],
                                                 loinc=loinc_from_dict(s.get("loinc")))
                                      for s in c.get("subchapters", ())))
            for c in data["chapters"])
        specimens = tuple(Specimen(**s) for s in data["specimens"])
        containers = tuple(Container(**c) for c in data["containers"])
        analyzers = tuple(Analyzer(**a) for a in data.get("analyzers", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidCatalog(f"malformed catalogue: {exc}", expression="catalog") from exc
    return Catalog(chapters=chapters, specimens=specimens, containers=containers, analyzers=analyzers,
                   analyses=tuple(_analysis(a) for a in data["analyses"]),
                   exams=tuple(_exam(e) for e in data["exams"]))


def _plain(value: Any) -> Any:
    """Dataclasses to dicts, tuples to lists, decimals to strings, dates to ISO 8601, enums to values."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def catalog_to_dict(catalog: Catalog) -> dict[str, Any]:
    """The JSON form read back by ``catalog_from_dict``."""
    data: dict[str, Any] = _plain(catalog)
    return data
