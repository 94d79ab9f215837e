"""The INS Datamatrix printed on documents for a qualified identity (RNIV rule 32, SGL.INS.53).

Content (identity.md §1.7; vectors in ``kits/ins-datamatrix``): the unsigned 2D-Doc-like header
``IS010000000000000000000000`` then fields ``S<n>`` + value, upper-case ASCII:

    S1 matricule INS (15)   S2 OID (<= 20)   S3 birth first names, space-separated (<= 100)
    S4 birth name (<= 100)  S5 sex M/F (1)   S6 birth date DD-MM-YYYY (10)   S7 birthplace COG (5, optional)

A variable-length field shorter than its maximum is closed by GS (0x1D). We emit S1..S7 in order;
``parse_ins_datamatrix`` accepts any order, a last variable field without GS included. The symbol
is ECC200, built by ppf-datamatrix (a pure-Python encoder giving the module matrix, so the module
size is ours to choose) and read back by libdmtx through pylibdmtx.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from typing import Any

from PIL import Image
from ppf.datamatrix import DataMatrix

from facades.pdf.errors import DatamatrixError
from resources import patient_traits as traits
from resources.ins import check_matricule, emittable_ins

HEADER = "IS010000000000000000000000"
GS = "\x1d"
FIXED_LENGTH = {"S1": 15, "S5": 1, "S6": 10, "S7": 5}
MAX_LENGTH = {"S2": 20, "S3": 100, "S4": 100}
REQUIRED = ("S1", "S2", "S3", "S4", "S5", "S6")
PARSED_KEYS = {"S1": "matricule", "S2": "oid", "S3": "prenoms", "S4": "nom", "S5": "sexe",
               "S6": "date_naissance", "S7": "lieu_naissance"}
_FORMAT = {
    "S1": re.compile(r"^\d{6}[AB0-9]\d{8}$"),
    "S2": re.compile(r"^[0-9.]+$"),
    "S5": re.compile(r"^[MF]$"),
    "S6": re.compile(r"^\d{2}-\d{2}-\d{4}$"),
    "S7": re.compile(r"^(\d{2}|2[AB])\d{3}$"),  # a Corsican COG is 2A004, 2B033
}
_BIRTH_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
QUIET_ZONE_MODULES = 2


def _ascii_upper(value: str, field: str) -> str:
    """Upper-case without diacritics; anything still outside printable ASCII is refused."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c)).upper()
    if not plain.isascii() or not plain.isprintable() or not plain.strip():
        raise DatamatrixError(f"{field} value {value!r} cannot be written as upper-case ASCII",
                              expression=f"Datamatrix.{field}")
    return plain.strip()


def _birth_date_field(value: str) -> str:
    """``YYYY-MM-DD`` -> ``DD-MM-YYYY``; a missing day or month is written ``00`` (RNIPP)."""
    m = _BIRTH_DATE.match(value)
    if not m:
        raise DatamatrixError(f"birth date {value!r} is not YYYY-MM-DD", expression="Patient.birthDate")
    year, month, day = m.group(1), m.group(2) or "00", m.group(3) or "00"
    return f"{day}-{month}-{year}"


def _field(key: str, value: str) -> str:
    if key in FIXED_LENGTH:
        if len(value) != FIXED_LENGTH[key]:
            raise DatamatrixError(f"{key} must be {FIXED_LENGTH[key]} characters, got {value!r}",
                                  expression=f"Datamatrix.{key}")
        return key + value
    if len(value) > MAX_LENGTH[key]:
        raise DatamatrixError(f"{key} is {len(value)} characters, at most {MAX_LENGTH[key]} allowed",
                              expression=f"Datamatrix.{key}")
    return key + value + (GS if len(value) < MAX_LENGTH[key] else "")


def ins_datamatrix_content(patient: dict[str, Any]) -> str | None:
    """The Datamatrix string for a FHIR Patient; None unless the identity is QUAL (SGL.INS.37/53).

    A qualified identity missing a strict trait is an error (it cannot have been qualified).
    """
    ins = emittable_ins(patient)
    if ins is None:
        return None
    matricule = check_matricule(ins.get("value", ""))
    oid = str(ins.get("system", "")).removeprefix("urn:oid:")
    given = traits.birth_given_names(patient)
    family = traits.birth_name(patient)
    sex = traits.sex_code(patient)
    born = traits.birth_date(patient)
    missing = [path for path, v in (("Patient.name.where(use='official').given", given),
                                    ("Patient.name.where(use='official').family", family),
                                    ("Patient.gender", sex if sex in ("M", "F") else None),
                                    ("Patient.birthDate", born)) if not v]
    if missing:
        raise DatamatrixError("qualified identity lacks strict traits for the INS Datamatrix: "
                              + ", ".join(missing), expression=missing)
    fields = [
        _field("S1", matricule),
        _field("S2", oid),
        _field("S3", _ascii_upper(" ".join(given), "S3")),
        _field("S4", _ascii_upper(str(family), "S4")),
        _field("S5", str(sex)),
        _field("S6", _birth_date_field(str(born))),
    ]
    cog = traits.birthplace_cog(patient)
    if cog:
        fields.append(_field("S7", _ascii_upper(cog, "S7")))
    return HEADER + "".join(fields)


