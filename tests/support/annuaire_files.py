"""Synthetic Annuaire Santé extractions in the ANS shape (UTF-8, ``|``, header, trailing ``|``), written by
the tests and the bench, never copied: the PS_LibreAcces_Personne_activite 52 columns and the
Extraction_Correspondance_MSSante 31 columns of ``shared/reference/identity.md`` §5.

Person ``i`` is ``8`` + an 11-digit RPPS built from ``i`` (a few are ADELI ``0`` + 9 characters); every third
one works in a FINESS site, every third in a SIRET-only site, the others without site; a few have two
activities (two lines, consecutive as in the real file)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

KIT_PS = (Path(__file__).resolve().parents[3] / "shared" / "kits" / "annuaire"
          / "PS_LibreAcces_Personne_activite_small.txt")
"""The ANS sample extraction of the directory (what the scheduled load of the directory tests reads)."""

PS_HEADER = (
    "Type d'identifiant PP|Identifiant PP|Identification nationale PP|Code civilité d'exercice|"
    "Libellé civilité d'exercice|Code civilité|Libellé civilité|Nom d'exercice|Prénom d'exercice|Code profession|"
    "Libellé profession|Code catégorie professionnelle|Libellé catégorie professionnelle|Code type savoir-faire|"
    "Libellé type savoir-faire|Code savoir-faire|Libellé savoir-faire|Code mode exercice|Libellé mode exercice|"
    "Numéro SIRET site|Numéro SIREN site|Numéro FINESS site|Numéro FINESS établissement juridique|"
    "Identifiant technique de la structure|Raison sociale site|Enseigne commerciale site|"
    "Complément destinataire (coord. structure)|Complément point géographique (coord. structure)|"
    "Numéro Voie (coord. structure)|Indice répétition voie (coord. structure)|Code type de voie (coord. structure)|"
    "Libellé type de voie (coord. structure)|Libellé Voie (coord. structure)|Mention distribution (coord. structure)|"
    "Bureau cedex (coord. structure)|Code postal (coord. structure)|Code commune (coord. structure)|"
    "Libellé commune (coord. structure)|Code pays (coord. structure)|Libellé pays (coord. structure)|"
    "Téléphone (coord. structure)|Téléphone 2 (coord. structure)|Télécopie (coord. structure)|"
    "Adresse e-mail (coord. structure)|Code Département (structure)|Libellé Département (structure)|"
    "Ancien identifiant de la structure|Autorité d'enregistrement|Code secteur d'activité|"
    "Libellé secteur d'activité|Code section tableau pharmaciens|Libellé section tableau pharmaciens|")
MSS_HEADER = (
    "Type de BAL|Adresse BAL|Type Identifiant PP|Identifiant PP|Identification nationale PP|"
    "Type identifiant structure|Identification Structure|Service de rattachement|Civilité d'exercice|"
    "Nom d'exercice|Prénom d'exercice|Catégorie profession|Libellé de catégorie profession|Code Profession|"
    "Libellé Profession|Code savoir-faire|Libellé savoir-faire|Dématérialisation|Raison Sociale structure BAL|"
    "Enseigne commerciale structure BAL|L2COMPLEMENTLOCALISATION|L3COMPLEMENTDISTRIBUTION|L4NUMEROVOIE|"
    "L4COMPLEMENTNUMEROVOIE|NL4TYPEVOIE|L4LIBELLEVOIE|L5LIEUDITMENTION|L6LIGNEACHEMINEMENT|Code postal|"
    "Département|Pays|")
FAMILIES = ("MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU")
GIVENS = ("Anne", "Paul", "Élodie", "Jean", "Chloé", "Luc", "Inès", "Marc", "Zoé", "Hugo")
TOWNS = (("69003", "LYON"), ("75012", "PARIS"), ("13005", "MARSEILLE"), ("31000", "TOULOUSE"), ("89300", "JOIGNY"))


def idnat(i: int) -> str:
    return f"0{i:09d}" if i % 17 == 5 else f"8{10000000000 + i:011d}"


def family(i: int, renamed: frozenset[int] = frozenset()) -> str:
    base = f"{FAMILIES[i % len(FAMILIES)]}{i}"
    return base + "-NOUVEAU" if i in renamed else base


def ps_lines(i: int, renamed: frozenset[int] = frozenset()) -> list[str]:
    """The line(s) of person ``i`` (two activities when ``i % 11 == 3``)."""
    ident = idnat(i)
    kind = "0" if ident.startswith("0") else "8"
    profession = ("10", "Médecin") if i % 4 else ("21", "Pharmacien")
    postal, town = TOWNS[i % len(TOWNS)]
    out = []
    for activity in range(2 if i % 11 == 3 else 1):
        site = (i + activity) % 3
        finess = f"{690000000 + (i % 997):09d}" if site == 0 else ""
        siret = f"{40000000000000 + (i % 991):014d}" if site in (0, 1) else ""
        tech = f"F{finess}" if finess else (f"C{siret}" if siret else "")
        specialty = ("S", "Spécialité ordinale", "SM26", "Qualifié en Médecine Générale") if profession[0] == "10" \
            else ("", "", "", "")
        fields = [kind, ident[1:], ident, "DR" if profession[0] == "10" else "", "Docteur" if profession[0] == "10"
                  else "", "M" if i % 2 else "MME", "Monsieur" if i % 2 else "Madame", family(i, renamed),
                  GIVENS[i % len(GIVENS)], profession[0], profession[1], "C", "Civil", *specialty,
                  "S" if site != 2 else "L", "Salarié" if site != 2 else "Libéral", siret, siret[:9], finess,
                  finess, tech, f"LABORATOIRE {i % 997}" if tech else "", "", "", "", str(i % 90 + 1), "", "R", "Rue",
                  f"DES TESTS {i % 50}", "", "", postal, postal[:2] + "123", town, "99000", "France", "", "", "", "",
                  postal[:2], "", "", "CNOM/ARS", "SA07", "Laboratoire", "", ""]
        assert len(fields) == 52
        out.append("|".join(fields) + "|")
    return out


def mss_line(i: int) -> str:
    ident = idnat(i)
    postal, town = TOWNS[i % len(TOWNS)]
    fields = ["PER", f"{GIVENS[i % len(GIVENS)].lower()}.{family(i).lower()}@test.mssante.fr", ident[0], ident[1:],
              ident, "", "", "", "DR", family(i), GIVENS[i % len(GIVENS)], "C", "Civil", "10", "Médecin", "", "",
              "O", f"LABORATOIRE {i % 997}", "", "", "", str(i % 90 + 1), "", "R", f"DES TESTS {i % 50}", "",
              f"{postal} {town}", postal, postal[:2], "France"]
    assert len(fields) == 31
    return "|".join(fields) + "|"


def ps_text(people: range, *, renamed: frozenset[int] = frozenset(), broken: dict[int, str] | None = None
            ) -> Iterator[str]:
    """The PS file's lines; ``broken`` puts a bad line after person ``key`` (its text the value)."""
    yield PS_HEADER
    for i in people:
        yield from ps_lines(i, renamed)
        if broken and i in broken:
            yield broken[i]


def write_ps(path: Path, people: range, **kwargs: object) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for line in ps_text(people, **kwargs):  # type: ignore[arg-type]
            out.write(line + "\n")
    return path


def write_mss(path: Path, people: range) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write(MSS_HEADER + "\n")
        for i in people:
            out.write(mss_line(i) + "\n")
    return path


def write_zip(path: Path, members: dict[str, Path]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, member in members.items():
            archive.write(member, name)
    return path
