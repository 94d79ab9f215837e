"""The six LOINC transcoding files of SGL.LOI.01–06: names, columns, encoding.

Columns and their order are those of the DSR (REM-BIO-SGL-Va1); the header line repeats the
DSR's French field names. ``;`` (ASCII 59) separates fields. The DSR does not fix an encoding:
exports are written in UTF-8 with a byte-order mark and CRLF line ends, which the spreadsheet
programs used by transcoding providers open correctly; imports read UTF-8 (with or without BOM)
and fall back to Windows-1252 / ISO-8859-1 with a non-blocking warning. Cells holding several
values (synonyms, NABM codes) separate them with ``|``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

SEPARATOR = ";"
MULTI_VALUE_SEPARATOR = "|"
EXPORT_ENCODING = "utf-8-sig"
LINE_END = "\r\n"


@dataclass(frozen=True)
class FileFormat:
    number: int
    stem: str
    headers: tuple[str, ...]
    mandatory: tuple[int, ...]
    echoed: int = 0  # imports: how many leading columns repeat the export they answer

    def file_name(self, day: date) -> str:
        return f"{self.stem}_{day:%Y%m%d}.csv"


_CHAPTERS = ("Code chapitre SGL", "Libellé chapitre SGL", "Code Sous-chapitre SGL", "Libellé Sous-chapitre SGL")
_EXAMS = ("Code examen SGL", "Libellé de l'examen SGL", "Synonyme SGL", "Code chapitre SGL",
          "Code Sous-chapitre SGL", "Milieu (ou nature d'échantillon) SGL", "Codes NABM ou mention HN",
          "Code analyse", "Libellé analyse")
_RESULTS = ('Code SGL de l’analyse "résultat"', "Libellé SGL de l'analyse \"résultat\"",
            "Synonyme libellé SGL de l'analyse",
            "Grandeur SGL (ou échelle ou type de résultat attendu) (kind of property)",
            "Code de l’unité principale SGL pour les analyses quantitatives",
            "Libellé de l’unité principale SGL pour les analyses quantitatives", "Temporalité SGL (time aspect)",
            "Code Milieu SGL (ou nature d'échantillon) (system)",
            "Libellé Milieu SGL (ou nature d'échantillon) (system)", "Echelle SGL (type of scale)",
            "Technique SGL (ou méthode) (type of method)", "Codes NABM ou mention HN")

LOINC_1 = FileFormat(1, "LOINC_1_export_chapitres", _CHAPTERS, mandatory=(1,))
LOINC_2 = FileFormat(2, "LOINC_2_export_demandes", _EXAMS, mandatory=(0, 1, 7, 8))
LOINC_3 = FileFormat(3, "LOINC_3_export_resultats", _RESULTS, mandatory=(0, 1))
LOINC_4 = FileFormat(4, "LOINC_4_transcodage_chapitres",
                     _CHAPTERS + ("Code LOINC chapitre", "Libellé LOINC chapitre", "Code LOINC sous-chapitre",
                                  "Libellé LOINC sous-chapitre"), mandatory=(1,), echoed=4)
LOINC_5 = FileFormat(5, "LOINC_5_transcodage_demandes", _EXAMS + ("Code LOINC examen", "Libellé LOINC examen"),
                     mandatory=(0, 1, 7, 8), echoed=9)
# The DSR names LOINC_6 "LOINC_6_transcodage_demandes_…", most likely a slip for "…resultats…":
# we write the latter and read any name that starts with "LOINC_6_".
LOINC_6 = FileFormat(6, "LOINC_6_transcodage_resultats", _RESULTS + ("Code LOINC analyse", "Libellé LOINC analyse"),
                     mandatory=(0, 1), echoed=12)
IMPORT_FORMATS = {4: LOINC_4, 5: LOINC_5, 6: LOINC_6}
_IMPORT_NAME = re.compile(r"^LOINC_([456])_.*\.csv$", re.IGNORECASE)


def import_format_for(file_name: str) -> FileFormat | None:
    """The LOINC_4/5/6 format a file name announces, or None."""
    match = _IMPORT_NAME.match(file_name)
    return IMPORT_FORMATS[int(match.group(1))] if match else None


def normalise(text: str) -> str:
    """Case-, accent-, quote- and space-insensitive form used to compare headers and labels."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c) and c not in "\"'")
    return " ".join(text.casefold().split())