def parse_ins_datamatrix(content: str) -> dict[str, str]:
    """Read a Datamatrix string, fields in any order, into ``matricule, oid, prenoms, nom, sexe,
    date_naissance`` (``YYYY-MM-DD``) and, when present, ``lieu_naissance``."""
    if not content.startswith(HEADER):
        raise DatamatrixError(f"content does not start with the INS header {HEADER}",
                              expression="Datamatrix.header")
    pos, found = len(HEADER), {}
    while pos < len(content):
        key = content[pos:pos + 2]
        if key not in FIXED_LENGTH and key not in MAX_LENGTH:
            raise DatamatrixError(f"unknown field {key!r} at offset {pos}", expression=f"Datamatrix[{pos}]")
        if key in found:
            raise DatamatrixError(f"field {key} appears twice (offset {pos})", expression=f"Datamatrix.{key}")
        start = pos + 2
        if key in FIXED_LENGTH:
            end = start + FIXED_LENGTH[key]
            if end > len(content):
                raise DatamatrixError(f"{key} is truncated", expression=f"Datamatrix.{key}")
            found[key], pos = content[start:end], end
        else:
            gs = content.find(GS, start, start + MAX_LENGTH[key] + 1)
            end = gs if gs >= 0 else min(len(content), start + MAX_LENGTH[key])
            found[key], pos = content[start:end], end + (1 if gs >= 0 else 0)
        pattern = _FORMAT.get(key)
        if (pattern and not pattern.match(found[key])) or not found[key]:
            raise DatamatrixError(f"{key} value {found[key]!r} is malformed", expression=f"Datamatrix.{key}")
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise DatamatrixError(f"missing field(s) {', '.join(missing)}",
                              expression=[f"Datamatrix.{k}" for k in missing])
    day, month, year = found["S6"].split("-")
    found["S6"] = f"{year}-{month}-{day}"
    return {PARSED_KEYS[k]: v for k, v in sorted(found.items())}


def render_datamatrix_png(content: str, module_px: int = 4) -> bytes:
    """An ECC200 symbol as a 1-bit PNG (no alpha, fit for PDF/A-1), with a 2-module quiet zone."""
    if module_px < 1:
        raise DatamatrixError(f"module_px must be >= 1, got {module_px}", expression="module_px")
    try:
        matrix = DataMatrix(content).matrix
    except Exception as exc:  # ppf raises bare exceptions on unencodable input
        raise DatamatrixError(f"cannot encode the Datamatrix: {exc}", expression="Datamatrix") from exc
    q = QUIET_ZONE_MODULES
    rows, cols = len(matrix), len(matrix[0])
    small = Image.new("1", (cols + 2 * q, rows + 2 * q), 1)
    small.putdata([0 if (q <= y < rows + q and q <= x < cols + q and matrix[y - q][x - q]) else 1
                   for y in range(rows + 2 * q) for x in range(cols + 2 * q)])
    image = small.resize((small.width * module_px, small.height * module_px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def decode_datamatrix_png(png: bytes) -> str:
    """Decode the one Datamatrix in an image (libdmtx); an image without one is an error."""
    try:
        image = Image.open(io.BytesIO(png)).convert("L")
    except OSError as exc:
        raise DatamatrixError(f"not a readable image: {exc}", expression="Datamatrix.image") from exc
    with warnings.catch_warnings():  # pylibdmtx 0.1.10 still uses distutils' LooseVersion at import
        warnings.simplefilter("ignore", DeprecationWarning)
        # imported by the one function that reads a symbol: with distutils and pkg_resources it cost
        # about 0.8 s of every ``sgl serve`` start, which only writes symbols (README "Start-up")
        from pylibdmtx import pylibdmtx
    found = pylibdmtx.decode(image, max_count=1, timeout=5000)
    if not found:
        raise DatamatrixError("no Datamatrix found in the image", expression="Datamatrix.image")
    return str(found[0].data.decode("ascii"))
