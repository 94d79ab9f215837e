"""The dashboard rows as FHIR ``Parameters`` (the API's JSON) and as the CSV extract French spreadsheets open.

CSV: ``;``-separated, a header line in French, decimal comma, CRLF, UTF-8 with a byte-order mark (without it
Excel in a French locale reads UTF-8 as Windows-1252 and breaks every accent). The RPPS column says ``tous``
on a FINESS total line. JSON: one ``row`` parameter per line, its parts named as the columns' keys below
(counts ``valueInteger``, percentages ``valueDecimal``, left out when undefined: nothing was delivered or failed).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from server.dashboard.compute import Row, key
from server.delivery.facts import ROUTES

ROUTE_LABELS = {"dmp": "DMP", "mss-pro": "MSSanté professionnels", "mss-patient": "MSSanté patients",
                "dpi": "DPI partenaires"}
HEAD = (("period", "Période"), ("start", "Début"), ("end", "Fin"), ("finess", "FINESS géographique"),
        ("rpps", "RPPS"))
COLUMNS: tuple[tuple[str, str], ...] = (
    ("produced", "CR-Bio produits"),
    ("ins", "CR-Bio avec INS qualifiée"),
    ("subcontracted", "CR-Bio avec analyses sous-traitées"),
    ("subcontracted_pct", "% avec analyses sous-traitées"),
    ("masked", "CR-Bio masqués aux professionnels"),
    ("masked_pct", "% masqués aux professionnels"),
    ("invisible", "CR-Bio invisibles au patient"),
    ("invisible_pct", "% invisibles au patient"),
    *((f"{key(r)}_{name}", f"{ROUTE_LABELS[r]} : {label}") for r in ROUTES for name, label in (
        ("sent", "envois"), ("delivered", "envoyés"), ("delivered_ins", "envoyés avec INS qualifiée"),
        ("delivered_no_ins", "envoyés sans INS qualifiée"), ("failed", "échecs"), ("failed_pct", "taux d'échec (%)"),
        ("pending", "en attente"), ("stopped", "bloqués ou annulés"),
        ("dossiers", "dossiers avec au moins un CR-Bio envoyé"))),
    ("dossiers_all3", "Dossiers envoyés au DMP, en MSSanté professionnels et au patient"),
)
"""Every metric, in column order: (JSON part name, CSV header)."""
BOM = "\ufeff"


def _head(row: Row) -> dict[str, str]:
    return {"period": row.period.code, "start": row.period.first_day, "end": row.period.last_day,
            "finess": row.finess, "rpps": row.rpps}


def as_parameters(rows: list[Row]) -> dict[str, Any]:
    out = []
    for row in rows:
        parts: list[dict[str, Any]] = [
            {"name": name, ("valueDate" if name in ("start", "end") else "valueString"): value}
            for name, value in _head(row).items() if value]
        for name, value in row.metrics().items():
            if isinstance(value, float):
                parts.append({"name": name, "valueDecimal": value})
            elif value is not None:
                parts.append({"name": name, "valueInteger": value})
        out.append({"name": "row", "part": parts})
    return {"resourceType": "Parameters", "parameter": out}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def as_csv(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for _, label in HEAD + COLUMNS])
    for row in rows:
        head = _head(row) | {"period": row.period.label, "rpps": row.rpps or "tous"}
        metrics = row.metrics()
        writer.writerow([head[name] for name, _ in HEAD] + [_cell(metrics[name]) for name, _ in COLUMNS])
    return BOM + buffer.getvalue()
