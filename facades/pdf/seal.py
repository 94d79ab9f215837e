"""The CR-Bio's electronic seal (SGL.DOC.19): a PAdES baseline B-B signature with a visible seal box.

Why a seal and not a person's signature: the structure's IGC-Santé ORG SIGN certificate (the "cachet" that
already signs the DMP VIHF) attests that the laboratory issued the document and that it was not changed
since; the biologist's validation is recorded in the report itself. What this does not do (said in the
README): the remote signature of a person identified by Pro Santé Connect, and a signature time-stamp
(PAdES B-T): the signing time is the signer's clock, claimed in the signed attributes.

The seal is an incremental update appended to the rendered PDF/A-1b: the original bytes are untouched, the
box (lab name, "Cachet électronique", date) is drawn with an embedded DejaVu Sans subset and no
transparency, in the bottom margin of page 1 (clear of the INS Datamatrix at the top), so the file still
passes ``check_pdfa1b``.

``load_seal`` checks the certificate once (readable, key matching, valid now, key usage for signing) and
raises ``SealConfigError`` with the reason: the server calls it at start-up, the document process again
before each seal (a certificate that expired since is refused before anything is stored).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont
from fontTools.ttLib.scaleUpem import scale_upem
from pyhanko.keys import load_private_key_from_pemder_data
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.font.opentype import GlyphAccumulator, GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from facades.pdf.errors import SealConfigError
from facades.pdf.seal_config import SealConfig

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # fonts-dejavu-core, as the CR-Bio itself
FONT_SIZE = 7
FIELD = "CachetElectronique"
# Bottom margin of an A4 page 1 (18 mm ≈ 51 pt), centred between the footer's left and right texts.
BOX = (200, 6, 400, 46)
LAB_CHARS = 48  # what the box shows of the lab name (the whole name is in the signature)
STAMP_TEXT = "%(lab)s\nCachet électronique\n%(ts)s"


@dataclass(frozen=True)
class Seal:
    """A checked seal: the signer and the certificate's subject, for the error messages and the box."""

    signer: signers.SimpleSigner
    subject: str
    not_after: datetime


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SealConfigError(f"the seal {what} {path} cannot be read: {exc.strerror or exc}") from exc


def _certificate(data: bytes, path: Path) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise SealConfigError(f"the seal certificate {path} is not a PEM or DER X.509 certificate") from exc


def _private_key(data: bytes, path: Path) -> PrivateKeyTypes:
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SealConfigError(f"the seal key {path} is not an unencrypted PEM private key") from exc


def _check_usage(cert: x509.Certificate, path: Path) -> None:
    """An ORG SIGN certificate signs (digitalSignature and/or nonRepudiation); an authentication or
    encryption-only certificate is refused. An extended key usage, when present, must not exclude signing."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise SealConfigError(f"the seal certificate {path} has no key usage: an IGC-Santé ORG SIGN "
                              "certificate says digitalSignature/nonRepudiation") from exc
    if not (usage.digital_signature or usage.content_commitment):
        raise SealConfigError(f"the seal certificate {path} is not a signing certificate (its key usage allows "
                              "neither digitalSignature nor nonRepudiation)")
    try:
        extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in extended and list(extended) == [
            ExtendedKeyUsageOID.CLIENT_AUTH]:
        raise SealConfigError(f"the seal certificate {path} is a TLS client authentication certificate "
                              "(ORG AUTH), not the structure's seal (ORG SIGN)")


def load_seal(config: SealConfig, now: datetime | None = None) -> Seal:
    """The checked seal, or ``SealConfigError`` naming what is wrong with the configured files."""
    cert_data, key_data = _read(config.cert, "certificate"), _read(config.key, "key")
    cert, key = _certificate(cert_data, config.cert), _private_key(key_data, config.key)
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, public) != cert.public_key().public_bytes(
            serialization.Encoding.DER, public):
        raise SealConfigError(f"the seal key {config.key} does not match the certificate {config.cert}")
    moment = now or datetime.now(UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise SealConfigError(f"the seal certificate {config.cert} is not valid now: valid from "
                              f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}")
    _check_usage(cert, config.cert)
    chain = _chain(config.chain) if config.chain is not None else []
    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
    registry.register_multiple([_asn1(c) for c in chain])
    signer = signers.SimpleSigner(signing_cert=_asn1(cert),
                                  signing_key=load_private_key_from_pemder_data(key_data, passphrase=None),
                                  cert_registry=registry)
    return Seal(signer, cert.subject.rfc4514_string(), cert.not_valid_after_utc)


@lru_cache(maxsize=4)
def _loaded(config: SealConfig, stamp: tuple[float, ...]) -> Seal:
    return load_seal(config)


def current_seal(config: SealConfig) -> Seal:
    """The seal as a document process uses it: loaded once per process and per version of the files (the key
    check costs ≈0.3 s), its validity checked again at each call, so an expired certificate seals nothing."""
    paths = [config.cert, config.key] + ([config.chain] if config.chain else [])
    try:
        stamp = tuple(p.stat().st_mtime for p in paths)
    except OSError:
        return load_seal(config)  # names the unreadable file
    seal = _loaded(config, stamp)
    if datetime.now(UTC) > seal.not_after:
        raise SealConfigError(f"the seal certificate {config.cert} expired on {seal.not_after:%Y-%m-%d}: "
                              "no CR-Bio is sealed with it")
    return seal


def _chain(path: Path) -> list[x509.Certificate]:
    data = _read(path, "chain")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        raise SealConfigError(f"the seal chain {path} is not PEM or DER certificates") from exc


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _Pdfa1Writer(IncrementalPdfFileWriter):
    """Keeps the PDF/A-1 file as it was rendered, but for the signature: pyHanko would declare ``/Version
    /1.7`` and the ESIC developer extension in the catalogue for the PAdES sub-filter (a PDF/A-1 file stays
    PDF 1.4; ETSI signers such as DSS seal PDF/A-1 files the same way), and rewrite the Info dictionary and
    the XMP (PDF/A-1 wants the two to agree, and the XMP holds the PDF/A claim): the renderer's are kept."""

    def ensure_output_version(self, version: tuple[int, int]) -> None:
        return None

    def register_extension(self, ext: object) -> None:
        return None

    def _update_meta(self) -> None:
        return None


