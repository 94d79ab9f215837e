"""The public INSi test identities, loaded from the kit files, and how the test service matches them.

Data-driven: ``kit/test_identities.csv`` lists the persons of the INSi qualification
environment with the answer code each one gets; ``kit/*.xml`` are answers recorded from that
environment. A person's ``RESULTAT`` is the recorded one when the kit has it (NIA, Corsica,
INS history, the inconsistent key of CNDA case 2.08) and is otherwise built from the CSV row.

Matching, as the test service behaves for these persons: birth name, sex and birth date must be
equal (names compared upper-case without diacritics), the birthplace when sent must be equal,
and every first name sent must be one of the person's birth first names (TCHITCHI: ``OLA`` is
not, so 01; ``CATARINA`` is, so 00). Persons listed with code 01 or 02 always get that answer;
two matching persons give 02; none gives 01.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from facades.insi.answer import LABELS, resultat_element
from facades.insi.envelope import RESULTAT, SOAP, normalise_name
from facades.insi.model import CarteVitaleQuery, Identity, Ins, Result, Traits, TraitsQuery
from resources.outside_xml import outside_xml_parser

log = logging.getLogger(__name__)

KIT_DIR = Path(__file__).parent / "kit"
_HISTO = re.compile(r"^\d{6}[AB0-9]\d{6}/\d{2}$")
_NS = {"soap": SOAP, "r": RESULTAT}


@dataclass(frozen=True)
class TestPerson:
    """One row of ``test_identities.csv`` and the ``RESULTAT`` the service answers for it."""

    __test__ = False  # not a pytest test class despite its name

    birth_name: str
    first_names: tuple[str, ...]
    sex: str
    birth_date: str
    birthplace: str
    matricule: str
    code: str
    resultat: etree._Element

    def matches(self, birth_name: str, birth_date: str) -> bool:
        return normalise_name(birth_name) == self.birth_name and birth_date == self.birth_date


def read_rows(path: Path) -> list[dict[str, str]]:
    """The CSV rows as dicts.

    The ``inshisto`` cell lists ``NIR/KEY`` items separated by an unquoted `` ; `` (the CSV's own
    delimiter) and the free-text last column may contain ``;`` too, so a row can have more fields
    than the header: the ``NIR/KEY`` fields after ``inshisto`` are folded back into it and the
    rest into the last column.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        header = next(reader)
        at = header.index("inshisto")
        if header[at + 1 :] != ["commentaire"]:
            raise ValueError(f"{path.name} line 1: inshisto must be followed by the commentaire column only")
        rows = []
        for line, fields in enumerate(reader, start=2):
            if len(fields) < len(header):
                raise ValueError(f"{path.name} line {line}: {len(fields)} fields, expected {len(header)}")
            rest = [f.strip() for f in fields[at:]]
            history = [rest.pop(0)] if not rest[0] else []
            while rest and _HISTO.match(rest[0]):
                history.append(rest.pop(0))
            row = dict(zip(header[:at], fields[:at], strict=True))
            row["inshisto"] = " ; ".join(h for h in history if h)
            row["commentaire"] = ";".join(rest)
            rows.append(row)
    return rows


def _history(cell: str) -> tuple[Ins, ...]:
    """``NIR/KEY ; NIR/KEY`` as written in the CSV's ``inshisto`` column."""
    out = []
    for item in filter(None, (part.strip() for part in cell.split(";"))):
        number, key = item.split("/")
        out.append(Ins(number=number.strip(), key=key.strip(), oid=""))
    return tuple(out)


def _built(row: dict[str, str]) -> etree._Element:
    oid = row["oid"]
    history = tuple(Ins(h.number, h.key, oid) for h in _history(row["inshisto"]))
    identity = Identity(
        active=Ins(number=row["matricule_nir_13"], key=row["cle"], oid=oid),
        traits=Traits(
            birth_name=row["nom_naissance"],
            first_name="",
            first_names=row["liste_prenoms"],
            sex=row["sexe"],
            birth_date=row["date_naissance"],
            birthplace=row["lieu_naissance_cog"],
        ),
        history=history,
    )
    return resultat_element(Result(code="00", label=LABELS["00"], identity=identity))


def _recorded(kit_dir: Path) -> dict[str, etree._Element]:
    """Recorded ``RESULTAT`` elements keyed by ``NAME|DATE`` for 00 answers and by code for 01/02."""
    found: dict[str, etree._Element] = {}
    for path in sorted(kit_dir.glob("*.xml")):
        resultat = etree.parse(str(path), outside_xml_parser()).find("soap:Body/r:RESULTAT", _NS)
        if resultat is None:
            log.warning("INSi kit file %s holds no RESULTAT; ignored", path.name)
            continue
        code = resultat.findtext("r:CR/r:CodeCR", "", _NS)
        tiq = resultat.find("r:INDIVIDU/r:TIQ", _NS)
        key = (
            code
            if tiq is None
            else f"{tiq.findtext('r:NomNaissance', '', _NS)}|{tiq.findtext('r:DateNaissance', '', _NS)}"
        )
        found.setdefault(key, resultat)
    return found


class Directory:
    """The test persons, answering a traits or carte Vitale query with a ``RESULTAT`` element."""

    def __init__(self, kit_dir: Path = KIT_DIR) -> None:
        recorded = _recorded(kit_dir)
        if "01" not in recorded or "02" not in recorded:
            raise FileNotFoundError(f"INSi kit {kit_dir} lacks the recorded 01 and 02 answers")
        self._not_found = recorded["01"]
        self._several = recorded["02"]
        self.persons: list[TestPerson] = []
        for row in read_rows(kit_dir / "test_identities.csv"):
            code = row["code_cr_attendu"]
            resultat = (
                recorded[code] if code != "00" else recorded.get(f"{row['nom_naissance']}|{row['date_naissance']}")
            )
            if resultat is None:
                resultat = _built(row)
            self.persons.append(
                TestPerson(
                    birth_name=normalise_name(row["nom_naissance"]),
                    first_names=tuple(normalise_name(row["liste_prenoms"] or row["prenom_requete"]).split()),
                    sex=row["sexe"],
                    birth_date=row["date_naissance"],
                    birthplace=row["lieu_naissance_cog"],
                    matricule=row["matricule_nir_13"],
                    code=code,
                    resultat=resultat,
                )
            )

    def _answer(self, matched: list[TestPerson]) -> etree._Element:
        if not matched:
            return self._not_found
        if len(matched) > 1:
            return self._several
        return matched[0].resultat

    def by_traits(self, query: TraitsQuery) -> etree._Element:
        sent = {n for first in query.first_names for n in normalise_name(first).split()}
        matched = [
            p
            for p in self.persons
            if p.matches(query.birth_name, query.birth_date)
            and p.sex == query.sex
            and (query.birthplace is None or query.birthplace.upper() == p.birthplace)
            and sent
            and sent <= set(p.first_names)
        ]
        return self._answer(matched)

    def by_carte_vitale(self, query: CarteVitaleQuery) -> etree._Element:
        """Birth name and date from the card, and the individual's NIR when the card carries one."""
        number = query.individual.number.upper() if query.individual else None
        matched = [
            p
            for p in self.persons
            if p.matches(query.birth_name, query.birth_date) and (number is None or number == p.matricule)
        ]
        return self._answer(matched)
