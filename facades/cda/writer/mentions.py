"""The conclusion and the lab's mentions, in the one FR-Commentaire-non-code section CR-BIO allows.

SGL.DOC.08-10 apply to the N3 as to the PDF: the RGPD text (always, when the lab set one), the
autoverification notice iff a line of this document was validated by the rules with no later
review (that line is marked in its table too), and the Cofrac paragraph iff a line is accredited
(number, activity, scope, and the legend of the ``*`` that marks those lines). None of them is a
coded result, so they live in the narrative of the comment section (55112-7), after the
biologist's conclusion; a report without accredited lines says nothing about Cofrac. A lab that makes a
patient and a professional version (SGL.DOC.02) says first which copy this one is.
"""

from __future__ import annotations

from lxml import etree

from facades.cda.writer.cdaxml import LOINC, sub, templates
from facades.cda.writer.model import CrBioInput
from facades.cda.writer.observation import Row
from resources.errors import InvalidInput

COMMENT_TEMPLATES = ("2.16.840.1.113883.10.12.201", "1.3.6.1.4.1.19376.1.4.1.2.16", "1.2.250.1.213.1.1.2.73")


def mention_paragraphs(data: CrBioInput, rows: list[Row]) -> list[tuple[str, str]]:
    """(id, text) of each mention this document must carry, in print order."""
    mentions = data.mentions
    out: list[tuple[str, str]] = [("mention-exemplaire", mentions.copy)] if mentions.copy else []
    if any(r.accredited for r in rows):
        if not mentions.cofrac_number:
            raise InvalidInput("results are marked accredited but the laboratory has no Cofrac number",
                               expression="CrBioInput.mentions.cofrac_number")
        out.append(("mention-cofrac", f"Accréditation Cofrac n° {mentions.cofrac_number} — "
                                      f"{mentions.cofrac_activity}. {mentions.cofrac_scope}."))
        out.append(("mention-cofrac-legende", "* Seuls les examens marqués d'un astérisque (*) sont couverts par "
                                              f"l'accréditation Cofrac n° {mentions.cofrac_number}."))
    if mentions.autoverification and any(r.autoverified for r in rows):
        out.append(("mention-autovalidation", mentions.autoverification))
    if mentions.rgpd:
        out.append(("mention-rgpd", mentions.rgpd))
    return out


def comment_section(body: etree._Element, data: CrBioInput, rows: list[Row]) -> None:
    """The conclusion (if any) then the mentions; nothing at all when there is neither."""
    conclusion = str(data.report.get("conclusion") or "")
    paragraphs = mention_paragraphs(data, rows)
    if not conclusion and not paragraphs:
        return
    section = sub(sub(body, "component"), "section")
    templates(section, *COMMENT_TEMPLATES)
    sub(section, "code", code="55112-7", displayName="Commentaire", codeSystem=LOINC, codeSystemName="LOINC")
    sub(section, "title", "Conclusion" if conclusion and not paragraphs else
        "Conclusion et mentions" if conclusion else "Mentions")
    text = sub(section, "text")
    if conclusion:
        sub(text, "paragraph", conclusion, ID="conclusion")
    for ident, value in paragraphs:
        sub(text, "paragraph", value, ID=ident)
