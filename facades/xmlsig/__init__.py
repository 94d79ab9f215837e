"""XML signatures shared by the facades that sign for the structure (DMP, INSi): the seal certificate, the
enveloped signature of a SAML assertion (VIHF) and its verification. See docs/adr/adr-2612-shared-xml-signature.md:
the only package every facade may import (import-linter contract "A facade never imports another facade")."""

from facades.xmlsig.saml import SignatureRefused, sign_assertion, verify_assertion
from facades.xmlsig.seal import EXC_C14N, Seal, certificate_in, issued_by

__all__ = ["EXC_C14N", "Seal", "SignatureRefused", "certificate_in", "issued_by", "sign_assertion",
           "verify_assertion"]
