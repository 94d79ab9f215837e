"""The public surface of facades.hl7v2 is pinned: other packages import only these names."""

import ast
from pathlib import Path

import facades.hl7v2 as hl7v2

EXPECTED = {
    "DEFAULT_ENCODING", "DEFAULT_MAX_SIZE", "PAM_FR_RELIABILITY", "AckCode", "AckDecision", "AckError",
    "AssigningAuthority", "EncodingChars", "ErrorLocation", "EscapeError", "Field", "FrameTooLarge",
    "Handler", "Hl7Message", "Hl7ParseError", "InboundMessage", "MllpClient", "MllpDecoder", "MllpServer",
    "MllpUnavailable", "NackReceived", "Segment", "UnreadableHook", "build_ack", "build_ack_for_unreadable",
    "build_pid",
    "check_header", "encode_frame", "escape", "hl7_datetime_from_fhir", "hl7_timestamp", "new_control_id",
    "parse", "send", "start_mllp_server", "unescape",
    "Hl7ContentError", "PartlyProcessed", "UnsupportedMessage", "ack_error", "at", "decide",
}


def test_public_surface_is_exactly_the_declared_names() -> None:
    assert set(hl7v2.__all__) == EXPECTED
    assert all(hasattr(hl7v2, name) for name in hl7v2.__all__)


def _imports(path: Path) -> set[str]:
    nodes = list(ast.walk(ast.parse(path.read_text())))
    imported = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    return imported | {node.module or "" for node in nodes if isinstance(node, ast.ImportFrom)}


def test_model_parser_and_framing_do_not_import_asyncio() -> None:
    root = Path(hl7v2.__file__).parent
    for name in ("message", "parser", "escape", "errors", "mllp", "ack", "pid", "timestamps"):
        assert "asyncio" not in _imports(root / f"{name}.py"), name


def test_the_facade_imports_neither_the_server_nor_another_facade() -> None:
    for path in Path(hl7v2.__file__).parent.glob("*.py"):
        for module in _imports(path):
            assert not module.startswith(("server", "terminology")), (path.name, module)
            assert not module.startswith("facades.") or module.startswith("facades.hl7v2"), (path.name, module)
