"""The public surface of facades.hl7v2.pam is pinned, and the package stays pure."""

import ast
from pathlib import Path

import facades.hl7v2.pam as pam

EXPECTED = {
    "APPLICATION_INTERNAL_ERROR", "DUPLICATE_KEY_IDENTIFIER", "UNKNOWN_KEY_IDENTIFIER",
    "BIRTH_DATE_CORRECTED_URL", "EVENT_KINDS", "SUPPORTED_EVENTS", "ChangeKind", "Collection", "IdentityChange",
    "Ins", "Ipp", "PamRuleViolation", "Place", "Traits", "apply_change", "ipp_identifier", "location_of",
    "merged_into", "read_identity_change", "reliability_extension", "replacing", "with_ipp",
}


def test_public_surface_is_exactly_the_declared_names() -> None:
    assert set(pam.__all__) == EXPECTED
    assert all(hasattr(pam, name) for name in pam.__all__)


def test_no_asyncio_no_server_no_other_facade() -> None:
    for path in Path(pam.__file__).parent.glob("*.py"):
        nodes = list(ast.walk(ast.parse(path.read_text())))
        modules = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module or "" for n in nodes if isinstance(n, ast.ImportFrom)}
        for module in modules:
            assert module != "asyncio" and not module.startswith(("server", "terminology")), (path.name, module)
            assert not module.startswith("facades.") or module.startswith("facades.hl7v2"), (path.name, module)