@lru_cache(maxsize=1)
def _font_bytes() -> bytes:
    """DejaVu Sans cut to Latin-1 and rescaled to 1000 units per em, once per process: pyHanko writes the
    glyph widths (``/W``) and the ``TJ`` adjustments in font units where PDF wants thousandths of an em, so a
    2048-unit TrueType font would print with gaps between letters."""
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)  # "FFTM NOT subset" at each seal
    font = TTFont(io.BytesIO(FONT.read_bytes()))
    cut = Subsetter(Options(layout_features=["kern", "liga"], name_IDs=["*"], notdef_outline=True))
    cut.populate(unicodes=range(0x20, 0x100))
    cut.subset(font)
    scale_upem(font, 1000)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


class _Pdfa1Glyphs(GlyphAccumulator):
    """pyHanko's glyph accumulator plus the ``/CIDSet`` that PDF/A-1 wants on the descriptor of a subset CID
    font: one bit per CID present (CID 0 included, high bit first)."""

    def prepare_write(self) -> None:
        if not self._write_prepared:
            cids = {0, *(cid for cid, _ in self._glyphs.values())}
            bits = bytearray(max(cids) // 8 + 1)
            for cid in cids:
                bits[cid // 8] |= 0x80 >> (cid % 8)
            cid_set = self.writer.add_object(generic.StreamObject(stream_data=bytes(bits)))
            self.cidfont_obj._font_descriptor[generic.pdf_name("/CIDSet")] = cid_set
        super().prepare_write()  # type: ignore[no-untyped-call]


class _EmbeddedFont(GlyphAccumulatorFactory):
    """DejaVu Sans, subset and embedded (PDF/A-1 wants every font embedded), read from memory: pyHanko's own
    factory opens the file at each seal and never closes it."""

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> GlyphAccumulator:
        return _Pdfa1Glyphs(writer=writer, font_handle=io.BytesIO(_font_bytes()), font_size=self.font_size,
                            obj_stream=obj_stream)


def seal_pdf(pdf: bytes, seal: Seal, lab_name: str) -> bytes:
    """``pdf`` with the seal appended (incremental update: the signed byte ranges cover the original); the
    box's date is the signing time claimed in the signature."""
    style = TextStampStyle(stamp_text=STAMP_TEXT, timestamp_format="%d/%m/%Y %H:%M UTC",
                           text_box_style=TextBoxStyle(font=_EmbeddedFont(str(FONT), font_size=FONT_SIZE),
                                                        font_size=FONT_SIZE, leading=FONT_SIZE + 1), background=None,
                           border_width=1)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason="Cachet électronique du laboratoire", name=lab_name)
    signer = signers.PdfSigner(meta, signer=seal.signer, stamp_style=style,
                               new_field_spec=fields.SigFieldSpec(FIELD, on_page=0, box=BOX))
    out = io.BytesIO()
    signer.sign_pdf(_Pdfa1Writer(io.BytesIO(pdf)), output=out,
                    appearance_text_params={"lab": lab_name[:LAB_CHARS]})
    return out.getvalue()
