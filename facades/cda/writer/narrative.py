"""The human-readable ``section/text`` of a result group, the way the PDF prints it.

The entries point into it (``originalText/reference``, comment ``text/reference``), so every
label, coded value and comment carries the id the entry uses.
"""

from __future__ import annotations

from lxml import etree

from facades.cda.writer.cdaxml import sub
from facades.cda.writer.results import Group

HEADERS = ("Examen", "Résultat", "Unité", "Valeurs de référence", "Interprétation")


def french_datetime(value: str) -> str:
    """``2024-01-04T07:35:00+01:00`` -> ``04/01/2024 07:35`` (date only when no time)."""
    date, _, time = value.partition("T")
    parts = date.split("-")
    out = "/".join(reversed(parts))
    return f"{out} {time[:5]}" if time else out


def group_text(section: etree._Element, group: Group) -> None:
    """Append ``text``: specimens, the results table, comments, the executing laboratory."""
    text = sub(section, "text")
    for specimen in group.specimens:
        line = sub(text, "paragraph", "Prélèvement : ")
        content = sub(line, "content", specimen.kind, ID=specimen.ref)
        tail = []
        if specimen.collected:
            tail.append(f"prélevé le {french_datetime(specimen.collected)}")
        if specimen.received:
            tail.append(f"reçu le {french_datetime(specimen.received)}")
        if specimen.accession:
            tail.append(f"n° {specimen.accession}")
        content.tail = (" — " + ", ".join(tail)) if tail else None
    table = sub(text, "table", border="0")
    head = sub(sub(table, "thead"), "tr")
    for header in HEADERS:
        sub(head, "th", header)
    body = sub(table, "tbody")
    for row in group.rows:
        line = sub(body, "tr")
        cell = sub(line, "td", "\u00a0" * 4 * row.depth or None)
        label = sub(cell, "content", row.label, ID=row.ref)
        marks = (" *" if row.accredited else "") + (" (validé automatiquement)" if row.autoverified else "")
        label.tail = marks or None
        value_cell = sub(line, "td")
        if row.value:
            sub(value_cell, "content", row.value, ID=f"{row.ref}-v")
        sub(line, "td", row.unit or None)
        sub(line, "td", row.range or None)
        sub(line, "td", row.flag or None)
    for row in [*group.rows, *group.comments]:
        for index, note in enumerate(row.notes):
            sub(text, "paragraph", f"{row.label} : ").append(_content(note, f"{row.ref}-c{index}"))
    if group.performer:
        sub(text, "paragraph", f"Analyse réalisée par le laboratoire exécutant : {group.performer}")


def _content(value: str, ident: str) -> etree._Element:
    node = etree.Element("{urn:hl7-org:v3}content", ID=ident)
    node.text = value
    return node
