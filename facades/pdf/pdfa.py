"""PDF/A-1b checks with pikepdf: the claim, the output intent, fonts, transparency and forbidden content.

Not a full validator (veraPDF is one): it checks what a renderer gets wrong in practice.

- PDF version <= 1.4, no encryption, a trailer ``/ID``;
- XMP metadata with ``pdfaid:part`` = 1 and ``pdfaid:conformance`` = B;
- an OutputIntent ``/GTS_PDFA1`` whose ``DestOutputProfile`` is an ICC profile;
- every font embedded: ``FontFile``/``FontFile2``/``FontFile3`` on each descriptor, Type0
  descendants included (Type3 fonts are content streams and need none);
- no transparency: no soft mask (ExtGState or image), ``CA``/``ca`` < 1, blend mode other than
  Normal/Compatible, transparency group;
- no JavaScript, embedded files, LZW compression or image ``/Interpolate true``.

The whole object graph is walked once from the trailer, so direct and indirect objects are covered.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf
from lxml import etree
from pikepdf import Dictionary, Name, Stream

from resources.outside_xml import parse_outside_xml

FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
ALLOWED_BLEND_MODES = ("/Normal", "/Compatible")
PDFAID_NS = "http://www.aiim.org/pdfa/ns/id/"


def _walk(root: pikepdf.Object) -> Iterator[Dictionary | Stream]:
    """Every dictionary and stream reachable from ``root``, each indirect object once."""
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if not isinstance(obj, Dictionary | Stream | pikepdf.Array):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
        else:
            yield obj
            stack.extend(v for k, v in obj.items() if k != "/Parent")


def _where(obj: pikepdf.Object) -> str:
    return f"object {obj.objgen[0]} {obj.objgen[1]}" if obj.is_indirect else "a direct object"


def _font_problems(font: Dictionary | Stream) -> list[str]:
    subtype = font.get("/Subtype")
    if subtype == Name.Type3:
        return []
    name = str(font.get("/BaseFont", "?"))
    fonts = list(font.get("/DescendantFonts", [])) if subtype == Name.Type0 else [font]
    problems = []
    for f in fonts:
        descriptor = f.get("/FontDescriptor")
        if descriptor is None or not any(k in descriptor for k in FONT_FILES):
            problems.append(f"font {name} ({_where(f)}) is not embedded")
    return problems


def _transparency_problems(obj: Dictionary | Stream) -> list[str]:
    problems = []
    smask = obj.get("/SMask")
    if smask is not None and smask != Name("/None"):
        problems.append(f"soft mask (transparency) in {_where(obj)}")
    for key in ("/CA", "/ca"):
        if key in obj and float(obj[key]) < 1:
            problems.append(f"{key[1:]} = {float(obj[key])} (transparency) in {_where(obj)}")
    blend = obj.get("/BM")
    if blend is not None and str(blend) not in ALLOWED_BLEND_MODES:
        problems.append(f"blend mode {blend} in {_where(obj)}")
    group = obj.get("/Group")
    if isinstance(group, Dictionary) and group.get("/S") == Name("/Transparency"):
        problems.append(f"transparency group in {_where(obj)}")
    return problems


def _content_problems(obj: Dictionary | Stream) -> list[str]:
    problems = []
    if obj.get("/S") == Name("/JavaScript") or "/JS" in obj:
        problems.append(f"JavaScript action in {_where(obj)}")
    if "/EF" in obj:
        problems.append(f"embedded file in {_where(obj)}")
    if obj.get("/Subtype") == Name.Image and bool(obj.get("/Interpolate", False)):
        problems.append(f"image with /Interpolate true in {_where(obj)}")
    filters = obj.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)]
    if isinstance(obj, Stream) and "/LZWDecode" in names:
        problems.append(f"LZW-compressed stream in {_where(obj)}")
    return problems


def _xmp_value(xmp: etree._Element, name: str) -> str | None:
    """A ``pdfaid`` property written either as an attribute or as an element."""
    found = xmp.xpath(f"//@pdfaid:{name} | //pdfaid:{name}/text()", namespaces={"pdfaid": PDFAID_NS})
    return str(found[0]).strip() if isinstance(found, list) and found else None


def _metadata_problems(pdf: pikepdf.Pdf) -> list[str]:
    """Read the XMP packet ourselves: pikepdf would silently replace a broken one with an empty one."""
    stream = pdf.Root.get("/Metadata")
    if not isinstance(stream, Stream):
        return ["no XMP metadata stream in the catalog"]
    try:
        xmp = parse_outside_xml(stream.read_bytes())
    except etree.XMLSyntaxError as exc:
        return [f"XMP metadata cannot be parsed: {exc}"]
    part, conformance = _xmp_value(xmp, "part"), _xmp_value(xmp, "conformance")
    problems = []
    if part != "1":
        problems.append(f"XMP pdfaid:part is {part!r}, expected '1'")
    if (conformance or "").upper() != "B":
        problems.append(f"XMP pdfaid:conformance is {conformance!r}, expected 'B'")
    return problems


def _output_intent_problems(pdf: pikepdf.Pdf) -> list[str]:
    for intent in pdf.Root.get("/OutputIntents", []):
        if intent.get("/S") != Name("/GTS_PDFA1"):
            continue
        profile = intent.get("/DestOutputProfile")
        if isinstance(profile, Stream) and profile.read_bytes()[36:40] == b"acsp":
            return []
        return ["the GTS_PDFA1 output intent has no valid ICC DestOutputProfile"]
    return ["no GTS_PDFA1 OutputIntent"]


def check_pdfa1b(pdf: bytes) -> list[str]:
    """Problems that keep ``pdf`` from being PDF/A-1b; an empty list when none was found."""
    try:
        doc = pikepdf.open(io.BytesIO(pdf))
    except pikepdf.PasswordError:
        return ["the PDF is encrypted"]
    except pikepdf.PdfError as exc:
        return [f"not a readable PDF: {exc}"]
    with doc:
        problems = []
        if doc.is_encrypted or "/Encrypt" in doc.trailer:
            problems.append("the PDF is encrypted")
        if doc.pdf_version > "1.4":
            problems.append(f"PDF version {doc.pdf_version}, PDF/A-1 requires 1.4 at most")
        if "/ID" not in doc.trailer:
            problems.append("no /ID in the trailer")
        problems += _metadata_problems(doc)
        problems += _output_intent_problems(doc)
        names = doc.Root.get("/Names", Dictionary())
        for key, label in (("/JavaScript", "JavaScript"), ("/EmbeddedFiles", "embedded files")):
            if key in names:
                problems.append(f"the catalog's name tree holds {label}")
        for obj in _walk(doc.trailer):
            if obj.get("/Type") == Name.Font and "/Subtype" in obj:
                problems += _font_problems(obj)
            problems += _transparency_problems(obj)
            problems += _content_problems(obj)
        return list(dict.fromkeys(problems))
