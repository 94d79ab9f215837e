"""Which files of the ANS kit the validator needs, and whether a copy on disk has them intact.

The kit is not shipped with OpenSGL (``sgl kit install`` fetches it). ``kit_manifest.txt`` pins the
files the validator reads — the XSD and what it includes, every schematron the N3/N1 entry points
include, and the value sets and terminology files their rules read — with each file's SHA-256 and
size, for one upstream version (``KIT_VERSION``). ``needed_files`` computes that set from a kit copy
(how the manifest is regenerated, ``sgl kit manifest``); ``check_kit`` compares a copy with the
pinned manifest, so the server can say at start-up exactly what is missing or altered.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from facades.cda.conformance.assemble import assemble
from facades.cda.errors import KitError

MANIFEST_FILE = Path(__file__).with_name("kit_manifest.txt")
KIT_VERSION = "ansforge/TestContenuCDA-3-0@7cd489b39368809df9bcf2cfef5e5d6354438a02"
# Files read by rules through computed paths (not a literal in the schematron): the UCUM list of
# terminologie.sch and the J07 value set ``kit.py`` turns into the missing Art-Decor file.
COMPUTED_READS = (
    "schematrons/profils/terminologies/terminologie/2.16.840.1.113883.6.8.xml",
    "jeuxDeValeurs/JDV_J07_XdsTypeCode_CISIS.xml",
)
_LITERAL_FILE = re.compile(r"""['"]([^'"\s]+\.xml)['"]""")


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    version: str
    entries: tuple[ManifestEntry, ...]

    def text(self) -> str:
        lines = [f"# ANS CDA test kit files the OpenSGL validator reads: {self.version}",
                 "# sha256 size path (relative to the kit root); regenerate with `sgl kit manifest KIT_DIR`"]
        lines += [f"{e.sha256} {e.size} {e.path}" for e in self.entries]
        return "\n".join(lines) + "\n"


def load_manifest(path: Path = MANIFEST_FILE) -> Manifest:
    version, entries = KIT_VERSION, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("# ANS CDA test kit files") and ": " in line:
            version = line.split(": ", 1)[1].strip()
        if not line.strip() or line.startswith("#"):
            continue
        digest, size, rel = line.split(" ", 2)
        if len(digest) != 64 or not size.isdigit() or rel.startswith("/") or ".." in Path(rel).parts:
            raise KitError(f"{path} line {number} is not 'sha256 size relative/path'", expression=f"line {number}")
        entries.append(ManifestEntry(rel, digest, int(size)))
    return Manifest(version, tuple(entries))


def _xsd_closure(xsd: Path) -> set[Path]:
    seen: set[Path] = set()
    pending = [xsd.resolve()]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        tree = etree.parse(str(current), etree.XMLParser(no_network=True, resolve_entities=False))
        for location in tree.xpath("//*[local-name()='include' or local-name()='import']/@schemaLocation"):
            target = (current.parent / str(location)).resolve()
            if target.is_file():
                pending.append(target)
    return seen


def needed_files(root: Path) -> list[str]:
    """The kit files the validator reads, as paths relative to ``root``, sorted."""
    from facades.cda.conformance.kit import VOLET_CR_BIO, XSD, Kit  # kit.py imports this module

    root = root.resolve()
    kit = Kit(root)
    found = _xsd_closure(root / XSD)
    for entry in kit.schematrons("N3"):
        _, files = assemble(entry)
        for path, data in files.items():
            found.add(path.resolve())
            for literal in _LITERAL_FILE.findall(data.decode("utf-8", "replace")):
                for base in (path.parent, entry.parent):  # rules resolve doc() against their entry's folder
                    target = (base / literal).resolve()
                    if target.is_file() and root in target.parents:
                        found.add(target)
    found.update((root / rel).resolve() for rel in (*COMPUTED_READS, str(VOLET_CR_BIO)))
    return sorted(str(p.relative_to(root)) for p in found if p.is_file())


def build_manifest(root: Path) -> Manifest:
    entries = []
    for rel in needed_files(root):
        data = (root / rel).read_bytes()
        entries.append(ManifestEntry(rel, hashlib.sha256(data).hexdigest(), len(data)))
    return Manifest(KIT_VERSION, tuple(entries))


@dataclass
class KitCheck:
    """What a kit copy lacks or has altered, against the pinned manifest."""

    root: Path
    version: str
    total: int
    missing: list[str] = field(default_factory=list)
    altered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.altered

    def summary(self) -> str:
        if self.ok:
            return f"ANS CDA kit OK in {self.root} ({self.total} files checked, {self.version})"
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} of {self.total} files missing (first: {', '.join(self.missing[:3])})")
        if self.altered:
            parts.append(f"{len(self.altered)} files differ from the pinned checksums "
                         f"(first: {', '.join(self.altered[:3])})")
        return (f"ANS CDA kit unusable in {self.root}: " + "; ".join(parts) + ". CR-Bio documents cannot be "
                f"produced nor checked until it is installed: run `sgl kit install` (official {self.version}) or "
                "`sgl kit install /path/to/a/copy`, or set SGL_CDA_KIT_DIR to a complete copy")


def check_kit(root: Path, manifest: Manifest | None = None) -> KitCheck:
    """Every manifest file present with its size and SHA-256."""
    manifest = manifest or load_manifest()
    check = KitCheck(root, manifest.version, len(manifest.entries))
    for entry in manifest.entries:
        path = root / entry.path
        try:
            data = path.read_bytes()
        except OSError:
            check.missing.append(entry.path)
            continue
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            check.altered.append(entry.path)
    return check
