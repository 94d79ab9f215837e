"""The lab's CR-Bio XSL stylesheet (XSLT 1.0) and the self-presenting N3 built with it (SGL.DOC.03)."""

from facades.cda.stylesheet.selfpresenting import self_presenting, stylesheet_path

__all__ = ["self_presenting", "stylesheet_path"]
